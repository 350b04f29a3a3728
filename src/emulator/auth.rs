//! Who is calling (Basic auth or a Bearer token from `/oauth_token.do`) and what they may do (table read
//! ACLs, write ACLs, per-user denials from the scenario).

use std::time::Instant;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::query::QueryCtx;
use super::reply;
use super::scenario::Modes;
use super::state::{App, lock};
use super::store::{Denied, Row, Store, text};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sys_id: String,
    pub user_name: String,
    pub roles: Vec<String>,
}

impl Caller {
    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }

    /// Values for `javascript:gs.getUserName()` and friends.
    pub fn query_ctx(&self) -> QueryCtx {
        QueryCtx {
            user_name: self.user_name.clone(),
            user_sys_id: self.sys_id.clone(),
        }
    }
}

/// How a read of a table is treated for this caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadAccess {
    All,
    Forbidden,
    /// Only rows whose `own` reference column points at the caller (none when `None`).
    Filter(Option<String>),
}

/// The 401 answer for missing or wrong credentials.
pub fn unauthenticated() -> Response {
    let mut res = reply::error(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        Some("Required to provide Auth information"),
    );
    if let Ok(v) = "BASIC realm=\"Service-now\"".parse() {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// Splits a `Basic` header into user and password.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// True when the user may log in at all (active and not locked out).
pub fn can_log_in(user: &Row) -> bool {
    text(user, "active") == "true" && text(user, "locked_out") != "true"
}

/// Finds a user by user name.
pub fn user_by_name<'a>(store: &'a Store, user_name: &str) -> Option<&'a Row> {
    store
        .tables
        .get("sys_user")?
        .rows
        .iter()
        .find(|r| text(r, "user_name") == user_name)
}

/// Checks a user name and password; the row when they match a user who may log in.
pub fn verify_password<'a>(store: &'a Store, user_name: &str, password: &str) -> Option<&'a Row> {
    let user = user_by_name(store, user_name)?;
    let stored = text(user, "user_password");
    (!stored.is_empty() && stored == password && can_log_in(user)).then_some(user)
}

/// Builds the caller for a user row.
pub fn caller_for(store: &Store, user: &Row) -> Caller {
    let sys_id = text(user, "sys_id").to_string();
    let roles = store
        .tables
        .get("sys_user_has_role")
        .map(|t| {
            t.rows
                .iter()
                .filter(|r| text(r, "user") == sys_id && text(r, "state") == "active")
                .filter_map(|r| store.find("sys_user_role", text(r, "role")))
                .map(|role| text(role, "name").to_string())
                .collect()
        })
        .unwrap_or_default();
    Caller {
        user_name: text(user, "user_name").to_string(),
        sys_id,
        roles,
    }
}

/// Authenticates a request by Basic auth or Bearer token; the 401 response otherwise.
pub fn authenticate(app: &App, headers: &HeaderMap) -> Result<Caller, Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::trim).map(String::from));
    if let Some(token) = bearer {
        let user_sys_id = {
            let tokens = lock(&app.tokens);
            match tokens.get(&token) {
                Some(t) if !t.refresh && t.expires > Instant::now() => t.user_sys_id.clone(),
                _ => return Err(unauthenticated()),
            }
        };
        let store = lock(&app.db);
        return match store.find("sys_user", &user_sys_id) {
            Some(user) if can_log_in(user) => Ok(caller_for(&store, user)),
            _ => Err(unauthenticated()),
        };
    }
    let Some((user, password)) = basic_credentials(headers) else {
        return Err(unauthenticated());
    };
    let store = lock(&app.db);
    match verify_password(&store, &user, &password) {
        Some(row) => Ok(caller_for(&store, row)),
        None => Err(unauthenticated()),
    }
}

/// How `caller` may read `table`.
pub fn read_access(store: &Store, table: &str, caller: &Caller) -> ReadAccess {
    let schema = store.schema(table);
    let Some(acl) = schema.read else {
        return ReadAccess::All;
    };
    if caller.is_admin() || acl.roles.iter().any(|r| caller.roles.contains(r)) {
        return ReadAccess::All;
    }
    match acl.denied {
        Denied::Forbidden => ReadAccess::Forbidden,
        Denied::Filter => ReadAccess::Filter(acl.own),
    }
}

/// True when a row stays visible under `access`.
pub fn row_visible(access: &ReadAccess, row: &Row, caller: &Caller) -> bool {
    match access {
        ReadAccess::All => true,
        ReadAccess::Forbidden => false,
        ReadAccess::Filter(Some(own)) => text(row, own) == caller.sys_id,
        ReadAccess::Filter(None) => false,
    }
}

/// True when `caller` may perform the write `operation` (`insert`, `update`, `delete`) on `table`.
pub fn can_write(
    store: &Store,
    modes: &Modes,
    table: &str,
    operation: &str,
    caller: &Caller,
) -> bool {
    let denied = modes
        .deny
        .iter()
        .any(|d| d.table == table && d.operation == operation && d.user == caller.user_name);
    if denied {
        return false;
    }
    caller.is_admin()
        || store
            .schema(table)
            .write_roles
            .iter()
            .any(|r| caller.roles.contains(r))
}

/// Columns hidden from this caller.
pub fn hidden_fields(store: &Store, table: &str, caller: &Caller) -> Vec<String> {
    if caller.is_admin() {
        Vec::new()
    } else {
        store.schema(table).admin_fields
    }
}

/// The 403 for a role-gated table.
pub fn forbidden_read() -> Response {
    reply::error(
        StatusCode::FORBIDDEN,
        "User Not Authorized",
        Some("Failed API level ACL Validation"),
    )
}

/// The 403 for a write an ACL denies.
pub fn forbidden_write(operation: &str) -> Response {
    let verb = match operation {
        "insert" => "Insert",
        "delete" => "Delete",
        _ => "Update",
    };
    reply::error(
        StatusCode::FORBIDDEN,
        "Operation Failed",
        Some(&format!(
            "ACL Exception {verb} Failed due to security constraints"
        )),
    )
    .into_response()
}
