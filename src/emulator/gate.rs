//! What happens before a request reaches an endpoint: latency, injected faults, hibernation, an HTML
//! interstitial, IP Address Access Control (against the configured client address, never a request
//! header) and rate limiting.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::reply;
use super::state::{App, ConnCtx, lock};
use super::store::{Store, text};
use super::{FaultKind, RATE_LIMIT_RULE};

/// The middleware.
pub async fn gate(State(app): State<App>, request: Request, next: Next) -> Response {
    app.requests.fetch_add(1, Ordering::Relaxed);
    if !app.latency.is_zero() {
        tokio::time::sleep(app.latency).await;
    }
    let ctx = request.extensions().get::<ConnCtx>().cloned();
    if let Some(kind) = take_fault(&app, &request) {
        return fault_response(&app, kind, ctx).await;
    }
    if app.modes.hibernating {
        return reply::hibernation_page();
    }
    if app.modes.interstitial {
        return reply::interstitial_page();
    }
    let client = app
        .client_ip
        .or_else(|| ctx.as_ref().map(|c| c.peer.ip()))
        .map(|ip| ip.to_canonical());
    if let Some(ip) = client
        && ip_blocked(&lock(&app.db), ip)
    {
        return reply::ip_blocked_page();
    }
    let mut rate_headers = None;
    if request.uri().path().starts_with("/api/") {
        match count_api_request(&app) {
            Ok(headers) => rate_headers = headers,
            Err(denied) => return *denied,
        }
    }
    let mut res = next.run(request).await;
    if let Some((limit, reset)) = rate_headers {
        add_rate_headers(&mut res, limit, reset);
    }
    res
}

/// Counts one REST API request against the rate limit: the limit and reset time to report, or the 429
/// once the limit is spent. A Batch API item counts as a request of its own (rate-limit rules apply
/// to the API each item calls).
pub fn count_api_request(app: &App) -> Result<Option<(u32, SystemTime)>, Box<Response>> {
    let mut rate = lock(&app.rate);
    rate.roll(SystemTime::now());
    let Some(limit) = rate.limit else {
        return Ok(None);
    };
    rate.used = rate.used.saturating_add(1);
    let denied = rate.used > limit;
    let reset = rate.reset_at;
    drop(rate);
    if denied {
        return Err(Box::new(rate_limited(limit, reset)));
    }
    Ok(Some((limit, reset)))
}

/// Adds the rate-limit headers an API answer carries under a rate-limit rule.
pub fn with_rate_headers(mut res: Response, headers: Option<(u32, SystemTime)>) -> Response {
    if let Some((limit, reset)) = headers {
        add_rate_headers(&mut res, limit, reset);
    }
    res
}

fn take_fault(app: &App, request: &Request) -> Option<FaultKind> {
    let mut faults = lock(&app.faults);
    let path = request.uri().path();
    let index = faults.iter().position(|f| {
        f.remaining != Some(0)
            && f.fault
                .method
                .as_ref()
                .is_none_or(|m| m == request.method())
            && path.starts_with(&f.fault.path_prefix)
    })?;
    let active = &mut faults[index];
    if let Some(n) = active.remaining.as_mut() {
        *n = n.saturating_sub(1);
    }
    Some(active.fault.kind.clone())
}

