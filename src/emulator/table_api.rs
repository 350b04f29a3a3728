//! The Table API: `/api/now/table`, `/api/now/v1/table` and `/api/now/v2/table`, list / get / POST /
//! PUT / PATCH / DELETE, with the platform's status codes, envelopes, paging headers and ACL behaviour.
//!
//! Over 500 lines: one surface of the platform (every Table API method with its status codes), kept
//! whole so its behaviour can be compared with docs/reference/servicenow-platform.md §10 in one read.

use std::sync::MutexGuard;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::auth::{self, Caller, ReadAccess};
use super::fixtures::priority;
use super::query::Query;
use super::render::{RenderOpts, render};
use super::reply;
use super::state::{App, lock};
use super::store::{Row, Store, fill_row, text};
use super::{AuditEntry, now_text};

const DEFAULT_LIMIT: usize = 10_000;

/// Routes of the three Table API prefixes.
pub fn routes() -> Router<App> {
    let mut router = Router::new();
    for prefix in ["/api/now/table", "/api/now/v1/table", "/api/now/v2/table"] {
        router = router
            .route(&format!("{prefix}/{{table}}"), get(list).post(create))
            .route(
                &format!("{prefix}/{{table}}/{{sys_id}}"),
                get(get_one).put(update).patch(update).delete(delete),
            );
    }
    router
}

/// Parses a query string into ordered pairs.
pub fn params(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `scheme://host` as the client addressed us (links stay on the same host).
pub fn base_url(app: &App, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{host}", app.scheme)
}

/// 400 when `Accept` is missing, 406 when it excludes JSON (`*/*` is fine).
fn check_accept(headers: &HeaderMap) -> Result<(), Response> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Err(reply::error(
            StatusCode::BAD_REQUEST,
            "Missing Accept header",
            Some("The Table API requires an Accept header such as application/json"),
        ));
    };
    let accept = accept.to_ascii_lowercase();
    if accept.contains("json") || accept.contains("*/*") || accept.contains("application/*") {
        Ok(())
    } else {
        Err(reply::error(
            StatusCode::NOT_ACCEPTABLE,
            "Requested response format is not supported",
            Some("This emulator answers application/json only"),
        ))
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Response> {
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => Err(reply::error(
            StatusCode::BAD_REQUEST,
            "Missing Content-Type header",
            Some("Requests with a body need Content-Type: application/json"),
        )),
        Some(ct) if ct.to_ascii_lowercase().contains("json") => Ok(()),
        Some(_) => Err(reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            Some("Send the record as application/json"),
        )),
    }
}

/// Which headers a request must carry before the store is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// An `Accept` that allows JSON.
    Read,
    /// That, and a JSON `Content-Type` for the record sent (POST, PUT, PATCH).
    Record,
    /// Neither: DELETE is only authenticated.
    Delete,
}

/// The caller and the locked store, once the request passes `gate` in the instance's order:
/// `Accept` (400/406), `Content-Type` (400/415), authentication (401), then the table (400).
pub fn open<'a>(
    app: &'a App,
    headers: &HeaderMap,
    table: &str,
    gate: Gate,
) -> Result<(Caller, MutexGuard<'a, Store>), Response> {
    if gate != Gate::Delete {
        check_accept(headers)?;
    }
    if gate == Gate::Record {
        check_content_type(headers)?;
    }
    let caller = auth::authenticate(app, headers)?;
    let store = lock(&app.db);
    if !store.has_table(table) {
        return Err(invalid_table(table));
    }
    Ok((caller, store))
}

fn invalid_table(table: &str) -> Response {
    reply::error(
        StatusCode::BAD_REQUEST,
        &format!("Invalid table {table}"),
        None,
    )
}

fn no_record() -> Response {
    reply::error(
        StatusCode::NOT_FOUND,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    )
}

fn transaction_cancelled() -> Response {
    reply::json_with(
        StatusCode::OK,
        &json!({
            "error": {
                "message": "Transaction cancelled: maximum execution time exceeded",
                "detail": "Transaction cancelled: maximum execution time exceeded. Check logs for error trace or enable glide.rest.debug property to verify REST request processing",
            },
            "status": "failure",
        }),
    )
}

fn hidden_fn<'a>(store: &'a Store, caller: &'a Caller) -> impl Fn(&str, &str) -> bool + 'a {
    move |table: &str, field: &str| {
        auth::hidden_fields(store, table, caller)
            .iter()
            .any(|f| f == field)
    }
}

