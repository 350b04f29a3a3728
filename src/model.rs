//! What every reporter reads: check identities, statuses, findings and the run report.
//!
//! The JSON report is this module serialised; its schema (`snowdoctor schema`) is generated from these
//! types, so a field added here is a schema change and must be additive.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the JSON report schema. Bump the minor for additive changes, the major for breaking ones.
pub const REPORT_SCHEMA_VERSION: &str = "1.1";

/// The functional area a check belongs to; `--only`/`--skip` accept these names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Connectivity,
    Version,
    App,
    CrossScope,
    OauthEntity,
    IntegrationUser,
    Privileges,
    Sso,
    IpAllowlist,
    Connect,
    RoundTrip,
}

impl Area {
    /// Every area, in the order reports group them.
    pub const ALL: [Area; 11] = [
        Area::Connectivity,
        Area::Version,
        Area::Privileges,
        Area::App,
        Area::CrossScope,
        Area::OauthEntity,
        Area::IntegrationUser,
        Area::Sso,
        Area::IpAllowlist,
        Area::Connect,
        Area::RoundTrip,
    ];

    /// The snake_case name used in manifests and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Connectivity => "connectivity",
            Area::Version => "version",
            Area::App => "app",
            Area::CrossScope => "cross_scope",
            Area::OauthEntity => "oauth_entity",
            Area::IntegrationUser => "integration_user",
            Area::Privileges => "privileges",
            Area::Sso => "sso",
            Area::IpAllowlist => "ip_allowlist",
            Area::Connect => "connect",
            Area::RoundTrip => "round_trip",
        }
    }

    /// Parses a snake_case area name.
    pub fn parse(name: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|area| area.as_str() == name)
    }
}

impl std::fmt::Display for Area {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a check's failure is; `--fail-on` compares findings against it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

/// The outcome of one check.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The check looked and found nothing wrong.
    Pass,
    /// Something works but is fragile or unusual.
    Warn,
    /// The check found a problem that breaks the integration.
    Fail,
    /// The check could not decide (the summary says why).
    Inconclusive,
    /// A prerequisite did not pass (named in `blocked_by`).
    Blocked,
    /// Deselected, or not applicable to this run.
    Skipped,
    /// Verdict only: the instance could not be assessed (unreachable, or the diagnosing account
    /// could not sign in), so no check's status says anything about the integration.
    NotAssessed,
    /// The run was stopped by a signal (SIGINT, SIGTERM, SIGHUP) before it finished: the verdict only.
    Interrupted,
}

impl Status {
    /// Lower-case name, as in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Inconclusive => "inconclusive",
            Status::Blocked => "blocked",
            Status::Skipped => "skipped",
            Status::NotAssessed => "not_assessed",
            Status::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One observed fact supporting a check's status: a label and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// What was looked at, e.g. `sys_db_object[oauth_entity].access`.
    pub label: String,
    /// What was found there, as text.
    pub value: String,
}

impl Evidence {
    /// Builds an evidence line.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Evidence {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// A timed step of a multi-step check (the connect and the round trip).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    pub name: String,
    pub status: Status,
    pub detail: String,
    pub duration_ms: u64,
}

/// The result of one check in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    /// Stable kebab-case id, e.g. `instance-version`.
    pub id: String,
    pub title: String,
    pub area: Area,
    pub severity: Severity,
    pub status: Status,
    /// One sentence: what was found.
    pub summary: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Stable finding codes behind the status, most important first (`oauth-entity/inactive`, or a
    /// code every check shares such as `needs-admin`); the remediation is their fixes, in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// How to fix a failure; present when status is fail, warn or inconclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    #[serde(default)]
    pub docs: Vec<String>,
    /// Checks whose failure blocked this one.
    #[serde(default)]
    pub blocked_by: Vec<String>,
    /// Timed sub-steps, for the connect and the round trip.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// What explains this result when it failed too: a check id (the connect refused because
    /// `oauth-entity` failed on the entity it uses), or one finding code of a check
    /// (`integration-user/missing-roles`), which explains only when that check failed with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explained_by: Vec<String>,
    /// True when this failure is a root cause: its own prerequisites passed and no failing check
    /// explains it.
    #[serde(default)]
    pub root_cause: bool,
    pub duration_ms: u64,
    /// Where the check is defined, relative to the project root (`checks/<id>.toml`).
    pub manifest: String,
}

/// The overall answer of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Verdict {
    /// `pass`, `warn`, `fail`, `inconclusive`, or `not_assessed` when a gate check (connectivity, the
    /// diagnosing account) failed or could not decide.
    pub status: Status,
    /// One line for humans.
    pub headline: String,
    /// Ids of the failing checks whose own prerequisites passed, most severe first.
    pub root_causes: Vec<String>,
}

/// A record the run wrote to the instance (only the round trip writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WrittenRecord {
    pub table: String,
    pub sys_id: String,
    #[serde(default)]
    pub number: String,
    /// `deleted`, `closed`, or `leftover` when cleanup failed.
    pub state: WriteState,
}

/// What became of a record the run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteState {
    /// Removed, and (unless the record says otherwise) confirmed gone.
    Deleted,
    /// Deletion was denied; the record was closed instead (`--close-if-delete-denied`).
    Closed,
    /// Still on the instance: `snowdoctor cleanup` removes it.
    Leftover,
}

impl WriteState {
    /// The report's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteState::Deleted => "deleted",
            WriteState::Closed => "closed",
            WriteState::Leftover => "leftover",
        }
    }
}

impl std::fmt::Display for WriteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a run found: the input of every report format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    pub schema_version: String,
    pub tool: ToolInfo,
    /// RFC 3339 start time.
    pub started_at: String,
    pub duration_ms: u64,
    /// Instance base URL (host only, no credentials).
    pub instance: String,
    /// The target's name when the run is one of a fleet (`run --targets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Profile name (`m365-security-center` by default).
    pub profile: String,
    /// The diagnosing account's user name.
    #[serde(default)]
    pub user: String,
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
    /// Records the run created on the instance and what became of them.
    #[serde(default)]
    pub writes: Vec<WrittenRecord>,
    /// Run-level notes: warnings about flags (`--insecure`), read-only mode, etc.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Who produced the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    /// This build of snowdoctor.
    pub fn current() -> Self {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

impl RunReport {
    /// Counts checks by status, in `Status` order.
    pub fn counts(&self) -> Vec<(Status, usize)> {
        let all = [
            Status::Pass,
            Status::Warn,
            Status::Fail,
            Status::Inconclusive,
            Status::Blocked,
            Status::Skipped,
        ];
        all.into_iter()
            .map(|status| {
                (
                    status,
                    self.checks.iter().filter(|c| c.status == status).count(),
                )
            })
            .collect()
    }

    /// The check with this id, if it ran.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
}
