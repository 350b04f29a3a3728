//! The integration user: its record (never the password), its roles, and how it is found through the
//! roles of the app's scope when nobody named it.

use std::collections::BTreeMap;

use serde_json::Map;

use crate::config::Profile;
use crate::servicenow::{Row, TableQuery};

/// The `sys_user` fields read (never the password).
pub const USER_FIELDS: [&str; 11] = [
    "sys_id",
    "user_name",
    "name",
    "email",
    "active",
    "locked_out",
    "failed_attempts",
    "password_needs_reset",
    "web_service_access_only",
    "internal_integration_user",
    "identity_type",
];

/// The named user's record (shared with `sso-interference`, so it is fetched once).
pub fn user_query(name: &str) -> TableQuery {
    TableQuery::new("sys_user")
        .eq("user_name", name)
        .fields(USER_FIELDS)
}

/// The named user's active roles.
pub fn roles_query(name: &str) -> TableQuery {
    TableQuery::new("sys_user_has_role")
        .eq("user.user_name", name)
        .eq("state", "active")
        .fields(["role", "role.name", "state"])
}

/// Users holding a role of the app's scope, with their account fields dot-walked.
pub fn discovery_query(scope: &str) -> TableQuery {
    let mut fields = vec!["role".to_string(), "role.name".to_string()];
    fields.extend(USER_FIELDS.iter().map(|f| format!("user.{f}")));
    TableQuery::new("sys_user_has_role")
        .query(format!("role.nameSTARTSWITH{scope}.^state=active"))
        .fields(fields)
}

/// The entity's OAuth Application User, by sys_id (client credentials only).
pub fn application_user_query(sys_id: &str) -> TableQuery {
    TableQuery::new("sys_user")
        .eq("sys_id", sys_id)
        .fields(USER_FIELDS)
}

/// The integration user named with `--integration-user` or in the profile.
pub fn named(profile: &Profile) -> Option<&str> {
    profile
        .integration_user
        .as_deref()
        .filter(|n| !n.trim().is_empty())
}

/// A role row's role name (dot-walked, else the reference's display value).
pub fn role_name(row: &Row) -> String {
    row.value("role.name")
        .filter(|n| !n.is_empty())
        .or_else(|| row.display("role"))
        .unwrap_or("")
        .to_string()
}

/// The role names of `sys_user_has_role` rows, in order, without empty ones.
pub fn role_names(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .map(role_name)
        .filter(|name| !name.is_empty())
        .collect()
}

/// Users (by user name) with their dot-walked record and their roles of the app.
pub fn holders(rows: &[Row]) -> BTreeMap<String, (Row, Vec<String>)> {
    let mut users: BTreeMap<String, (Row, Vec<String>)> = BTreeMap::new();
    for row in rows {
        let mut user = Map::new();
        for (key, value) in &row.0 {
            if let Some(field) = key.strip_prefix("user.") {
                user.insert(field.to_string(), value.clone());
            }
        }
        let user = Row(user);
        let name = user.text("user_name").to_string();
        if name.is_empty() {
            continue;
        }
        let entry = users.entry(name).or_insert_with(|| (user, Vec::new()));
        entry.1.push(role_name(row));
    }
    users
}

/// The first user (by name) holding a role of the app, from a [`discovery_query`] read.
pub fn discovered(rows: &[Row]) -> Option<Row> {
    holders(rows).into_values().next().map(|(user, _)| user)
}
