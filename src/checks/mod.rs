//! Built-in checks: one file per check, file name = check id. A check names the facts it needs and
//! evaluates them purely; it never does I/O, so it can be unit-tested from facts built by hand.

pub mod code;
pub mod connectivity;
pub mod connector_app;
pub mod declarative;
pub mod diagnosing_account;
pub mod diagnosing_privileges;
pub mod findings;
pub mod forbidden_roles;
pub mod instance_version;
pub mod integration_user;
pub mod ip_allowlist;
pub mod oauth_connect;
pub mod oauth_entity;
pub mod oauth_entity_cross_scope;
pub mod oauth_grant;
pub mod plugins_active;
pub mod probe_endpoint;
pub mod redirect_url;
pub mod refresh_token_lifespan;
pub mod sso_interference;
pub mod supported_release;
pub mod table_read_access;
#[cfg(test)]
pub(crate) mod test_support;
pub mod ticket_round_trip;

pub use code::{Code, Found};

use crate::config::Settings;
use crate::model::{Evidence, Status, Step};
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::ClientError;

/// What every check can read besides its facts.
#[derive(Debug, Clone)]
pub struct Context {
    pub settings: Settings,
    /// The diagnosing account's user name.
    pub user: String,
    pub instance: String,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// What a check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub steps: Vec<Step>,
    /// What explains this outcome (the connect refused because the entity is inactive): a check
    /// id, or one finding code of a check (`integration-user/missing-roles`); when that check fails
    /// (with that finding), it is the root cause, not this check.
    pub explained_by: Vec<String>,
    /// The finding codes behind the status, most important first; the runner picks the fix by code.
    pub codes: Vec<Found>,
}

impl Outcome {
    /// An outcome with a status and summary.
    pub fn new(status: Status, summary: impl Into<String>) -> Outcome {
        Outcome {
            status,
            summary: summary.into(),
            evidence: Vec::new(),
            steps: Vec::new(),
            explained_by: Vec::new(),
            codes: Vec::new(),
        }
    }

    pub fn pass(summary: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, summary)
    }

    pub fn warn(summary: impl Into<String>) -> Outcome {
        Outcome::new(Status::Warn, summary)
    }

    pub fn fail(summary: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, summary)
    }

    pub fn inconclusive(summary: impl Into<String>) -> Outcome {
        Outcome::new(Status::Inconclusive, summary)
    }

    pub fn skipped(summary: impl Into<String>) -> Outcome {
        Outcome::new(Status::Skipped, summary)
    }

    /// Adds an evidence line.
    pub fn with(mut self, label: impl Into<String>, value: impl Into<String>) -> Outcome {
        self.evidence.push(Evidence::new(label, value));
        self
    }

    /// Records the finding code behind this outcome (its fix comes from the manifest).
    pub fn code(mut self, found: impl Into<Found>) -> Outcome {
        let found = found.into();
        if !self.codes.contains(&found) {
            self.codes.push(found);
        }
        self
    }

    /// Records several finding codes, in order.
    pub fn codes(self, found: impl IntoIterator<Item = Found>) -> Outcome {
        found.into_iter().fold(self, Outcome::code)
    }

    /// The fix the runner would show for this outcome of check `check` (tests read it).
    #[cfg(test)]
    pub fn rendered_fix(&self, check: &str) -> String {
        let catalogue = crate::catalogue::Catalogue::load(None).expect("embedded catalogue");
        let manifest = catalogue.get(check).expect("known check");
        let fixes: Vec<String> = self
            .codes
            .iter()
            .filter_map(|found| crate::runner::fix_text(manifest, found))
            .collect();
        code::join_fixes(&fixes)
    }

    /// The standard answer when a fact could not be gathered: access problems are "inconclusive — run
    /// with an admin account", never pass or fail.
    pub fn from_fact_error(error: &FactError, what: &str) -> Outcome {
        match error {
            FactError::Client(ClientError::Forbidden { message, detail }) => Outcome::inconclusive(
                format!("cannot read {what}: access denied ({message}); run with an admin account"),
            )
            .with("error", format!("403 {message}: {detail}"))
            .code(code::NEEDS_ADMIN),
            FactError::Client(e @ ClientError::RateLimited { .. }) => {
                Outcome::inconclusive(format!("cannot read {what}: {e}")).code(code::RATE_LIMITED)
            }
            FactError::Client(e @ ClientError::TransactionCancelled) => {
                Outcome::inconclusive(format!("cannot read {what}: {e}"))
                    .code(code::TRANSACTION_QUOTA)
            }
            other => Outcome::inconclusive(format!("cannot read {what}: {other}"))
                .code(code::READ_FAILED),
        }
    }
}

/// A check written in Rust.
pub trait Check: Send + Sync {
    /// The name manifests use in `probe.builtin` (= the check id and file name).
    fn name(&self) -> &'static str;
    /// Every finding code this check can report; the manifest gives each one's fix.
    fn codes(&self) -> &'static [Code];
    /// The facts this check needs.
    fn needs(&self, ctx: &Context) -> Vec<FactKey>;
    /// Pure evaluation of the gathered facts.
    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome;
}

/// Every built-in check, in one list (help, `list` and validation read it).
pub static BUILTIN: &[&dyn Check] = &[
    &connectivity::Connectivity,
    &diagnosing_account::DiagnosingAccount,
    &instance_version::InstanceVersion,
    &supported_release::SupportedRelease,
    &diagnosing_privileges::DiagnosingPrivileges,
    &connector_app::ConnectorApp,
    &plugins_active::PluginsActive,
    &oauth_entity_cross_scope::OauthEntityCrossScope,
    &oauth_entity::OauthEntity,
    &oauth_grant::OauthGrant,
    &redirect_url::RedirectUrlCheck,
    &refresh_token_lifespan::RefreshTokenLifespan,
    &integration_user::IntegrationUser,
    &forbidden_roles::ForbiddenRoles,
    &table_read_access::TableReadAccess,
    &sso_interference::SsoInterference,
    &ip_allowlist::IpAllowlist,
    &oauth_connect::OauthConnect,
    &probe_endpoint::ProbeEndpoint,
    &ticket_round_trip::TicketRoundTrip,
];

/// The built-in check with this name.
pub fn builtin(name: &str) -> Option<&'static dyn Check> {
    BUILTIN.iter().copied().find(|c| c.name() == name)
}

/// Names of every built-in check.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|c| c.name()).collect()
}
