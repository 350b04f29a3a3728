//! Test helpers shared by every check's unit tests: one `Settings` and `Context` builder (a new
//! `Settings` field is one edit here) and facts built by hand.

use serde_json::Value;

use super::Context;
use crate::config::{Profile, Settings};
use crate::runner::facts::{Fact, FactError, FactKey, FactValue, Identity};
use crate::servicenow::oauth::Grant;
use crate::servicenow::table::TableRows;
use crate::servicenow::{ClientError, Row};

/// Settings of a run with the default (Microsoft 365) profile, no secrets and no option set.
pub fn settings() -> Settings {
    Settings {
        profile: Profile::builtin().remove(0),
        client_id: None,
        grant: Grant::Password,
        read_only: false,
        close_if_delete_denied: false,
        batch: true,
        cloud: crate::profile::Cloud::Public,
        service_tags: None,
        service_tag_selection: Vec::new(),
        service_ips: Vec::new(),
        export_allow_rules: None,
        has_client_secret: false,
        has_integration_password: false,
        has_refresh_token: false,
    }
}

/// A context with [`settings`], diagnosing as `admin`.
pub fn context() -> Context {
    context_with(|_| {})
}

/// A context whose profile and settings `edit` adjusts.
pub fn context_with(edit: impl FnOnce(&mut Settings)) -> Context {
    let mut settings = settings();
    edit(&mut settings);
    Context {
        settings,
        user: "admin".into(),
        instance: "https://example.service-now.com".into(),
        now: chrono::Utc::now(),
    }
}

/// The diagnosing account, with roles.
pub fn who(roles: Option<&[&str]>) -> (FactKey, Fact) {
    (
        FactKey::WhoAmI,
        Ok(FactValue::Identity(Identity {
            user_name: "diag".into(),
            sys_id: "1".into(),
            roles: roles.map(|r| r.iter().map(|s| s.to_string()).collect()),
        })),
    )
}

/// An admin caller.
pub fn admin() -> (FactKey, Fact) {
    who(Some(&["admin"]))
}

/// A caller with roles but no admin.
pub fn non_admin() -> (FactKey, Fact) {
    who(Some(&["itil"]))
}

/// Rows of a table read, from JSON objects.
pub fn rows(key: FactKey, rows: Vec<Value>) -> (FactKey, Fact) {
    let rows = rows.into_iter().map(Row::from_value).collect();
    (key, Ok(FactValue::Rows(TableRows { rows, total: None })))
}

/// A 403 on a fact.
pub fn forbidden(key: FactKey) -> (FactKey, Fact) {
    (
        key,
        Err(FactError::Client(ClientError::Forbidden {
            message: "Operation Failed".into(),
            detail: "ACL Exception".into(),
        })),
    )
}

/// `{display_value, value}`, the shape of a field read with `sysparm_display_value=all`.
pub fn dv(value: &str, label: &str) -> Value {
    serde_json::json!({"display_value": label, "value": value})
}
