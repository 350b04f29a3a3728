//! The Import Set API's insert, `POST /api/now/import/{staging_table}`, with a synchronous transform:
//! the row is stored in the staging table, the active transform map whose `source_table` is that table
//! (`sys_transform_map`: `name`, `source_table`, `target_table`, `active`, `script`, and `coalesce`, the
//! one coalesce field the emulator models) copies the columns the target also has into a new target
//! record (or, when a record's `coalesce` column equals the staged value, updates that one), and the answer is the documented
//! `{"import_set", "staging_table", "result": [{"transform_map", "table", "display_name",
//! "display_value", "record_link", "status", "sys_id"}]}` with 201, whatever the transform did.
//!
//! A map's `script` is honoured for the two variables transform scripts set to stop a row
//! (ServiceNow "Transformation script variables"): `ignore = true` answers status `ignored`; `error =
//! true` answers status `error` with the `error_message = "…"` the script sets (e.g. "Target record not
//! found", the string ITSMC's dashboard shows for a customised OMS app). With no active map the row stays
//! pending and the answer is status `error`, `error_message` "No transform map found for staging table
//! …" (the platform's exact text there is not documented; this shape is the emulator's choice).
//! Staging rows are never removed: the platform's scheduled cleanup does that.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::auth;
use super::reply;
use super::state::App;
use super::store::{Row, Store, text};
use super::table_api::{Gate, audit, base_url, body_fields, insert_row, open};

/// The transform map table.
const MAPS: &str = "sys_transform_map";

/// Routes of this module.
pub fn routes() -> Router<App> {
    Router::new().route("/api/now/import/{staging}", post(insert))
}

async fn insert(
    State(app): State<App>,
    Path(staging): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (caller, mut store) = match open(&app, &headers, &staging, Gate::Record) {
        Ok(opened) => opened,
        Err(res) => return res,
    };
    if !auth::can_write(&store, &app.modes, &staging, "insert", &caller) {
        return auth::forbidden_write("insert");
    }
    let fields = match body_fields(&store, &staging, &body) {
        Ok(f) => f,
        Err(res) => return res,
    };
    let base = base_url(&app, &headers);
    let set_number = {
        let counter = store
            .counters
            .entry("sys_import_set".to_string())
            .or_insert(10_001);
        let number = format!("ISET{:07}", *counter);
        *counter += 1;
        number
    };
    let staged = match insert_row(&app, &mut store, &staging, fields.clone(), &caller) {
        Ok(row) => row,
        Err(res) => return res,
    };
    audit(&app, "POST", &staging, text(&staged, "sys_id"), &caller);
    let map = active_map(&store, &staging);
    let (result, state) = match map {
        None => (
            json!({
                "transform_map": "",
                "table": "",
                "status": "error",
                "error_message": format!("No transform map found for staging table {staging}"),
            }),
            ("pending", String::new(), String::new()),
        ),
        Some(map) => transform(&app, &mut store, &map, &fields, &caller, &base),
    };
    // the staging row keeps the import set, its state and the target, as sys_import_set_row does
    let staged_id = text(&staged, "sys_id").to_string();
    if let Some(row) = store
        .tables
        .get_mut(&staging)
        .and_then(|t| t.rows.iter_mut().find(|r| text(r, "sys_id") == staged_id))
    {
        for (key, value) in [
            ("sys_import_set", set_number.clone()),
            ("sys_import_state", state.0.to_string()),
            ("sys_target_table", state.1),
            ("sys_target_sys_id", state.2),
        ] {
            row.insert(key.into(), Value::String(value));
        }
    }
    reply::json_with(
        StatusCode::CREATED,
        &json!({
            "import_set": set_number,
            "staging_table": staging,
            "result": [result],
        }),
    )
}

/// The staging table's active transform map.
fn active_map(store: &Store, staging: &str) -> Option<Row> {
    store
        .tables
        .get(MAPS)?
        .rows
        .iter()
        .find(|m| text(m, "source_table") == staging && text(m, "active") != "false")
        .cloned()
}

