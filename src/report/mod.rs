//! Every output format of a run, one file per format, all reading the same [`RunReport`].
//!
//! Rendering is pure: the same report (and transcript) always renders to the same bytes, so a saved JSON
//! report re-renders (`report render`) into exactly what the live run wrote. Writing is where the safety
//! net sits: every file written, bundle entries included, is scanned for the run's known secrets and
//! removed if one shows up.

mod bundle;
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
mod terminal;
mod view;

use std::path::Path;

use crate::error::Error;
use crate::model::RunReport;
use crate::servicenow::transcript::Exchange;

pub use bundle::{BundleSummary, write_bundle};
pub use format::Format;
pub use output::{parse_report_arg, write_reports};
pub use pseudonymize::Pseudonymizer;
pub use schema::json_schema;

/// What a format renders: the run's result, its HTTP transcript (only the HAR reads it) and whether the
/// terminal format may use colour (it also honours `NO_COLOR`).
#[derive(Debug, Clone, Copy)]
pub struct RenderInput<'a> {
    pub report: &'a RunReport,
    pub transcript: &'a [Exchange],
    pub color: bool,
}

/// Renders one format. HAR without a transcript (a re-rendered report) is an empty log with a comment.
pub fn render(format: Format, input: &RenderInput) -> Result<String, Error> {
    match format {
        Format::Terminal => Ok(terminal::render(input.report, input.color)),
        Format::Json => json::render(input.report),
        Format::Junit => junit::render(input.report),
        Format::Sarif => sarif::render(input.report),
        Format::Md => Ok(markdown::render(input.report)),
        Format::Html => html::render(input.report),
        Format::Har => har::render(input.report, input.transcript),
    }
}

/// Reads a JSON report written by `--format json` or `--report json=PATH`.
pub fn load_report(path: &Path) -> Result<RunReport, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    json::parse(&text).map_err(|message| {
        Error::Report(format!(
            "{} is not a snowdoctor JSON report: {message}; write one with --report json=PATH",
            path.display()
        ))
    })
}

/// `report render FILE.json --format FMT`: renders a saved report (no colour, no transcript).
pub fn render_saved(path: &Path, format: Format) -> Result<String, Error> {
    let report = load_report(path)?;
    render(
        format,
        &RenderInput {
            report: &report,
            transcript: &[],
            color: false,
        },
    )
}
