//! A misbehaving instance made from a well-behaved one: a plain-HTTP proxy on loopback in front of the
//! emulator that forwards every request and lets the test rewrite any answer (status and body) or hold a
//! request — how a buggy business rule, a rewriting gateway or a hostile server looks to the client.
//! It logs every request with the moment it arrived, so a test can prove what was (not) sent after a
//! point in time. Stops when dropped; bounded in lifetime like the other test servers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use snowdoctor::emulator::Emulator;
use tokio_util::sync::CancellationToken;

/// Longest a proxy lives, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(180);
/// Largest request or response body forwarded.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub at: Instant,
}

impl Seen {
    /// True for a request to `/api/now/table/TABLE` or below.
    pub fn is_table(&self, table: &str) -> bool {
        let prefix = format!("/api/now/table/{table}");
        self.target == prefix
            || self.target.starts_with(&format!("{prefix}/"))
            || self.target.starts_with(&format!("{prefix}?"))
    }

    /// True for a token request (any grant).
    pub fn is_token(&self) -> bool {
        self.target.starts_with("/oauth_token.do")
    }

    /// True for a request that writes (anything but GET).
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }
}

/// When the proxy answers a request it has forwarded.
pub enum Before {
    Forward,
    /// The instance has done the work, but its answer reaches the client this much later.
    AnswerAfter(Duration),
}

/// What a test may change: called with the request and the emulator's status and body; returns the
/// status and body the client gets.
type Rewrite = dyn Fn(&Seen, u16, String) -> (u16, String) + Send + Sync;
type Hold = dyn Fn(&Seen) -> Before + Send + Sync;

struct Shared {
    upstream: String,
    http: reqwest::Client,
    rewrite: Box<Rewrite>,
    hold: Box<Hold>,
    log: Mutex<Vec<Seen>>,
}

/// The proxy; stops when dropped.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// A proxy in front of `emu` applying `rewrite` to every answer.
    pub fn start(
        emu: &Emulator,
        rewrite: impl Fn(&Seen, u16, String) -> (u16, String) + Send + Sync + 'static,
    ) -> Proxy {
        Proxy::with_hold(emu, rewrite, |_| Before::Forward)
    }

    /// A proxy that may also hold requests before forwarding them.
    pub fn with_hold(
        emu: &Emulator,
        rewrite: impl Fn(&Seen, u16, String) -> (u16, String) + Send + Sync + 'static,
        hold: impl Fn(&Seen) -> Before + Send + Sync + 'static,
    ) -> Proxy {
        let pem = emu.ca_pem().expect("the emulator serves TLS");
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).expect("emulator CA");
        let http = reqwest::Client::builder()
            .tls_certs_only(certs)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("proxy client");
        let shared = Arc::new(Shared {
            upstream: emu.base_url(),
            http,
            rewrite: Box::new(rewrite),
            hold: Box::new(hold),
            log: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("local addr").port();
        let stop = CancellationToken::new();
        let thread = {
            let (stop, shared) = (stop.clone(), shared.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let app = axum::Router::new().fallback(forward).with_state(shared);
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        () = stop.cancelled() => {}
                        () = tokio::time::sleep(LIFETIME) => {}
                    }
                });
            })
        };
        Proxy {
            port,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn forward(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        target: target.clone(),
        at: Instant::now(),
    };
    if let Ok(mut log) = shared.log.lock() {
        log.push(seen.clone());
    }
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let mut upstream = shared
        .http
        .request(parts.method.clone(), format!("{}{target}", shared.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            upstream = upstream.header(name, value);
        }
    }
    let (status, headers, text) = match upstream.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            (status, headers, text)
        }
        Err(_) => (502, HeaderMap::new(), String::new()),
    };
    if let Before::AnswerAfter(wait) = (shared.hold)(&seen) {
        tokio::time::sleep(wait).await;
    }
    let (status, text) = (shared.rewrite)(&seen, status, text);
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in &headers {
        if matches!(
            name.as_str(),
            "content-type" | "x-total-count" | "retry-after" | "location" | "www-authenticate"
        ) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    if !response.headers().contains_key("content-type") {
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
    }
    response
}
