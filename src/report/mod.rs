//! One file per output format. (Being built on the `reports` branch; this placeholder renders JSON and a
//! plain summary.)

use std::path::{Path, PathBuf};

use crate::cli::{FailOn, Format};
use crate::error::{Error, Result};
use crate::model::{RunReport, Status};
use crate::secrets::SecretRegistry;
use crate::servicenow::transcript::Exchange;

/// What every format renders.
pub struct RenderInput<'a> {
    pub report: &'a RunReport,
    pub transcript: &'a [Exchange],
    pub color: bool,
}

/// Renders one format.
pub fn render(format: Format, input: &RenderInput) -> Result<String> {
    match format {
        Format::Json => {
            serde_json::to_string_pretty(input.report).map_err(|e| Error::Report(e.to_string()))
        }
        _ => {
            let mut out = format!("{}\n", input.report.verdict.headline);
            for c in &input.report.checks {
                out.push_str(&format!(
                    "{:<13} {:<28} {}\n",
                    c.status.as_str(),
                    c.id,
                    c.summary
                ));
                if let Some(fix) = &c.remediation {
                    out.push_str(&format!("              fix: {fix}\n"));
                }
            }
            Ok(out)
        }
    }
}

pub fn parse_report_arg(arg: &str) -> Result<(Format, PathBuf)> {
    Err(Error::Usage(format!("--report {arg}: not built yet")))
}

pub fn write_reports(
    _input: &RenderInput,
    _targets: &[(Format, PathBuf)],
    _secrets: &SecretRegistry,
) -> Result<Vec<PathBuf>> {
    Ok(Vec::new())
}

pub fn write_bundle(
    _path: &Path,
    _input: &RenderInput,
    _log: &str,
    _pseudonymize: bool,
    _secrets: &SecretRegistry,
) -> Result<()> {
    Err(Error::Usage("--bundle: not built yet".into()))
}

pub fn json_schema() -> String {
    String::new()
}

pub fn render_saved(_path: &Path, _format: Format) -> Result<String> {
    Err(Error::Usage("report render: not built yet".into()))
}

pub fn exit_code(report: &RunReport, fail_on: FailOn) -> u8 {
    let worst = |s: Status| report.checks.iter().any(|c| c.status == s);
    let hit = match fail_on {
        FailOn::Fail => worst(Status::Fail),
        FailOn::Warn => worst(Status::Fail) || worst(Status::Warn),
        FailOn::Inconclusive => {
            worst(Status::Fail) || worst(Status::Warn) || worst(Status::Inconclusive)
        }
        FailOn::Never => false,
    };
    if hit {
        crate::exit::FINDINGS
    } else {
        crate::exit::OK
    }
}