/// Rows of `table` matching the request's query (sysparm_query or name=value pairs), sorted.
pub fn matching_rows(
    store: &Store,
    table: &str,
    params: &[(String, String)],
    caller: &Caller,
) -> Vec<Row> {
    let text = match param(params, "sysparm_query") {
        Some(q) => q.to_string(),
        None => params
            .iter()
            .filter(|(k, _)| !k.starts_with("sysparm_") && store.has_column(table, k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("^"),
    };
    let query = Query::parse(&text).prepared(store, table);
    if query.is_invalid()
        && store
            .property("glide.invalid_query.returns_no_rows")
            .as_deref()
            == Some("true")
    {
        return Vec::new();
    }
    let ctx = caller.query_ctx();
    let mut rows: Vec<Row> =
        store.rows_with_children_where(table, |r| query.matches(store, table, r, &ctx));
    query.sort(store, table, &mut rows);
    rows
}

fn is_v1(uri: &Uri) -> bool {
    uri.path().starts_with("/api/now/v1/")
}

async fn list(
    State(app): State<App>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (caller, store) = match open(&app, &headers, &table, Gate::Read) {
        Ok(opened) => opened,
        Err(res) => return res,
    };
    let params = params(raw.as_deref());
    let base = base_url(&app, &headers);
    if app.modes.transaction_cancelled.contains(&table) {
        return transaction_cancelled();
    }
    let access = auth::read_access(&store, &table, &caller);
    if access == ReadAccess::Forbidden {
        return auth::forbidden_read();
    }
    let rows = matching_rows(&store, &table, &params, &caller);
    let total = rows.len();
    let limit = param(&params, "sysparm_limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT);
    let offset = param(&params, "sysparm_offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    // The limit applies before ACL filtering, as on the platform: pages can come back short.
    let opts = RenderOpts::from_params(&params, base.clone());
    let hidden = hidden_fn(&store, &caller);
    let result: Vec<Value> = rows
        .iter()
        .skip(offset)
        .take(limit)
        .filter(|r| auth::row_visible(&access, r, &caller))
        .map(|r| Value::Object(render(&store, &table, r, &opts, &hidden)))
        .collect();
    if result.is_empty() && is_v1(&uri) {
        return no_record();
    }
    let mut res = reply::json_with(StatusCode::OK, &json!({ "result": result }));
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        res.headers_mut().insert("X-Total-Count", v);
    }
    let suppress = param(&params, "sysparm_suppress_pagination_header")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !suppress {
        let link = link_header(&base, uri.path(), &params, offset, limit, total);
        if let Ok(v) = HeaderValue::from_str(&link) {
            res.headers_mut().insert(header::LINK, v);
        }
    }
    res
}

fn link_header(
    base: &str,
    path: &str,
    params: &[(String, String)],
    offset: usize,
    limit: usize,
    total: usize,
) -> String {
    let url = |off: usize| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if k != "sysparm_offset" && k != "sysparm_limit" {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair("sysparm_limit", &limit.to_string());
        ser.append_pair("sysparm_offset", &off.to_string());
        format!("<{base}{path}?{}>", ser.finish())
    };
    let last = if total == 0 {
        0
    } else {
        ((total - 1) / limit) * limit
    };
    let mut links = vec![format!("{};rel=\"first\"", url(0))];
    if offset > 0 {
        links.push(format!(
            "{};rel=\"prev\"",
            url(offset.saturating_sub(limit))
        ));
    }
    if offset + limit < total {
        links.push(format!("{};rel=\"next\"", url(offset + limit)));
    }
    links.push(format!("{};rel=\"last\"", url(last)));
    links.join(",")
}

async fn get_one(
    State(app): State<App>,
    Path((table, sys_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (caller, store) = match open(&app, &headers, &table, Gate::Read) {
        Ok(opened) => opened,
        Err(res) => return res,
    };
    let params = params(raw.as_deref());
    let opts = RenderOpts::from_params(&params, base_url(&app, &headers));
    let access = auth::read_access(&store, &table, &caller);
    if access == ReadAccess::Forbidden {
        return auth::forbidden_read();
    }
    let rows = store.rows_with_children_where(&table, |r| {
        text(r, "sys_id") == sys_id && auth::row_visible(&access, r, &caller)
    });
    let Some(row) = rows.first() else {
        return no_record();
    };
    let hidden = hidden_fn(&store, &caller);
    let body = json!({ "result": render(&store, &table, row, &opts, &hidden) });
    reply::json_with(StatusCode::OK, &body)
}

/// Turns a JSON body into string fields for known columns (unknown fields are ignored).
pub(super) fn body_fields(
    store: &Store,
    table: &str,
    body: &Bytes,
) -> Result<Vec<(String, String)>, Response> {
    let parsed: Value = serde_json::from_slice(body).map_err(|_| {
        reply::error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload is not valid JSON."),
        )
    })?;
    let Value::Object(map) = parsed else {
        return Err(reply::error(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload must be a JSON object."),
        ));
    };
    Ok(map
        .into_iter()
        .filter(|(k, _)| store.has_column(table, k))
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "sys_created_on" | "sys_created_by" | "sys_mod_count"
            )
        })
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                Value::Object(o) => o
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                other => other.to_string(),
            };
            (k, s)
        })
        .collect())
}

