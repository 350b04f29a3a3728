//! The other endpoints snowdoctor reads: `/stats.do`, `/xmlstats.do` (gated by
//! `glide.security.diag_txns_acl`), the Aggregate API `/api/now/stats/{table}`, the Batch API
//! `/api/now/v1/batch` and `/api/now/ui/user/current_user`.

use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::BatchApi;
use super::auth::{self, ReadAccess};
use super::state::{App, ConnCtx, lock};
use super::store::text;
use super::table_api::{Gate, matching_rows, open, params};
use super::{gate, reply};

/// Routes of this module.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/stats.do", get(stats))
        .route("/xmlstats.do", get(xmlstats))
        .route("/api/now/stats/{table}", get(aggregate))
        .route("/api/now/v1/stats/{table}", get(aggregate))
        .route("/api/now/v1/batch", post(batch))
        .route("/api/now/batch", post(batch))
        .route("/api/now/ui/user/current_user", get(current_user))
}

fn diag_restricted(app: &App, headers: &HeaderMap) -> bool {
    let store = lock(&app.db);
    let acl_on = store
        .tables
        .get("sys_properties")
        .and_then(|t| {
            t.rows
                .iter()
                .find(|r| text(r, "name") == "glide.security.diag_txns_acl")
        })
        .is_some_and(|r| text(r, "value") == "true");
    drop(store);
    acl_on
        && !auth::authenticate(app, headers)
            .map(|c| c.is_admin())
            .unwrap_or(false)
}

fn restricted_page() -> Response {
    reply::html(
        StatusCode::FORBIDDEN,
        "<!DOCTYPE html><html><head><title>Security restricted</title></head><body>\
         <p>Security restricted: this page is limited to administrators \
         (glide.security.diag_txns_acl).</p></body></html>"
            .into(),
    )
}

async fn stats(State(app): State<App>, headers: HeaderMap) -> Response {
    if diag_restricted(&app, &headers) {
        return restricted_page();
    }
    let b = &app.build;
    let stamp = format!(
        "{}_{}",
        b.tag.strip_prefix("glide-").unwrap_or(&b.tag),
        b.date
    );
    let lines = [
        format!("Build name: {}", b.name()),
        format!("Build date: {}", b.date),
        format!("Build tag: {}", b.tag),
        format!("MID buildstamp: {stamp}"),
        "Instance name: snowdoctor-emulator".to_string(),
        "Node ID: emulator001".to_string(),
        format!(
            "Servlet statistics: {} requests",
            app.requests.load(std::sync::atomic::Ordering::Relaxed)
        ),
    ];
    let body = format!(
        "<html><head><title>ServiceNow Servlet Statistics</title></head><body>\n{}\n</body></html>",
        lines
            .iter()
            .map(|l| format!("{}<br/>", reply::escape(l)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    reply::html(StatusCode::OK, body)
}

async fn xmlstats(State(app): State<App>, headers: HeaderMap) -> Response {
    if diag_restricted(&app, &headers) {
        return restricted_page();
    }
    let b = &app.build;
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><xmlstats>\
         <glide.build.name>{}</glide.build.name><glide.build.date>{}</glide.build.date>\
         <glide.build.tag>{}</glide.build.tag><instance.name>snowdoctor-emulator</instance.name>\
         <servlet.transactions>{}</servlet.transactions></xmlstats>",
        reply::escape(&b.name()),
        reply::escape(&b.date),
        reply::escape(&b.tag),
        app.requests.load(std::sync::atomic::Ordering::Relaxed)
    );
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    res
}

async fn aggregate(
    State(app): State<App>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (caller, store) = match open(&app, &headers, &table, Gate::Read) {
        Ok(opened) => opened,
        Err(res) => return res,
    };
    let params = params(raw.as_deref());
    let access = auth::read_access(&store, &table, &caller);
    if access == ReadAccess::Forbidden {
        return auth::forbidden_read();
    }
    let count = matching_rows(&store, &table, &params, &caller)
        .iter()
        .filter(|r| auth::row_visible(&access, r, &caller))
        .count();
    let wants_count = params
        .iter()
        .any(|(k, v)| k == "sysparm_count" && v.eq_ignore_ascii_case("true"));
    let body = if wants_count {
        json!({"result": {"stats": {"count": count.to_string()}}})
    } else {
        json!({"result": {}})
    };
    reply::json_with(StatusCode::OK, &body)
}

async fn current_user(State(app): State<App>, headers: HeaderMap) -> Response {
    let caller = match auth::authenticate(&app, &headers) {
        Ok(c) => c,
        Err(res) => return res,
    };
    let store = lock(&app.db);
    let Some(user) = store.find("sys_user", &caller.sys_id) else {
        return auth::unauthenticated();
    };
    let body = json!({"result": {
        "user_sys_id": caller.sys_id,
        "user_name": caller.user_name,
        "name": text(user, "name"),
        "first_name": text(user, "first_name"),
        "last_name": text(user, "last_name"),
        "email": text(user, "email"),
        "user_display_name": text(user, "name"),
        "roles": caller.roles,
    }});
    reply::json_with(StatusCode::OK, &body)
}

#[derive(Debug, Deserialize)]
struct BatchRequest {
    #[serde(default)]
    batch_request_id: Value,
    #[serde(default)]
    rest_requests: Vec<BatchItem>,
}

#[derive(Debug, Deserialize)]
struct BatchItem {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    method: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    exclude_response_headers: bool,
}

#[derive(Debug, Deserialize)]
struct NameValue {
    name: String,
    value: String,
}

async fn batch(State(app): State<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(res) = auth::authenticate(&app, &parts.headers) {
        return res;
    }
    let mode = *lock(&app.batch_api);
    match mode {
        BatchApi::On => {}
        BatchApi::Missing => {
            return reply::error(
                StatusCode::NOT_FOUND,
                "Requested URI does not represent any resource",
                None,
            );
        }
        BatchApi::Forbidden => return auth::forbidden_read(),
        BatchApi::RateLimited => {
            let mut res = reply::error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit exceeded",
                Some("The REST rate limit rule for the Batch API is exceeded; retry later."),
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
            return res;
        }
    }
    let Ok(bytes) = body.collect().await.map(|c| c.to_bytes()) else {
        return reply::error(StatusCode::BAD_REQUEST, "Unable to read request", None);
    };
    let Ok(req) = serde_json::from_slice::<BatchRequest>(&bytes) else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload is not a valid batch request."),
        );
    };
    let ctx = parts.extensions.get::<ConnCtx>().cloned();
    let quota = *lock(&app.batch_quota);
    let started = Instant::now();
    // When the running items' time is up: a deadline kept across items, so the timer's rounding
    // (up to a millisecond per sleep) is not added once per item.
    let mut due = tokio::time::Instant::from_std(started);
    let mut serviced = Vec::new();
    let mut unserviced = Vec::new();
    for item in req.rest_requests {
        // Past the transaction quota the platform cancels the batch; what was not run yet is
        // returned, by id, in unserviced_requests.
        if started.elapsed() >= quota {
            unserviced.push(id_text(&item.id));
            continue;
        }
        serviced.push(run_item(&app, &parts.headers, ctx.clone(), item, &mut due).await);
    }
    reply::json_with(
        StatusCode::OK,
        &json!({
            // Always a string on the platform, whatever the client sent: pysnc compares
            // `str(sent) == answer` and rejects a number.
            "batch_request_id": id_text(&req.batch_request_id),
            "serviced_requests": serviced,
            "unserviced_requests": unserviced,
        }),
    )
}

