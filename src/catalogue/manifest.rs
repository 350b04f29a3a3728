//! The manifest format: metadata, remediation, documentation, and the probe (a built-in Rust check or a
//! declarative table probe).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::line_of;
use crate::error::{Error, Result};
use crate::model::{Area, Severity, Status};

/// One check's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Stable kebab-case id; never changes once released.
    pub id: String,
    pub title: String,
    pub area: Area,
    pub severity: Severity,
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Why the check matters.
    pub description: String,
    /// What it reads on the instance (tables, fields, endpoints).
    #[serde(default)]
    pub looks_at: Vec<String>,
    /// How to fix a failure in general (`explain`, and a finding without a code of its own).
    pub remediation: String,
    /// The fix of each finding code the check reports, by name (`[findings.inactive]` is the fix of
    /// `<id>/inactive`); see `src/checks/code.rs`.
    #[serde(default)]
    pub findings: BTreeMap<String, FindingFix>,
    #[serde(default)]
    pub docs: Vec<String>,
    /// A failure of this check means the instance could not be assessed (exit code 3).
    #[serde(default)]
    pub gate: bool,
    /// Absent for a built-in check whose name is the id (`builtin` defaults to the id).
    #[serde(default = "Probe::by_id")]
    pub probe: Probe,
    /// Where the manifest came from (set by the loader, not written in the file).
    #[serde(skip)]
    pub manifest_path: String,
}

impl Manifest {
    /// Sort key following [`Area::ALL`].
    pub fn area_rank(&self) -> usize {
        Area::ALL
            .iter()
            .position(|a| *a == self.area)
            .unwrap_or(usize::MAX)
    }
}

/// How a check gathers and judges its facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Probe {
    /// A check written in Rust (`src/checks/<name>.rs`).
    Builtin { builtin: String },
    /// A declarative Table API probe.
    Table(TableProbe),
}

impl Probe {
    /// The built-in probe named like the check; the parser fills in the id.
    fn by_id() -> Probe {
        Probe::Builtin {
            builtin: String::new(),
        }
    }
}

/// The fix of one finding code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingFix {
    /// What to do; `{placeholders}` are filled from what the check found.
    pub fix: String,
}

/// `[probe]` with `table = …`: read rows, then assert on their fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableProbe {
    pub table: String,
    /// Encoded query; `{app_scope}`, `{integration_user}` and `{oauth_entity}` are replaced from the profile.
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub fields: Vec<String>,
    /// What the row count must be.
    #[serde(default)]
    pub expect: RowExpectation,
    /// Status when the row-count expectation is not met.
    #[serde(default = "default_violation_status")]
    pub expect_status: Status,
    /// Message when the row-count expectation is not met.
    #[serde(default)]
    pub expect_message: String,
    /// Summary when every assertion holds.
    #[serde(default)]
    pub pass_message: String,
    #[serde(default, rename = "assert")]
    pub assertions: Vec<Assertion>,
}

/// Expected number of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowExpectation {
    /// At least one row (the assertions apply to every row).
    #[default]
    AtLeastOne,
    /// No row may match.
    None,
    /// Any number of rows.
    Any,
}

/// An assertion on a field of every returned row. Exactly one comparison is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    pub field: String,
    /// Stored value or label must equal this (case-insensitive).
    #[serde(default)]
    pub equals: Option<String>,
    #[serde(default)]
    pub not_equals: Option<String>,
    /// Stored value or label must be one of these (case-insensitive).
    #[serde(default)]
    pub one_of: Vec<String>,
    #[serde(default)]
    pub not_empty: bool,
    /// Status when the assertion fails.
    #[serde(default = "default_violation_status")]
    pub status: Status,
    pub message: String,
}

fn default_violation_status() -> Status {
    Status::Fail
}

/// The specific problem with a `[probe]` table that matches neither probe kind: its line and a message
/// naming the offending key. `None` when the probe is not the problem.
fn probe_problem(text: &str) -> Option<(usize, String)> {
    let document: toml::Table = toml::from_str(text).ok()?;
    let probe = document.get("probe")?.as_table()?;
    let header = text
        .lines()
        .position(|l| l.trim() == "[probe]")
        .map_or(1, |i| i + 1);
    let key_line = |key: &str| {
        text.lines()
            .enumerate()
            .skip(header)
            .find(|(_, l)| {
                let l = l.trim_start();
                l.starts_with(key) && l[key.len()..].trim_start().starts_with('=')
            })
            .map_or(header, |(i, _)| i + 1)
    };
    if probe.contains_key("builtin") {
        let extra = probe.keys().find(|k| *k != "builtin")?;
        return Some((
            key_line(extra),
            format!(
                "[probe] names a built-in check, which takes no other key: remove `{extra}` (or remove `builtin` to write a table probe)"
            ),
        ));
    }
    if !probe.contains_key("table") {
        let keys: Vec<&str> = probe.keys().map(String::as_str).collect();
        return Some((
            header,
            format!(
                "[probe] needs either `builtin = \"<check>\"` or `table = \"<table>\"`; it has {}",
                if keys.is_empty() {
                    "no keys".to_string()
                } else {
                    format!("only {}", keys.join(", "))
                }
            ),
        ));
    }
    let error = TableProbe::deserialize(toml::Value::Table(probe.clone())).err()?;
    let message = error.message().trim().to_string();
    let line = message.split('`').nth(1).map_or(header, key_line);
    Some((line, format!("[probe] (a table probe): {message}")))
}

/// Parses and checks one manifest.
pub fn parse(path: &Path, text: &str) -> Result<Manifest> {
    let mut manifest: Manifest = toml::from_str(text).map_err(|e| {
        // serde's untagged enum says only "did not match any variant": say which key is wrong.
        let (line, message) = probe_problem(text).unwrap_or_else(|| {
            (
                e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
                e.message().trim().to_string(),
            )
        });
        Error::Manifest {
            path: path.to_path_buf(),
            line,
            message,
        }
    })?;
    let problem = |message: String| Error::Manifest {
        path: path.to_path_buf(),
        line: 1,
        message,
    };
    let valid_id = !manifest.id.is_empty()
        && manifest
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_id {
        return Err(problem(format!(
            "id {:?} must be kebab-case (a-z, 0-9, -)",
            manifest.id
        )));
    }
    if manifest.depends_on.contains(&manifest.id) {
        return Err(problem(format!(
            "check {:?} depends on itself",
            manifest.id
        )));
    }
    if let Probe::Builtin { builtin } = &mut manifest.probe
        && builtin.is_empty()
    {
        builtin.clone_from(&manifest.id);
    }
    for (name, finding) in &manifest.findings {
        if finding.fix.trim().is_empty() {
            return Err(problem(format!("finding {name:?} has an empty fix")));
        }
    }
    if let Probe::Table(table) = &manifest.probe {
        for assertion in &table.assertions {
            let comparisons = usize::from(assertion.equals.is_some())
                + usize::from(assertion.not_equals.is_some())
                + usize::from(!assertion.one_of.is_empty())
                + usize::from(assertion.not_empty);
            if comparisons != 1 {
                return Err(problem(format!(
                    "assertion on {:?} needs exactly one of equals, not_equals, one_of, not_empty",
                    assertion.field
                )));
            }
        }
    }
    manifest.manifest_path = match path.strip_prefix("checks") {
        Ok(_) => path.display().to_string(),
        Err(_) => path.display().to_string(),
    };
    Ok(manifest)
}
