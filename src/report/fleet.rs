//! The formats of a fleet run (`run --targets`): one summary table (target, verdict, root cause,
//! duration) then each target's own report; JSON is [`FleetReport`]; JUnit has one test suite per
//! target. `--report-dir` writes every single-run format of every target into a folder of its own.

use std::path::{Path, PathBuf};
use std::time::Duration;

use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{Format, RenderInput, junit, markdown, terminal, view};
use crate::error::Error;
use crate::fleet::{FleetReport, TargetSummary};
use crate::secrets::SecretRegistry;

/// The formats a fleet renders as one document (stdout or `--report FMT=PATH`).
pub const FLEET_FORMATS: &[Format] = &[Format::Terminal, Format::Json, Format::Junit, Format::Md];

/// One target's report with its transcript, for `--report-dir`.
pub struct TargetRun<'a> {
    pub name: &'a str,
    pub input: RenderInput<'a>,
}

/// Renders the fleet as one document; formats outside [`FLEET_FORMATS`] are a usage error.
pub fn render_fleet(
    format: Format,
    fleet: &FleetReport,
    color: bool,
    width: usize,
) -> Result<String, Error> {
    match format {
        Format::Terminal => Ok(terminal_text(fleet, color, width)),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(fleet)
                .map_err(|e| Error::Report(format!("cannot serialise the fleet report: {e}")))?;
            text.push('\n');
            Ok(text)
        }
        Format::Junit => junit_text(fleet),
        Format::Md => Ok(markdown_text(fleet)),
        Format::Sarif | Format::Html | Format::Har => Err(Error::Usage(format!(
            "--format {format} describes one instance; with --targets use terminal, json, junit or md, \
             and --report-dir DIR for every format of every target"
        ))),
    }
}

fn summary_rows(fleet: &FleetReport) -> impl Iterator<Item = [String; 4]> + '_ {
    fleet.summary.targets.iter().map(|t| {
        [
            t.name.clone(),
            t.verdict_word().to_string(),
            t.root_cause_text(),
            view::duration(t.duration_ms),
        ]
    })
}

const COLUMNS: [&str; 4] = ["target", "verdict", "root cause", "duration"];

fn terminal_text(fleet: &FleetReport, color: bool, width: usize) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX))
        .set_header(COLUMNS.map(Cell::new));
    for row in summary_rows(fleet) {
        table.add_row(row.map(Cell::new));
    }
    let summary = &fleet.summary;
    let mut out = format!(
        "{} targets in {}, exit code {}\n{table}\n",
        summary.targets.len(),
        view::duration(summary.duration_ms),
        summary.exit_code
    );
    for target in &summary.targets {
        out.push_str(&format!("\n══ {} — {} ══\n", target.name, target.instance));
        match run_of(fleet, target) {
            Some(report) => out.push_str(&terminal::render(report, color, width)),
            None => out.push_str(&format!(
                "not diagnosed: {}\n",
                target.error.as_deref().unwrap_or("")
            )),
        }
    }
    out
}

fn markdown_text(fleet: &FleetReport) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out = format!(
        "# snowdoctor: {} targets\n\n| {} |\n|---|---|---|---|\n",
        fleet.summary.targets.len(),
        COLUMNS.join(" | ")
    );
    for row in summary_rows(fleet) {
        out.push_str(&format!("| {} |\n", row.map(|c| cell(&c)).join(" | ")));
    }
    for target in &fleet.summary.targets {
        out.push_str(&format!("\n---\n\n## Target `{}`\n\n", target.name));
        match run_of(fleet, target) {
            Some(report) => out.push_str(&markdown::render(report)),
            None => out.push_str(&format!(
                "Not diagnosed: {}\n",
                cell(target.error.as_deref().unwrap_or(""))
            )),
        }
    }
    out
}

/// One test suite per target, named after it; a target that could not run is one errored case.
fn junit_text(fleet: &FleetReport) -> Result<String, Error> {
    let mut doc = Report::new("snowdoctor");
    doc.set_time(Duration::from_millis(fleet.summary.duration_ms));
    for target in &fleet.summary.targets {
        let mut suite = TestSuite::new(target.name.as_str());
        suite.set_time(Duration::from_millis(target.duration_ms));
        suite.add_property(("instance", target.instance.as_str()));
        match run_of(fleet, target) {
            Some(report) => {
                suite.add_property(("profile", report.profile.as_str()));
                for check in &report.checks {
                    suite.add_test_case(junit::test_case(report, check));
                }
            }
            None => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(target.error.as_deref().unwrap_or("not diagnosed"))
                    .set_type("usage");
                suite.add_test_case(TestCase::new("target", status));
            }
        }
        doc.add_test_suite(suite);
    }
    doc.to_string()
        .map_err(|e| Error::Report(format!("cannot write the JUnit report: {e}")))
}

fn run_of<'a>(
    fleet: &'a FleetReport,
    target: &TargetSummary,
) -> Option<&'a crate::model::RunReport> {
    if target.error.is_some() {
        return None;
    }
    fleet
        .runs
        .iter()
        .find(|r| r.target.as_deref() == Some(target.name.as_str()))
}

/// The file each format gets in a target's folder.
fn file_name(format: Format) -> &'static str {
    match format {
        Format::Terminal => "report.txt",
        Format::Json => "report.json",
        Format::Junit => "junit.xml",
        Format::Sarif => "report.sarif",
        Format::Md => "report.md",
        Format::Html => "report.html",
        Format::Har => "transcript.har",
    }
}

/// `--report-dir DIR`: `DIR/<target>/` holds every format of that target's run, and `DIR/fleet.json`
/// and `DIR/junit.xml` the whole fleet. Every file is scanned for secrets as `--report` files are.
pub fn write_report_dir(
    dir: &Path,
    fleet: &FleetReport,
    runs: &[TargetRun],
    secrets: &SecretRegistry,
) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    for run in runs {
        let targets: Vec<(Format, PathBuf)> = Format::ALL
            .iter()
            .map(|&f| (f, dir.join(run.name).join(file_name(f))))
            .collect();
        written.extend(super::write_reports(&run.input, &targets, secrets)?);
    }
    for (format, name) in [(Format::Json, "fleet.json"), (Format::Junit, "junit.xml")] {
        let path = dir.join(name);
        let text = render_fleet(format, fleet, false, super::FILE_WIDTH)?;
        if secrets.leaks_into(&text) {
            return Err(Error::SecretLeak(path.display().to_string()));
        }
        super::output::write_file(&path, text.as_bytes())?;
        super::output::scan_written(&path, secrets)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_its_own_file_name() {
        let mut names: Vec<&str> = Format::ALL.iter().map(|&f| file_name(f)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Format::ALL.len());
    }

    #[test]
    fn one_instance_formats_are_refused_with_the_way_out() {
        let fleet = FleetReport {
            schema_version: "1.0".into(),
            runs: Vec::new(),
            summary: crate::fleet::FleetSummary::new("now".into(), 0, Vec::new()),
        };
        let error = render_fleet(Format::Html, &fleet, false, 100).expect_err("html is per target");
        assert!(error.to_string().contains("--report-dir"));
    }
}
