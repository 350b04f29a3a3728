//! `--report FMT=PATH`: parsing the flag, writing each file, and the final scan that removes a file in
//! which a known secret appears.

use std::path::{Path, PathBuf};

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

/// Renders and writes each target (creating missing parent directories), then re-reads every written
/// file; a file holding a known secret is deleted and the run fails with [`Error::SecretLeak`].
/// Returns the paths written, in order.
pub fn write_reports(
    input: &RenderInput,
    targets: &[(Format, PathBuf)],
    secrets: &SecretRegistry,
) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::with_capacity(targets.len());
    let input = input.for_file();
    for (format, path) in targets {
        let text = render(*format, &input)?;
        // A leak found before writing never reaches the disk.
        if secrets.leaks_into(&text) {
            return Err(Error::SecretLeak(path.display().to_string()));
        }
        write_file(path, text.as_bytes())?;
        written.push(path.clone());
    }
    for path in &written {
        scan_written(path, secrets)?;
    }
    Ok(written)
}

/// Writes a file, creating its parent directories.
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}

/// Re-reads a written file as text (lossily: a secret is text) and removes it if a secret shows up.
pub(super) fn scan_written(path: &Path, secrets: &SecretRegistry) -> Result<(), Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    scan_text(path, &String::from_utf8_lossy(&bytes), secrets)
}

/// Fails (removing `path`) when `text`, which is or was in `path`, holds a known secret.
pub(super) fn scan_text(path: &Path, text: &str, secrets: &SecretRegistry) -> Result<(), Error> {
    if secrets.leaks_into(text) {
        // Best effort: the error is what matters, and it names the file either way.
        let _ = std::fs::remove_file(path);
        return Err(Error::SecretLeak(path.display().to_string()));
    }
    Ok(())
}