/// Platform computations on write: derived priority and the scenario's rewriting business rules.
fn business_rules(app: &App, table: &str, row: &mut Row) {
    if table == "incident"
        && let Some(p) = priority(text(row, "impact"), text(row, "urgency"))
    {
        row.insert("priority".into(), Value::String(p.into()));
    }
    for rule in app.modes.rewrite.iter().filter(|r| r.table == table) {
        let current = text(row, &rule.field).to_string();
        let mut changed = current.clone();
        if let Some(n) = rule.truncate {
            changed = changed.chars().take(n).collect();
        }
        if let Some(hours) = rule.shift_hours
            && let Ok(t) = chrono::NaiveDateTime::parse_from_str(&changed, "%Y-%m-%d %H:%M:%S")
        {
            changed = (t + chrono::Duration::hours(hours))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
        }
        if changed != current {
            row.insert(rule.field.clone(), Value::String(changed));
        }
    }
}

pub(super) fn audit(app: &App, method: &str, table: &str, sys_id: &str, caller: &Caller) {
    lock(&app.audit).push(AuditEntry {
        method: method.to_string(),
        table: table.to_string(),
        sys_id: sys_id.to_string(),
        user: caller.user_name.clone(),
        time: chrono::Utc::now(),
    });
}

async fn create(
    State(app): State<App>,
    Path(table): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (caller, mut store) = match open(&app, &headers, &table, Gate::Record) {
        Ok(opened) => opened,
        Err(res) => return res,
    };
    let params = params(raw.as_deref());
    let base = base_url(&app, &headers);
    if !auth::can_write(&store, &app.modes, &table, "insert", &caller) {
        return auth::forbidden_write("insert");
    }
    let fields = match body_fields(&store, &table, &body) {
        Ok(f) => f,
        Err(res) => return res,
    };
    let row = match insert_row(&app, &mut store, &table, fields, &caller) {
        Ok(row) => row,
        Err(res) => return res,
    };
    let sys_id = text(&row, "sys_id").to_string();
    audit(&app, "POST", &table, &sys_id, &caller);
    let opts = RenderOpts::from_params(&params, base.clone());
    let hidden = hidden_fn(&store, &caller);
    let mut res = reply::json_with(
        StatusCode::CREATED,
        &json!({ "result": render(&store, &table, &row, &opts, &hidden) }),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("{base}/api/now/table/{table}/{sys_id}")) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Inserts a record as `caller` would through the Table API (defaults, number, business rules), without
/// the write ACL check: the Import Set API's transform shares it.
pub fn insert_row(
    app: &App,
    store: &mut Store,
    table: &str,
    fields: Vec<(String, String)>,
    caller: &Caller,
) -> Result<Row, Response> {
    let now = now_text();
    let mut row: Row = Map::new();
    for (k, v) in fields {
        row.insert(k, Value::String(v));
    }
    if text(&row, "sys_id").is_empty() {
        row.insert(
            "sys_id".into(),
            Value::String(uuid::Uuid::new_v4().simple().to_string()),
        );
    }
    let sys_id = text(&row, "sys_id").to_string();
    if store.find(table, &sys_id).is_some() {
        return Err(reply::error(
            StatusCode::FORBIDDEN,
            "Operation Failed",
            Some("Error during insert of a record with a duplicate sys_id"),
        ));
    }
    let mut defaults = vec![
        ("sys_created_on", now.clone()),
        ("sys_updated_on", now.clone()),
        ("sys_created_by", caller.user_name.clone()),
        ("sys_updated_by", caller.user_name.clone()),
        ("sys_mod_count", "0".to_string()),
    ];
    if let Some(prefix) = store.schema(table).number_prefix {
        let counter = store.counters.entry(table.to_string()).or_insert(10_001);
        defaults.push(("number", format!("{prefix}{:07}", *counter)));
        *counter += 1;
        defaults.extend([
            ("opened_by", caller.sys_id.clone()),
            ("opened_at", now.clone()),
            ("state", "1".to_string()),
            ("impact", "3".to_string()),
            ("urgency", "3".to_string()),
            ("active", "true".to_string()),
        ]);
    }
    let columns = store
        .tables
        .get(table)
        .map(|t| t.columns.clone())
        .unwrap_or_default();
    for (k, v) in defaults {
        let empty =
            text(&row, k).is_empty() || k.starts_with("sys_created") || k == "sys_mod_count";
        if columns.iter().any(|c| c == k) && empty {
            row.insert(k.to_string(), Value::String(v));
        }
    }
    fill_row(&mut row, &columns, &now);
    business_rules(app, table, &mut row);
    if let Some(t) = store.tables.get_mut(table) {
        t.rows.push(row.clone());
    }
    Ok(row)
}

/// Whether `caller` may apply `operation` to the record `table`/`sys_id`:
/// 404 for a record that is absent or hidden from the caller, 403 when the operation is not allowed.
fn check_record_write(
    app: &App,
    store: &Store,
    table: &str,
    sys_id: &str,
    caller: &Caller,
    operation: &str,
) -> Result<(), Response> {
    let access = auth::read_access(store, table, caller);
    let visible = store
        .find(table, sys_id)
        .is_some_and(|r| auth::row_visible(&access, r, caller));
    if !visible {
        return Err(no_record());
    }
    if !auth::can_write(store, &app.modes, table, operation, caller) {
        return Err(auth::forbidden_write(operation));
    }
    Ok(())
}

async fn update(
    State(app): State<App>,
    Path((table, sys_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (caller, mut store) = match open(&app, &headers, &table, Gate::Record) {
        Ok(opened) => opened,
        Err(res) => return res,
    };
    let params = params(raw.as_deref());
    if let Err(res) = check_record_write(&app, &store, &table, &sys_id, &caller, "update") {
        return res;
    }
    let fields = match body_fields(&store, &table, &body) {
        Ok(f) => f,
        Err(res) => return res,
    };
    let now = now_text();
    let Some(row) = store
        .tables
        .get_mut(&table)
        .and_then(|t| t.rows.iter_mut().find(|r| text(r, "sys_id") == sys_id))
    else {
        return no_record();
    };
    for (k, v) in fields {
        if k != "sys_id" {
            row.insert(k, Value::String(v));
        }
    }
    let count = text(row, "sys_mod_count").parse::<u64>().unwrap_or(0) + 1;
    row.insert("sys_mod_count".into(), Value::String(count.to_string()));
    row.insert("sys_updated_on".into(), Value::String(now));
    row.insert(
        "sys_updated_by".into(),
        Value::String(caller.user_name.clone()),
    );
    business_rules(&app, &table, row);
    let row = row.clone();
    audit(&app, method.as_str(), &table, &sys_id, &caller);
    let opts = RenderOpts::from_params(&params, base_url(&app, &headers));
    let hidden = hidden_fn(&store, &caller);
    reply::json_with(
        StatusCode::OK,
        &json!({ "result": render(&store, &table, &row, &opts, &hidden) }),
    )
}

async fn delete(
    State(app): State<App>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (caller, mut store) = match open(&app, &headers, &table, Gate::Delete) {
        Ok(opened) => opened,
        Err(res) => return res,
    };
    if let Err(res) = check_record_write(&app, &store, &table, &sys_id, &caller, "delete") {
        return res;
    }
    if let Some(t) = store.tables.get_mut(&table) {
        t.rows.retain(|r| text(r, "sys_id") != sys_id);
    }
    audit(&app, "DELETE", &table, &sys_id, &caller);
    StatusCode::NO_CONTENT.into_response()
}
