//! Every output format of a run, one file per format, all reading the same [`RunReport`].
//!
//! Rendering is pure: the same report (and transcript) always renders to the same bytes, so a saved JSON
//! report re-renders (`report render`) into exactly what the live run wrote. Writing is where the safety
//! net sits: every file written, bundle entries included, is scanned for the run's known secrets and
//! removed if one shows up.

mod bundle;
pub mod deliver;
mod fleet;
mod format;
mod har;
mod html;
mod json;
mod junit;
mod markdown;
mod output;
mod pseudonymize;
mod sarif;
mod schema;
mod staged;
pub mod targets;
mod terminal;
mod view;
mod visible;

use std::path::Path;

use crate::error::Error;
use crate::model::RunReport;
use crate::servicenow::transcript::Exchange;

pub use bundle::{BundleSummary, build as build_bundle, mapping_path, write_bundle};
pub use fleet::{FLEET_FORMATS, TargetRun, render_fleet, write_report_dir};
pub use format::Format;
pub use output::{parse_report_arg, report_name, write_reports};
pub use pseudonymize::Pseudonymizer;
pub use schema::{config_json_schema, fleet_json_schema, json_schema};

/// Width of the terminal format in a file (and on stdout when it is not a terminal).
pub const FILE_WIDTH: usize = 100;

/// What a format renders: the run's result, its HTTP transcript (only the HAR reads it), and for the
/// terminal format whether it may use colour and how wide it may be (the caller decides both).
#[derive(Debug, Clone, Copy)]
pub struct RenderInput<'a> {
    pub report: &'a RunReport,
    pub transcript: &'a [Exchange],
    pub color: bool,
    pub width: usize,
}

impl RenderInput<'_> {
    /// The same input as a file takes it: no colour, [`FILE_WIDTH`] columns.
    pub fn for_file(&self) -> Self {
        RenderInput {
            color: false,
            width: FILE_WIDTH,
            ..*self
        }
    }
}

/// Renders one format. HAR without a transcript (a re-rendered report) is an empty log with a comment.
pub fn render(format: Format, input: &RenderInput) -> Result<String, Error> {
    match format {
        Format::Terminal => Ok(terminal::render(
            &visible::report(input.report),
            input.color,
            input.width,
        )),
        Format::Json => json::render(input.report),
        Format::Junit => junit::render(input.report),
        Format::Sarif => sarif::render(input.report),
        Format::Md => Ok(markdown::render(&visible::report(input.report))),
        Format::Html => html::render(input.report),
        Format::Har => har::render(input.report, input.transcript),
    }
}

/// The verdict line alone (`--quiet`); the headline can quote the instance, so its control
/// characters are shown, not sent.
pub fn verdict_line(report: &RunReport, color: bool) -> String {
    terminal::verdict_line(&visible::report(report), color)
}

/// Text for a terminal with its control characters shown, not sent (see `visible`).
pub fn visible_text(text: &str) -> String {
    visible::text(text)
}

/// Reads a JSON report written by `--format json` or `--report json=PATH`.
pub fn load_report(path: &Path) -> Result<RunReport, Error> {
    let text = crate::local_file::read_to_string(path)?;
    json::parse(&text).map_err(|message| {
        Error::Report(format!(
            "{} is not a snowdoctor JSON report: {message}; write one with --report json=PATH",
            path.display()
        ))
    })
}

/// `report render FILE.json --format FMT`: renders a saved report exactly as the live run wrote that
/// format to a file (`color` and `width` only change the terminal format). HAR is refused: a saved
/// report carries no HTTP transcript, and an empty HAR would pass for a run without requests.
pub fn render_saved(
    path: &Path,
    format: Format,
    color: bool,
    width: usize,
) -> Result<String, Error> {
    if format == Format::Har {
        return Err(Error::Usage(
            "report render cannot produce a HAR: a saved JSON report has no HTTP transcript; \
             write the HAR during the run with --report har=PATH or --bundle PATH"
                .into(),
        ));
    }
    let report = load_report(path)?;
    let major = |version: &str| version.split('.').next().unwrap_or_default().to_string();
    if major(&report.schema_version) != major(crate::model::REPORT_SCHEMA_VERSION) {
        return Err(Error::Report(format!(
            "{} has report schema version {:?}; this snowdoctor {} reads schema {}.x; \
             render it with the snowdoctor version that wrote it (its \"tool\" field)",
            path.display(),
            report.schema_version,
            env!("CARGO_PKG_VERSION"),
            major(crate::model::REPORT_SCHEMA_VERSION),
        )));
    }
    render(
        format,
        &RenderInput {
            report: &report,
            transcript: &[],
            color,
            width,
        },
    )
}