/// A client's id (string or number) as the platform echoes it: a string.
fn id_text(id: &Value) -> String {
    match id {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A header name in the platform's casing (`X-Total-Count`, `Content-Type`, `Link`): the `http`
/// crate stores names in lower case, the platform writes each word capitalised.
pub fn platform_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

async fn run_item(
    app: &App,
    outer: &HeaderMap,
    ctx: Option<ConnCtx>,
    item: BatchItem,
    due: &mut tokio::time::Instant,
) -> Value {
    let started = Instant::now();
    let failure = |message: &str| {
        json!({"id": id_text(&item.id), "status_code": 400, "status_text": "Bad Request", "headers": [],
               "body": "", "execution_time": 0, "error_message": message})
    };
    let Ok(method) = Method::from_bytes(item.method.to_ascii_uppercase().as_bytes()) else {
        return failure("invalid method");
    };
    if !item.url.starts_with("/api/") || item.url.starts_with("/api/now/v1/batch") {
        return failure("url must be a relative /api/ path");
    }
    let body = match item.body.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => match STANDARD.decode(b) {
            Ok(bytes) => bytes,
            Err(_) => return failure("body is not base64"),
        },
        None => Vec::new(),
    };
    let mut builder = http::Request::builder().method(method).uri(&item.url);
    for name in [header::AUTHORIZATION, header::HOST] {
        if let Some(v) = outer.get(&name) {
            builder = builder.header(name, v);
        }
    }
    for h in &item.headers {
        builder = builder.header(h.name.as_str(), h.value.as_str());
    }
    // An item without an Accept header answers in the batch's own format (pysnc sends its items
    // with no Accept of their own; the batch POST carries `Accept: application/json`).
    if !item
        .headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("accept"))
    {
        let accept = outer
            .get(header::ACCEPT)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/json"));
        builder = builder.header(header::ACCEPT, accept);
    }
    let Ok(mut request) = builder.body(Body::from(Bytes::from(body))) else {
        return failure("invalid request headers");
    };
    gate::method_override(&mut request);
    // The platform runs a batch's items one after another inside the instance, each taking its own
    // time: by default the emulated latency (pessimistic: it stands for network and instance time
    // together), or what `Emulator::set_batch_item_latency` says.
    let cost = lock(&app.batch_item_latency).unwrap_or(app.latency);
    if !cost.is_zero() {
        *due = (*due).max(tokio::time::Instant::now() - cost) + cost;
        tokio::time::sleep_until(*due).await;
    }
    if let Some(ctx) = ctx {
        request.extensions_mut().insert(ctx);
    }
    let Some(router) = lock(&app.router).clone() else {
        return failure("emulator not ready");
    };
    let response = match gate::count_api_request(app) {
        Ok(rate) => {
            let Ok(response) = router.oneshot(request).await;
            gate::with_rate_headers(response, rate)
        }
        Err(denied) => *denied,
    };
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let headers: Vec<Value> = if item.exclude_response_headers {
        Vec::new()
    } else {
        parts
            .headers
            .iter()
            .filter_map(|(k, v)| {
                Some(json!({"name": platform_case(k.as_str()), "value": v.to_str().ok()?}))
            })
            .collect()
    };
    json!({
        "id": id_text(&item.id),
        "status_code": parts.status.as_u16(),
        "status_text": parts.status.canonical_reason().unwrap_or(""),
        "headers": headers,
        "body": STANDARD.encode(&bytes),
        "execution_time": started.elapsed().as_millis() as u64,
    })
}
