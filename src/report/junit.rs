//! JUnit XML for CI: one test suite per area, one test case per check named `<area>::<id> — <title>`
//! (stable across runs, so CI history lines up). Fail is a failure carrying the summary and the fix,
//! inconclusive an error, the gate check that left the instance not assessed an error, skipped and
//! blocked are skipped with the reason; warnings pass with the warning in `system-out`. Run-level notes
//! are `note` properties of the first suite.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::view;
use crate::error::Error;
use crate::model::{CheckResult, RunReport, Status};

/// Renders the JUnit XML document.
pub fn render(report: &RunReport) -> Result<String, Error> {
    let mut junit = Report::new(report.tool.name.as_str());
    junit.set_time(Duration::from_millis(report.duration_ms));
    if let Ok(started) = chrono::DateTime::parse_from_rfc3339(&report.started_at) {
        junit.set_timestamp(started);
    }
    for (index, (area, checks)) in view::by_area(report).into_iter().enumerate() {
        let mut suite = TestSuite::new(area.as_str());
        let total: u64 = checks.iter().map(|c| c.duration_ms).sum();
        suite.set_time(Duration::from_millis(total));
        suite.add_property(("instance", report.instance.as_str()));
        suite.add_property(("profile", report.profile.as_str()));
        // run-level notes (the Azure ranges used and their age, read-only mode, …), said once
        if index == 0 {
            for note in &report.notes {
                suite.add_property(("note", note.as_str()));
            }
        }
        for check in checks {
            suite.add_test_case(test_case(report, check));
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .map_err(|e| Error::Report(format!("cannot write the JUnit report: {e}")))
}

/// The stable, readable test-case name.
pub fn case_name(check: &CheckResult) -> String {
    format!("{}::{} — {}", check.area, check.id, check.title)
}

/// One check as a test case (the fleet's suites reuse it).
pub(super) fn test_case(report: &RunReport, check: &CheckResult) -> TestCase {
    let status = match check.status {
        Status::Pass | Status::Warn => TestCaseStatus::success(),
        // A check never carries `interrupted` (only the verdict does); it would be an error if it did.
        Status::Fail | Status::Inconclusive | Status::NotAssessed | Status::Interrupted => {
            // A gate check that stopped the assessment is an error of the run, not a finding.
            let not_assessed = report.verdict.status == Status::NotAssessed
                && report.verdict.root_causes.contains(&check.id);
            let (kind, word) = match check.status {
                _ if not_assessed => (NonSuccessKind::Error, Status::NotAssessed),
                Status::Fail => (NonSuccessKind::Failure, Status::Fail),
                other => (NonSuccessKind::Error, other),
            };
            let mut status = TestCaseStatus::non_success(kind);
            status
                .set_message(check.summary.as_str())
                .set_type(match check.codes.first() {
                    Some(code) => {
                        format!("{} ({}): {code}", word, view::severity_word(check.severity))
                    }
                    None => format!("{} ({})", word, view::severity_word(check.severity)),
                })
                .set_description(details(check));
            status
        }
        Status::Skipped | Status::Blocked => {
            let mut status = TestCaseStatus::skipped();
            status
                .set_message(view::not_run_reason(report, check))
                .set_type(check.status.as_str());
            status
        }
    };
    let mut case = TestCase::new(case_name(check), status);
    case.set_classname(format!("snowdoctor.{}", check.area))
        .set_time(Duration::from_millis(check.duration_ms));
    if check.status == Status::Warn {
        case.set_system_out(format!("warning: {}\n{}", check.summary, details(check)));
    }
    case
}

/// Evidence, fix and links as plain text for the failure body.
fn details(check: &CheckResult) -> String {
    let mut text = format!("{}\n", check.summary);
    if !check.codes.is_empty() {
        text.push_str(&format!("Codes: {}\n", check.codes.join(", ")));
    }
    for evidence in &check.evidence {
        text.push_str(&format!("  {}: {}\n", evidence.label, evidence.value));
    }
    if let Some(fix) = &check.remediation {
        text.push_str(&format!("Fix: {fix}\n"));
    }
    for doc in &check.docs {
        text.push_str(&format!("Docs: {doc}\n"));
    }
    text.push_str(&format!("Defined in {}\n", check.manifest));
    text
}