async fn fault_response(app: &App, kind: FaultKind, ctx: Option<ConnCtx>) -> Response {
    match kind {
        FaultKind::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (message, detail) = match code {
                401 => (
                    "User Not Authenticated",
                    "Required to provide Auth information",
                ),
                403 => (
                    "Operation Failed",
                    "ACL Exception Update Failed due to security constraints",
                ),
                404 => (
                    "No Record found",
                    "Record doesn't exist or ACL restricts the record retrieval",
                ),
                _ => (
                    status.canonical_reason().unwrap_or("Error"),
                    "Injected fault",
                ),
            };
            reply::error(status, message, Some(detail))
        }
        FaultKind::Reset => {
            if let Some(ctx) = ctx {
                ctx.kill.cancel();
            }
            // The connection is torn down under us; never answer.
            app.shutdown.cancelled().await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        FaultKind::Timeout => {
            app.shutdown.cancelled().await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        FaultKind::Truncated => {
            let partial =
                Bytes::from_static(b"{\"result\":[{\"sys_id\":\"6816f79cc0a8016401c5a33b");
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(partial),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "injected truncation",
                )),
            ]);
            let mut res = Response::new(Body::from_stream(stream));
            let headers = res.headers_mut();
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("4096"));
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            res
        }
        FaultKind::Malformed => {
            let mut res = (
                StatusCode::OK,
                "{\"result\":[{\"sys_id\":\"abc\",\"name\":}",
            )
                .into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            res
        }
        FaultKind::Html => reply::interstitial_page(),
        FaultKind::RateLimited => {
            let reset = lock(&app.rate).reset_at;
            rate_limited(100, reset)
        }
    }
}

/// `X-http-method-override` on a POST to the REST API (c_RESTAPI.md): the request is served as the
/// named method. Other methods, and unknown or unsafe names, keep the method sent.
pub fn method_override<B>(request: &mut http::Request<B>) {
    if request.method() != Method::POST || !request.uri().path().starts_with("/api/") {
        return;
    }
    let wanted = request
        .headers()
        .get("x-http-method-override")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_uppercase());
    let method = match wanted.as_deref() {
        Some("GET") => Method::GET,
        Some("HEAD") => Method::HEAD,
        Some("PUT") => Method::PUT,
        Some("PATCH") => Method::PATCH,
        Some("DELETE") => Method::DELETE,
        _ => return,
    };
    *request.method_mut() = method;
}

fn epoch(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn rate_limited(limit: u32, reset: SystemTime) -> Response {
    let mut res = reply::error(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded",
        Some(&format!(
            "Rate limit of {limit} requests per hour for Table API exceeded"
        )),
    );
    add_rate_headers(&mut res, limit, reset);
    let wait = reset.duration_since(SystemTime::now()).unwrap_or_default();
    let retry = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&retry.max(1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn add_rate_headers(res: &mut Response, limit: u32, reset: SystemTime) {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&limit.to_string()) {
        h.insert("X-RateLimit-Limit", v);
    }
    if let Ok(v) = HeaderValue::from_str(&epoch(reset).to_string()) {
        h.insert("X-RateLimit-Reset", v);
    }
    h.insert(
        "X-RateLimit-Rule",
        HeaderValue::from_static(RATE_LIMIT_RULE),
    );
}

/// An active inbound ip_access rule, parsed; malformed, reversed or mixed-family rows are skipped.
fn rules(store: &Store) -> Vec<(bool, IpAddr, IpAddr)> {
    let Some(table) = store.tables.get("ip_access") else {
        return Vec::new();
    };
    table
        .rows
        .iter()
        .filter(|r| text(r, "active") == "true")
        .filter(|r| matches!(text(r, "flow"), "inbound" | "bidirectional"))
        .filter_map(|r| {
            let allow = match text(r, "type") {
                "allow" => true,
                "deny" => false,
                _ => return None,
            };
            let start: IpAddr = text(r, "range_start").trim().parse().ok()?;
            let end_text = text(r, "range_end").trim();
            let end: IpAddr = if end_text.is_empty() {
                start
            } else {
                end_text.parse().ok()?
            };
            (start.is_ipv4() == end.is_ipv4() && start <= end).then_some((allow, start, end))
        })
        .collect()
}

/// Blocked ⇔ inside some Deny range and outside every Allow range.
pub fn ip_blocked(store: &Store, ip: IpAddr) -> bool {
    let rules = rules(store);
    let inside = |allow: bool| {
        rules
            .iter()
            .any(|(a, s, e)| *a == allow && s.is_ipv4() == ip.is_ipv4() && *s <= ip && ip <= *e)
    };
    inside(false) && !inside(true)
}
