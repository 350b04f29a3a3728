//! The result of a fleet run: every target's [`RunReport`] and a summary a support engineer reads first
//! (target, verdict, root cause, duration). The fleet JSON report is [`FleetReport`] serialised; its
//! schema is `snowdoctor schema --targets`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::exit;
use crate::model::{RunReport, Status, ToolInfo};

/// Version of the fleet JSON report schema (the runs inside follow the run report's own version).
pub const FLEET_SCHEMA_VERSION: &str = "1.0";

/// What `run --targets FILE --format json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FleetReport {
    pub schema_version: String,
    /// The report of every target that ran, in the targets file's order; `target` names each.
    pub runs: Vec<RunReport>,
    pub summary: FleetSummary,
}

/// One line per target, and the fleet's exit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FleetSummary {
    pub tool: ToolInfo,
    /// RFC 3339 start time.
    pub started_at: String,
    pub duration_ms: u64,
    /// The worst target's exit code (README, "Exit codes").
    pub exit_code: u8,
    /// Every target of the file, in its order, including those that could not run.
    pub targets: Vec<TargetSummary>,
}

/// How one target went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TargetSummary {
    pub name: String,
    pub instance: String,
    /// The run's verdict; absent when the target could not run (see `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Status>,
    /// The verdict's headline, or the error.
    pub headline: String,
    /// Ids of the failing checks whose own prerequisites passed.
    #[serde(default)]
    pub root_causes: Vec<String>,
    pub duration_ms: u64,
    /// What `snowdoctor run` would have exited with for this target alone.
    pub exit_code: u8,
    /// Why the target could not run (a usage error such as an unset secret variable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TargetSummary {
    /// The line of a target that ran.
    pub fn ran(name: &str, report: &RunReport, exit_code: u8) -> TargetSummary {
        TargetSummary {
            name: name.to_string(),
            instance: report.instance.clone(),
            verdict: Some(report.verdict.status),
            headline: report.verdict.headline.clone(),
            root_causes: report.verdict.root_causes.clone(),
            duration_ms: report.duration_ms,
            exit_code,
            error: None,
        }
    }

    /// The line of a target that could not run.
    pub fn failed(
        name: &str,
        instance: &str,
        error: String,
        exit_code: u8,
        duration_ms: u64,
    ) -> TargetSummary {
        TargetSummary {
            name: name.to_string(),
            instance: instance.to_string(),
            verdict: None,
            headline: error.clone(),
            root_causes: Vec::new(),
            duration_ms,
            exit_code,
            error: Some(error),
        }
    }

    /// The verdict column: the status, or `error`.
    pub fn verdict_word(&self) -> &'static str {
        self.verdict.map_or("error", Status::as_str)
    }

    /// The root-cause column: the root causes, else the error, else `-`.
    pub fn root_cause_text(&self) -> String {
        if !self.root_causes.is_empty() {
            self.root_causes.join(", ")
        } else if let Some(error) = &self.error {
            error.clone()
        } else {
            "-".into()
        }
    }
}

impl FleetSummary {
    /// A summary whose exit code is the worst of its targets'.
    pub fn new(started_at: String, duration_ms: u64, targets: Vec<TargetSummary>) -> FleetSummary {
        FleetSummary {
            tool: ToolInfo::current(),
            started_at,
            duration_ms,
            exit_code: exit::worst(targets.iter().map(|t| t.exit_code)),
            targets,
        }
    }
}
