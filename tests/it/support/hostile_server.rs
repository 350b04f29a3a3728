//! A tiny misbehaving HTTP server for the hostile-input tests: plain tokio TCP on 127.0.0.1:0, one
//! request per connection, answering whatever the test's handler says — well-formed or not. Every loop is
//! bounded in count and time, and the server (with every connection it holds) stops when it is dropped.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Most connections one server accepts; a client stuck in a retry loop cannot keep it busy forever.
const MAX_CONNECTIONS: usize = 64;
/// Longest a server lives, whatever the test does.
const LIFETIME: Duration = Duration::from_secs(120);
/// Longest any one connection is served (a `Silent` reply holds the socket this long at most).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// Largest request head or body read.
const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// A request as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True for a request carrying credentials.
    pub fn authenticated(&self) -> bool {
        self.header("authorization").is_some()
    }

    /// True for the anonymous reachability probe of the connectivity check.
    pub fn is_reachability_probe(&self) -> bool {
        self.method == "GET"
            && !self.authenticated()
            && self.target.starts_with("/api/now/table/sys_user")
    }
}

/// What the server does with a connection once it has read the request.
pub enum Reply {
    /// Writes these bytes, then closes (a truncated body is just a `Content-Length` that lies).
    Raw(Vec<u8>),
    /// Closes with a TCP reset.
    Reset,
    /// Never answers; the connection is held until the server stops.
    Silent,
    /// Writes one byte every `every`.
    Trickle { bytes: Vec<u8>, every: Duration },
    /// Writes `head`, then `total` bytes of JSON-ish filler.
    Huge { head: String, total: usize },
}

/// An HTTP/1.1 response with `Connection: close` and a correct `Content-Length`.
pub fn http(status: u16, content_type: &str, extra: &[(&str, &str)], body: &str) -> Reply {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    Reply::Raw(bytes)
}

/// A JSON response.
pub fn json(status: u16, body: &str) -> Reply {
    http(status, "application/json;charset=UTF-8", &[], body)
}

/// An HTML response.
pub fn html(status: u16, body: &str) -> Reply {
    http(status, "text/html;charset=UTF-8", &[], body)
}

/// The platform's error envelope.
pub fn envelope(status: u16, message: &str, detail: &str) -> Reply {
    json(
        status,
        &serde_json::json!({"error": {"message": message, "detail": detail}, "status": "failure"})
            .to_string(),
    )
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// A running hostile server; stops when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileServer {
    /// Starts a server; `handler` gets each request and how many requests came before it.
    pub fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Self {
        let handler: Arc<Handler> = Arc::new(handler);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("local addr");
        let thread = {
            let requests = requests.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("test runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    let serve = accept_loop(listener, handler, requests);
                    tokio::select! {
                        _ = serve => {}
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep(LIFETIME) => {}
                    }
                });
                // Dropping the runtime drops every connection task (and every held socket).
            })
        };
        HostileServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    handler: Arc<Handler>,
    requests: Arc<Mutex<Vec<Request>>>,
) {
    for _ in 0..MAX_CONNECTIONS {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let handler = handler.clone();
        let requests = requests.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, serve_one(socket, handler, requests))
                .await;
        });
    }
}

async fn serve_one(
    mut socket: TcpStream,
    handler: Arc<Handler>,
    requests: Arc<Mutex<Vec<Request>>>,
) -> std::io::Result<()> {
    let request = tokio::time::timeout(Duration::from_secs(10), read_request(&mut socket))
        .await
        .map_err(|_| std::io::Error::new(ErrorKind::TimedOut, "request head"))??;
    let seen = {
        let mut all = requests.lock().map_err(|_| ErrorKind::Other)?;
        all.push(request.clone());
        all.len() - 1
    };
    match handler(&request, seen) {
        Reply::Raw(bytes) => {
            socket.write_all(&bytes).await?;
            socket.flush().await?;
            let _ = socket.shutdown().await;
        }
        Reply::Reset => socket.set_zero_linger()?,
        Reply::Silent => tokio::time::sleep(CONNECTION_LIFETIME).await,
        Reply::Trickle { bytes, every } => {
            for byte in bytes {
                socket.write_all(&[byte]).await?;
                socket.flush().await?;
                tokio::time::sleep(every).await;
            }
        }
        Reply::Huge { head, total } => {
            socket.write_all(head.as_bytes()).await?;
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                let n = chunk.len().min(total - sent);
                socket.write_all(&chunk[..n]).await?;
                sent += n;
            }
            let _ = socket.shutdown().await;
        }
    }
    Ok(())
}

/// Reads one request head (and a `Content-Length` body), bounded in size.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            return Err(ErrorKind::InvalidData.into());
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_REQUEST_BYTES);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Request {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A TLS listener with a freshly generated self-signed certificate nobody trusts, answering every request
/// with an empty Table API list. Stops when dropped.
pub struct UntrustedTlsServer {
    port: u16,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UntrustedTlsServer {
    /// Starts the server on 127.0.0.1:0.
    pub fn start() -> Self {
        let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
            .expect("self-signed certificate");
        let cert = key.cert.der().clone();
        let private = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()),
        );
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], private)
        .expect("server config");
        let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let stop = CancellationToken::new();
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("test runtime");
                runtime.block_on(async move {
                    let app = axum::Router::new().fallback(|| async {
                        ([("content-type", "application/json")], "{\"result\":[]}")
                    });
                    let Ok(server) = axum_server::from_tcp_rustls(listener, tls) else {
                        return;
                    };
                    tokio::select! {
                        _ = server.serve(app.into_make_service()) => {}
                        _ = stop.cancelled() => {}
                        _ = tokio::time::sleep(LIFETIME) => {}
                    }
                });
            })
        };
        UntrustedTlsServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for UntrustedTlsServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
