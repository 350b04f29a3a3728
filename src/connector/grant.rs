//! The system properties that govern the token grants, and the account lockout threshold that decides
//! whether a password grant may be attempted at all.

use crate::servicenow::{Row, TableQuery};

/// The OAuth master switch (`oauth-platform`'s declarative probe builds the same query).
pub const OAUTH_ACTIVE: &str = "com.snc.platform.security.oauth.is.active";
/// Disables the resource-owner password grant (default false).
pub const ROPC_DISABLED: &str = "glide.oauth.inbound.ropc.grant_type.disabled";
/// Enables the client-credentials grant (absent by default).
pub const CC_ENABLED: &str = "glide.oauth.inbound.client.credential.grant_type.enabled";
/// Failed logins after which the *SNC User Lockout Check* script actions lock the account: the one
/// that makes `failed_attempts` exceed this value locks it (Security Center hardening item "Limit
/// Allowed Number of Failed Login Attempts Before Lockout").
pub const MAX_UNLOCK_ATTEMPTS: &str = "glide.user.max_unlock_attempts";
/// The platform's fallback when [`MAX_UNLOCK_ATTEMPTS`] is not set.
pub const DEFAULT_MAX_UNLOCK_ATTEMPTS: i64 = 5;

/// The fix when the grant snowdoctor tests with is switched off: the connector itself uses the
/// authorization-code grant, so the setting is a hardening choice to keep, not a fault to undo.
pub const GRANT_OFF_FIX: &str = "Prove the connection with --grant refresh-token and a refresh token the integration user obtains through the consent page (Not You, sign in, Allow). Keep the setting: the connector itself uses the authorization-code grant, not this one.";

/// The grant properties.
pub fn properties_query() -> TableQuery {
    TableQuery::new("sys_properties")
        .query(format!("nameIN{ROPC_DISABLED},{CC_ENABLED}"))
        .fields(["name", "value"])
}

/// The master switch.
pub fn oauth_active_query() -> TableQuery {
    TableQuery::new("sys_properties")
        .query(format!("name={OAUTH_ACTIVE}"))
        .fields(["name", "value"])
}

/// The lockout threshold property.
pub fn lockout_query() -> TableQuery {
    TableQuery::new("sys_properties")
        .query(format!("name={MAX_UNLOCK_ATTEMPTS}"))
        .fields(["name", "value"])
}

/// The property row named `name`, if present.
pub fn property<'r>(rows: &'r [Row], name: &str) -> Option<&'r Row> {
    rows.iter().find(|r| r.text("name") == name)
}

/// The lockout threshold from a [`lockout_query`] read (the platform default when unset or unreadable
/// as a number).
pub fn lockout_threshold(rows: &[Row]) -> i64 {
    property(rows, MAX_UNLOCK_ATTEMPTS)
        .and_then(|row| row.text("value").trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_UNLOCK_ATTEMPTS)
}

/// Why a password grant for `user` must not be sent: one more failed attempt would lock the account
/// (the lockout script locks once `failed_attempts` exceeds the threshold). `None` when it is safe.
pub fn lockout_risk(user: &Row, threshold: i64) -> Option<String> {
    let failed: i64 = user.text("failed_attempts").trim().parse().ok()?;
    (failed >= threshold).then(|| {
        format!(
            "{} has {failed} failed login attempt(s) and the instance locks the account after {threshold} ({MAX_UNLOCK_ATTEMPTS}): one more failed password grant would lock it out",
            user.text("user_name")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: serde_json::Value) -> Row {
        Row::from_value(value)
    }

    #[test]
    fn threshold_defaults_to_five_and_reads_the_property() {
        assert_eq!(lockout_threshold(&[]), 5);
        let rows = [row(json!({"name": MAX_UNLOCK_ATTEMPTS, "value": "10"}))];
        assert_eq!(lockout_threshold(&rows), 10);
        let rows = [row(json!({"name": MAX_UNLOCK_ATTEMPTS, "value": "x"}))];
        assert_eq!(lockout_threshold(&rows), 5);
    }

    #[test]
    fn a_grant_is_withheld_only_one_failure_short_of_the_lockout() {
        let user = |n: &str| row(json!({"user_name": "u", "failed_attempts": n}));
        assert!(lockout_risk(&user("4"), 5).is_none());
        assert!(lockout_risk(&user("5"), 5).is_some());
        assert!(lockout_risk(&user("8"), 10).is_none());
        assert!(lockout_risk(&user(""), 5).is_none());
    }
}
