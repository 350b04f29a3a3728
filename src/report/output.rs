//! `--report FMT=PATH`: parsing the flag, naming a report in messages, and writing a set of reports
//! through the scanned delivery.

use std::path::{Path, PathBuf};

use super::deliver::Deliverable;
use super::{Format, RenderInput, render};
use crate::error::Error;
use crate::secrets::SecretRegistry;

/// Parses `junit=out/j.xml` into its format and path.
pub fn parse_report_arg(arg: &str) -> Result<(Format, PathBuf), Error> {
    let usage = |why: String| {
        Error::Usage(format!(
            "--report {arg:?}: {why}; write it as FORMAT=PATH, e.g. --report junit=out/junit.xml (formats: {})",
            format_names().join(", ")
        ))
    };
    let Some((name, path)) = arg.split_once('=') else {
        return Err(usage("no '=' between the format and the path".to_string()));
    };
    let format = Format::from_name(name.trim())
        .ok_or_else(|| usage(format!("unknown format {:?}", name.trim())))?;
    if path.trim().is_empty() {
        return Err(usage("the path is empty".to_string()));
    }
    Ok((format, PathBuf::from(path)))
}

fn format_names() -> Vec<&'static str> {
    Format::ALL.iter().map(|f| f.name()).collect()
}

/// How messages name a report file.
pub fn report_name(format: Format, path: &Path) -> String {
    format!("the {} report {}", format.name(), path.display())
}

/// Renders and writes each target through the scanned, all-or-nothing delivery of
/// [`super::deliver`]: when a known secret is in any of them, none is written and the run fails
/// with [`Error::SecretLeak`]. Returns the paths written, in order.
pub fn write_reports(
    input: &RenderInput,
    targets: &[(Format, PathBuf)],
    secrets: &SecretRegistry,
) -> Result<Vec<PathBuf>, Error> {
    let input = input.for_file();
    let mut items = Vec::with_capacity(targets.len());
    for (format, path) in targets {
        items.push(Deliverable::text(
            report_name(*format, path),
            Some(path.clone()),
            render(*format, &input)?,
        ));
    }
    let delivered = super::deliver::prepare(items, secrets)?;
    for warning in &delivered.warnings {
        eprintln!("warning: {warning}");
    }
    delivered.finish()
}
