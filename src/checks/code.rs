//! Finding codes: every finding a check can produce carries a stable code, like cargo-deny's
//! diagnostic codes, and the fix an admin reads is chosen by that code.
//!
//! A check's own codes are written `<check-id>/<name>` (`oauth-entity/inactive`): the check declares
//! each [`Code`] (name and status) in Rust, and its fix text lives in the check's manifest, under
//! `[findings.<name>]` in `checks/<check-id>.toml` — the one copy of a check's remediation. A fix may
//! name what was found through `{placeholders}` the finding fills in ([`Code::arg`]).
//!
//! A few codes belong to no check, because any check can meet them while reading the instance
//! (`needs-admin`, `transaction-quota`, `rate-limited`, `read-failed`). Their fix text is written once,
//! here, in [`COMMON`].
//!
//! Codes never change once released; a unit test asserts they are unique and that each has a fix.

use crate::model::Status;

/// A finding a check can report: its name (unique within the check) and the status it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub name: &'static str,
    pub status: Status,
    /// A code shared by every check ([`COMMON`]), written without a check prefix.
    pub common: bool,
}

impl Code {
    /// A finding that fails the check.
    pub const fn fail(name: &'static str) -> Code {
        Code {
            name,
            status: Status::Fail,
            common: false,
        }
    }

    /// A finding that warns.
    pub const fn warn(name: &'static str) -> Code {
        Code {
            name,
            status: Status::Warn,
            common: false,
        }
    }

    /// A finding that leaves the check undecided.
    pub const fn inconclusive(name: &'static str) -> Code {
        Code {
            name,
            status: Status::Inconclusive,
            common: false,
        }
    }

    const fn common(name: &'static str) -> Code {
        Code {
            name,
            status: Status::Inconclusive,
            common: true,
        }
    }

    /// This code with a value for the fix's `{key}` placeholder.
    pub fn arg(self, key: &'static str, value: impl Into<String>) -> Found {
        Found::from(self).arg(key, value)
    }

    /// The code as printed for check `check`: `check/name`, or the bare name of a common code.
    pub fn full(&self, check: &str) -> String {
        if self.common {
            self.name.to_string()
        } else {
            format!("{check}/{}", self.name)
        }
    }
}

/// A code as found in a run, with the values its fix names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub code: Code,
    pub args: Vec<(&'static str, String)>,
}

impl Found {
    /// Adds a value for the fix's `{key}` placeholder.
    pub fn arg(mut self, key: &'static str, value: impl Into<String>) -> Found {
        self.args.push((key, value.into()));
        self
    }

    /// `template` with each `{key}` replaced by its value.
    pub fn fill(&self, template: &str) -> String {
        let mut text = template.trim().to_string();
        for (key, value) in &self.args {
            text = text.replace(&format!("{{{key}}}"), value);
        }
        text
    }
}

impl From<Code> for Found {
    fn from(code: Code) -> Found {
        Found {
            code,
            args: Vec::new(),
        }
    }
}

/// The diagnosing account may lack the admin role, so a table it read was forbidden or came back
/// empty: the one admin fix.
pub const NEEDS_ADMIN: Code = Code::common("needs-admin");
/// The instance cancelled a read at its transaction quota.
pub const TRANSACTION_QUOTA: Code = Code::common("transaction-quota");
/// The instance's REST rate limit answered 429.
pub const RATE_LIMITED: Code = Code::common("rate-limited");
/// A read failed for another reason (the evidence says which).
pub const READ_FAILED: Code = Code::common("read-failed");

/// The codes every check shares, with their fixes (the only fix text written in Rust).
pub const COMMON: &[(Code, &str)] = &[
    (
        NEEDS_ADMIN,
        "Rerun snowdoctor with an account that has the admin role (Microsoft's prerequisites ask for admin privileges on the instance): the configuration tables these checks read (sys_db_object, sys_scope_privilege, oauth_entity, sys_properties, sys_plugins, the SSO tables and the account fields of sys_user) are readable by admins only, and a non-admin sees them as forbidden or empty.",
    ),
    (
        TRANSACTION_QUOTA,
        "The instance cancelled the request at its transaction quota (System Definition > Transaction Quota Rules, e.g. the REST Table API request timeout): find what makes the query slow (a large table, a heavy business rule or ACL script) or raise the quota, then rerun.",
    ),
    (
        RATE_LIMITED,
        "The instance's REST rate limit was exceeded; wait for the limit to reset (see Retry-After) or raise the limit for the diagnosing account (System Web Services > REST > Rate Limit Rules), then rerun.",
    ),
    (
        READ_FAILED,
        "Rerun when the instance answers these reads; the evidence shows what failed.",
    ),
];

/// The fix of a common code.
pub fn common_fix(code: &Code) -> Option<&'static str> {
    COMMON
        .iter()
        .find(|(c, _)| c.name == code.name && code.common)
        .map(|(_, fix)| *fix)
}

/// Joins fixes: one stands alone, several are numbered.
pub fn join_fixes(fixes: &[String]) -> String {
    match fixes {
        [] => String::new(),
        [one] => one.clone(),
        many => many
            .iter()
            .enumerate()
            .map(|(i, fix)| format!("{}. {fix}", i + 1))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_full_codes_are_prefixed() {
        let found = Code::fail("inactive").arg("entity", "\"Defender\"");
        assert_eq!(
            found.fill("Open {entity} and select Active."),
            "Open \"Defender\" and select Active."
        );
        assert_eq!(found.code.full("oauth-entity"), "oauth-entity/inactive");
        assert_eq!(NEEDS_ADMIN.full("oauth-entity"), "needs-admin");
    }

    #[test]
    fn every_common_code_has_one_fix() {
        for (code, fix) in COMMON {
            assert_eq!(common_fix(code), Some(*fix));
            assert!(!fix.is_empty());
        }
    }
}
