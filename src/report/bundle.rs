//! `--bundle PATH`: one zip a customer can attach to a support ticket — the JSON report, the HTML
//! report, the HAR transcript and the run's log — optionally pseudonymised, and scanned for known
//! secrets both before it is written and, entry by entry, after.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

use super::output::{scan_text, write_file};
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

/// Writes the bundle; with `pseudonymize`, every entry goes through one [`Pseudonymizer`] and the
/// mapping is written to `<path>.mapping.json`. Fails, removing what it wrote, if a known secret
/// appears in any entry.
pub fn write_bundle(
    path: &Path,
    input: &RenderInput,
    log: &str,
    pseudonymize: bool,
    secrets: &SecretRegistry,
) -> Result<BundleSummary, Error> {
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
    for (name, text) in ENTRIES.iter().zip(&texts) {
        if secrets.leaks_into(text) {
            return Err(Error::SecretLeak(format!("{} ({name})", path.display())));
        }
    }
    write_file(path, &zip_bytes(path, &texts)?)?;
    scan_zip(path, secrets)?;

    let mapping = match pseudonymizer {
        Some(p) => {
            let mapping_path = mapping_path(path);
            let json = serde_json::to_string_pretty(&p.mapping())
                .map_err(|e| Error::Report(format!("cannot write the pseudonym mapping: {e}")))?;
            write_file(&mapping_path, json.as_bytes())?;
            scan_text(&mapping_path, &json, secrets)?;
            Some(mapping_path)
        }
        None => None,
    };
    Ok(BundleSummary {
        path: path.to_path_buf(),
        entries: ENTRIES.iter().map(|e| e.to_string()).collect(),
        mapping,
    })
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

/// Re-reads the written zip and scans every entry; removes the zip on a leak.
fn scan_zip(path: &Path, secrets: &SecretRegistry) -> Result<(), Error> {
    let unreadable = |e: &dyn std::fmt::Display| {
        let _ = std::fs::remove_file(path);
        Error::Report(format!(
            "the bundle {} could not be read back for the secret scan ({e}); it was removed",
            path.display()
        ))
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unreadable(&e))?;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| unreadable(&e))?;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| unreadable(&e))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        drop(entry);
        if secrets.leaks_into(&String::from_utf8_lossy(&bytes)) {
            let _ = std::fs::remove_file(path);
            return Err(Error::SecretLeak(format!("{} ({name})", path.display())));
        }
    }
    Ok(())
}
