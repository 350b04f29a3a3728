//! The JSON report: [`RunReport`] serialised, pretty. Its schema is `snowdoctor schema`.

use crate::error::Error;
use crate::model::RunReport;

/// The report as pretty JSON, with a trailing newline so it diffs and pipes cleanly.
pub fn render(report: &RunReport) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(report)
        .map_err(|e| Error::Report(format!("cannot serialise the report as JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// Parses a saved report; the message says where the JSON stops matching the schema.
pub fn parse(text: &str) -> Result<RunReport, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}
