//! `--bundle PATH`: one zip a customer can attach to a support ticket — the JSON report, the HTML
//! report, the HAR transcript and the run's log — optionally pseudonymised, and scanned for known
//! secrets entry by entry before and after it is written (see [`super::deliver`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

use super::deliver::Deliverable;
use super::pseudonymize::Pseudonymizer;
use super::{Format, RenderInput, render};
use crate::error::Error;
use crate::secrets::SecretRegistry;

/// The entries of a bundle, in order.
pub const ENTRIES: [&str; 4] = ["report.json", "report.html", "transcript.har", "run.log"];

/// What [`write_bundle`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSummary {
    /// The zip file.
    pub path: PathBuf,
    /// Entry names inside the zip.
    pub entries: Vec<String>,
    /// With `--pseudonymize`: the local file mapping pseudonyms back to names (not in the zip).
    pub mapping: Option<PathBuf>,
}

/// Writes the bundle through the scanned, all-or-nothing delivery of [`super::deliver`]; with
/// `pseudonymize`, every entry goes through one [`Pseudonymizer`] and the mapping is written to
/// `<path>.mapping.json`. Fails, leaving nothing behind, if a known secret appears in any entry.
pub fn write_bundle(
    path: &Path,
    input: &RenderInput,
    log: &str,
    pseudonymize: bool,
    secrets: &SecretRegistry,
) -> Result<BundleSummary, Error> {
    let items = build(path, input, log, pseudonymize)?;
    let mapping = items.get(1).and_then(|m| m.target.clone());
    let delivered = super::deliver::prepare(items, secrets)?;
    for warning in &delivered.warnings {
        eprintln!("warning: {warning}");
    }
    delivered.finish()?;
    Ok(BundleSummary {
        path: path.to_path_buf(),
        entries: ENTRIES.iter().map(|e| e.to_string()).collect(),
        mapping,
    })
}

/// The bundle (and, pseudonymised, its mapping) as outputs to deliver.
pub fn build(
    path: &Path,
    input: &RenderInput,
    log: &str,
    pseudonymize: bool,
) -> Result<Vec<Deliverable>, Error> {
    let mut texts = vec![
        render(Format::Json, input)?,
        render(Format::Html, input)?,
        render(Format::Har, input)?,
        log.to_string(),
    ];
    let mut pseudonymizer =
        pseudonymize.then(|| Pseudonymizer::for_run(input.report, input.transcript));
    if let Some(p) = pseudonymizer.as_mut() {
        texts = texts.iter().map(|text| p.apply(text)).collect();
    }
    let mut items = vec![Deliverable {
        name: format!("the bundle {}", path.display()),
        target: Some(path.to_path_buf()),
        bytes: zip_bytes(path, &texts)?,
        texts: ENTRIES.iter().map(|e| e.to_string()).zip(texts).collect(),
        zip: true,
    }];
    if let Some(p) = pseudonymizer {
        let mapping_path = mapping_path(path);
        let json = serde_json::to_string_pretty(&p.mapping())
            .map_err(|e| Error::Report(format!("cannot write the pseudonym mapping: {e}")))?;
        items.push(Deliverable::text(
            format!("the pseudonym mapping {}", mapping_path.display()),
            Some(mapping_path),
            json,
        ));
    }
    Ok(items)
}

/// `support.zip` → `support.zip.mapping.json`, beside the bundle.
pub fn mapping_path(bundle: &Path) -> PathBuf {
    let mut name = bundle.as_os_str().to_owned();
    name.push(".mapping.json");
    PathBuf::from(name)
}

fn zip_bytes(path: &Path, texts: &[String]) -> Result<Vec<u8>, Error> {
    let fail = |e: &dyn std::fmt::Display| {
        Error::Report(format!("cannot build the bundle {}: {e}", path.display()))
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in ENTRIES.iter().zip(texts) {
        zip.start_file(*name, options).map_err(|e| fail(&e))?;
        zip.write_all(text.as_bytes()).map_err(|e| fail(&e))?;
    }
    let cursor = zip.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}