/// Runs `map` on the staged fields: the transform result and the staging row's (state, target table,
/// target sys_id).
fn transform(
    app: &App,
    store: &mut Store,
    map: &Row,
    fields: &[(String, String)],
    caller: &auth::Caller,
    base: &str,
) -> (Value, (&'static str, String, String)) {
    let name = text(map, "name").to_string();
    let target = text(map, "target_table").to_string();
    let script = text(map, "script");
    let mut result = Map::new();
    result.insert("transform_map".into(), Value::String(name));
    result.insert("table".into(), Value::String(target.clone()));
    if script_sets(script, "ignore") {
        result.insert("status".into(), "ignored".into());
        result.insert(
            "status_message".into(),
            "Row ignored by the transform script".into(),
        );
        return (Value::Object(result), ("ignored", target, String::new()));
    }
    if script_sets(script, "error") {
        let message = quoted_after(script, "error_message")
            .unwrap_or_else(|| "Transform script error".to_string());
        result.insert("status".into(), "error".into());
        result.insert("error_message".into(), Value::String(message));
        return (Value::Object(result), ("error", target, String::new()));
    }
    if !store.has_table(&target) {
        result.insert("status".into(), "error".into());
        result.insert(
            "error_message".into(),
            Value::String(format!("Invalid table {target}")),
        );
        return (Value::Object(result), ("error", target, String::new()));
    }
    let copied: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| !k.starts_with("sys_") && store.has_column(&target, k))
        .cloned()
        .collect();
    if let Some(existing) = coalesced(store, map, &target, &copied) {
        return updated(app, store, &target, &existing, &copied, caller, result);
    }
    let row = match insert_row(app, store, &target, copied, caller) {
        Ok(row) => row,
        Err(_) => {
            result.insert("status".into(), "error".into());
            result.insert(
                "error_message".into(),
                "Unable to insert the target record".into(),
            );
            return (Value::Object(result), ("error", target, String::new()));
        }
    };
    let sys_id = text(&row, "sys_id").to_string();
    audit(app, "POST", &target, &sys_id, caller);
    let display = store
        .schema(&target)
        .display
        .unwrap_or_else(|| "number".into());
    result.insert("display_name".into(), Value::String(display.clone()));
    result.insert(
        "display_value".into(),
        Value::String(text(&row, &display).to_string()),
    );
    result.insert(
        "record_link".into(),
        Value::String(format!("{base}/api/now/table/{target}/{sys_id}")),
    );
    result.insert("status".into(), "inserted".into());
    result.insert("sys_id".into(), Value::String(sys_id.clone()));
    (Value::Object(result), ("inserted", target, sys_id))
}

/// The target record a coalescing map matches: the first whose `coalesce` column equals the staged value.
fn coalesced(
    store: &Store,
    map: &Row,
    target: &str,
    copied: &[(String, String)],
) -> Option<String> {
    let column = text(map, "coalesce");
    let (_, value) = copied.iter().find(|(k, _)| k == column)?;
    store
        .tables
        .get(target)?
        .rows
        .iter()
        .find(|r| text(r, column) == value)
        .map(|r| text(r, "sys_id").to_string())
}

/// Updates the coalesced record with the staged fields and answers status `updated`.
fn updated(
    app: &App,
    store: &mut Store,
    target: &str,
    sys_id: &str,
    copied: &[(String, String)],
    caller: &auth::Caller,
    mut result: Map<String, Value>,
) -> (Value, (&'static str, String, String)) {
    let display = store
        .schema(target)
        .display
        .unwrap_or_else(|| "number".into());
    let mut shown = String::new();
    if let Some(row) = store
        .tables
        .get_mut(target)
        .and_then(|t| t.rows.iter_mut().find(|r| text(r, "sys_id") == sys_id))
    {
        for (key, value) in copied {
            row.insert(key.clone(), Value::String(value.clone()));
        }
        shown = text(row, &display).to_string();
    }
    audit(app, "PATCH", target, sys_id, caller);
    result.insert("display_name".into(), Value::String(display));
    result.insert("display_value".into(), Value::String(shown));
    result.insert("status".into(), "updated".into());
    result.insert("sys_id".into(), Value::String(sys_id.to_string()));
    (
        Value::Object(result),
        ("updated", target.to_string(), sys_id.to_string()),
    )
}

/// True when the script assigns `true` to `variable` (`ignore = true;`).
fn script_sets(script: &str, variable: &str) -> bool {
    script.split(';').any(|statement| {
        let mut parts = statement.splitn(2, '=');
        let (Some(left), Some(right)) = (parts.next(), parts.next()) else {
            return false;
        };
        left.trim() == variable && right.trim() == "true"
    })
}

/// The string literal assigned to `variable` (`error_message = "Target record not found";`).
fn quoted_after(script: &str, variable: &str) -> Option<String> {
    script.split(';').find_map(|statement| {
        let (left, right) = statement.split_once('=')?;
        if left.trim() != variable {
            return None;
        }
        let right = right.trim();
        let quote = right.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        right[1..].split(quote).next().map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_script_variables_are_read() {
        let script = r#"error = true; error_message = "Target record not found";"#;
        assert!(script_sets(script, "error"));
        assert!(!script_sets(script, "ignore"));
        assert_eq!(
            quoted_after(script, "error_message").as_deref(),
            Some("Target record not found")
        );
        assert!(script_sets("ignore=true", "ignore"));
        assert!(!script_sets("ignore = false", "ignore"));
        assert_eq!(quoted_after("error_message = 7", "error_message"), None);
    }
}
