//! SARIF 2.1.0 for code-scanning services: one rule per check, one result per check that did not pass.
//!
//! Code scanning rejects results without a file location, and a ServiceNow finding has no source file,
//! so each result is anchored to the check's manifest (`checks/<id>.toml`, line 1): the file that
//! defines what was checked and how to fix it.

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag,
    Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultKind,
    ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::view;
use crate::error::Error;
use crate::model::{CheckResult, RunReport, Severity, Status};

/// The published location of the SARIF 2.1.0 schema.
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where a reader of a SARIF log learns about the tool: the repository when the package names one.
fn information_uri() -> String {
    let repository = env!("CARGO_PKG_REPOSITORY");
    if repository.is_empty() {
        format!("https://crates.io/crates/{}", env!("CARGO_PKG_NAME"))
    } else {
        repository.to_string()
    }
}

/// Renders the SARIF log as pretty JSON.
pub fn render(report: &RunReport) -> Result<String, Error> {
    let rules: Vec<ReportingDescriptor> = report.checks.iter().map(rule).collect();
    let results: Vec<SarifResult> = report
        .checks
        .iter()
        .enumerate()
        .filter(|(_, check)| check.status != Status::Pass)
        .map(|(index, check)| result(report, index, check))
        .collect();
    let driver = ToolComponent::builder()
        .name(report.tool.name.clone())
        .version(report.tool.version.clone())
        .semantic_version(report.tool.version.clone())
        .information_uri(information_uri())
        .rules(rules)
        .build();
    let mut properties = BTreeMap::new();
    properties.insert("instance".to_string(), report.instance.clone().into());
    properties.insert("profile".to_string(), report.profile.clone().into());
    properties.insert("verdict".to_string(), report.verdict.status.as_str().into());
    properties.insert(
        "headline".to_string(),
        report.verdict.headline.clone().into(),
    );
    // run-level notes (the Azure ranges used and their age, read-only mode, …)
    if !report.notes.is_empty() {
        properties.insert("notes".to_string(), report.notes.clone().into());
    }
    let run = Run::builder()
        .tool(Tool::from(driver))
        .results(results)
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build();
    let mut text = serde_json::to_string_pretty(&log)
        .map_err(|e| Error::Report(format!("cannot serialise the SARIF log: {e}")))?;
    text.push('\n');
    Ok(text)
}

fn text(value: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder()
        .text(value.into())
        .build()
}

/// The rule a check defines; its help is the check's fix when the run produced one.
fn rule(check: &CheckResult) -> ReportingDescriptor {
    let help = match &check.remediation {
        Some(fix) => fix.clone(),
        None => format!(
            "No fix needed in this run. `snowdoctor explain {}` tells what the check reads and how to fix a failure.",
            check.id
        ),
    };
    let full = format!(
        "{}. Area: {}; severity: {}. Defined in {}; `snowdoctor explain {}` gives the details.",
        check.title,
        view::area_title(check.area),
        view::severity_word(check.severity),
        check.manifest,
        check.id
    );
    let configuration = ReportingConfiguration::builder()
        .level(serde_json::Value::from(
            severity_level(check.severity).to_string(),
        ))
        .build();
    let properties = PropertyBag::builder()
        .tags(vec![
            "snowdoctor".to_string(),
            check.area.as_str().to_string(),
        ])
        .build();
    // The rule is the finding code when the check reported one (`oauth-entity/inactive`), so code
    // scanning groups results by cause; a passing check's rule is the check itself.
    let base = ReportingDescriptor::builder()
        .id(rule_id(check))
        .name(pascal_case(&rule_id(check)))
        .short_description(text(check.title.clone()))
        .full_description(text(full))
        .help(text(help))
        .default_configuration(configuration)
        .properties(properties);
    match check.docs.first() {
        Some(uri) => base.help_uri(uri.clone()).build(),
        None => base.build(),
    }
}

fn result(report: &RunReport, index: usize, check: &CheckResult) -> SarifResult {
    let mut message = check.summary.clone();
    if let Some(reason) = view::blocked_reason(report, check) {
        message = format!("{} ({reason})", message.trim_end_matches('.'));
    }
    if let Some(fix) = &check.remediation {
        message = format!("{message} Fix: {fix}");
    }
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(check.manifest.clone())
                        .build(),
                )
                .region(Region::builder().start_line(1).build())
                .build(),
        )
        .build();
    let evidence: Vec<serde_json::Value> = check
        .evidence
        .iter()
        .map(|e| serde_json::json!({ "label": e.label, "value": e.value }))
        .collect();
    let mut properties = BTreeMap::new();
    properties.insert("status".to_string(), check.status.as_str().into());
    properties.insert("rootCause".to_string(), check.root_cause.into());
    properties.insert("evidence".to_string(), evidence.into());
    let (kind, level) = classify(check);
    if check.codes.len() > 1 {
        properties.insert("codes".to_string(), check.codes.clone().into());
    }
    properties.insert("check".to_string(), check.id.clone().into());
    SarifResult::builder()
        .rule_id(rule_id(check))
        .rule_index(i64::try_from(index).unwrap_or(i64::MAX))
        .kind(kind)
        .level(level)
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build()
}

/// SARIF's kind and level: only `fail` results carry a level other than `none` (SARIF 2.1.0 §3.27.9,
/// https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).
/// Failures take their check's severity; warnings are warnings; undecided checks (inconclusive, or
/// blocked by another check) are notes; skipped checks are "not applicable".
fn classify(check: &CheckResult) -> (ResultKind, ResultLevel) {
    match check.status {
        Status::Fail => (ResultKind::Fail, severity_level(check.severity)),
        Status::Warn => (ResultKind::Fail, ResultLevel::Warning),
        Status::Inconclusive | Status::Blocked | Status::NotAssessed | Status::Interrupted => {
            (ResultKind::Fail, ResultLevel::Note)
        }
        Status::Skipped | Status::Pass => (ResultKind::NotApplicable, ResultLevel::None),
    }
}

fn severity_level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

/// The SARIF rule of a check's result: its first finding code, else the check id.
fn rule_id(check: &CheckResult) -> String {
    check
        .codes
        .first()
        .cloned()
        .unwrap_or_else(|| check.id.clone())
}

/// `oauth-entity-cross-scope` → `OauthEntityCrossScope`, SARIF's customary rule-name shape.
fn pascal_case(id: &str) -> String {
    id.split(['-', '_', '/'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}
