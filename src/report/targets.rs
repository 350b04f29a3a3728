//! Where a run's outputs go, validated before the first request: a run that cannot write its report
//! must fail in a second, not after the diagnosis and the ticket round trip.
//!
//! Each path's directory must exist and be writable, the path must not be a directory, and an
//! existing file (or symlink) is replaced only with `--force`. `-` means standard output (reports
//! only). Two outputs may not share a path, and the bundle's `.mapping.json` may never land on a
//! report. Files are written later through `super::staged`, by renaming a fresh file over the
//! target, so a symlink at the target is replaced, never followed.

use std::path::{Path, PathBuf};

use super::Format;
use super::bundle::mapping_path;
use crate::error::Error;

/// Where one output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// Every output of a run, validated.
#[derive(Debug, Clone, Default)]
pub struct OutputTargets {
    /// `--report FMT=PATH`, in order.
    pub reports: Vec<(Format, Destination)>,
    /// `--bundle PATH`.
    pub bundle: Option<PathBuf>,
    /// `--export-allow-rules PATH` (`-` for stdout).
    pub allow_rules: Option<Destination>,
}

/// The raw output options of a run.
#[derive(Debug, Clone, Copy)]
pub struct OutputRequest<'a> {
    pub reports: &'a [String],
    pub bundle: Option<&'a Path>,
    pub pseudonymize: bool,
    pub allow_rules: Option<&'a Path>,
    pub force: bool,
}

impl OutputTargets {
    /// Parses and checks every output path; nothing is written except a probe file, removed at once,
    /// in each target directory.
    pub fn validate(request: OutputRequest) -> Result<OutputTargets, Error> {
        let mut targets = OutputTargets::default();
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        for arg in request.reports {
            let (format, path) = super::parse_report_arg(arg)?;
            let destination = destination(&path);
            if let Destination::File(path) = &destination {
                files.push((path.clone(), format!("--report {arg}")));
            }
            targets.reports.push((format, destination));
        }
        if let Some(bundle) = request.bundle {
            if bundle.as_os_str() == "-" {
                return Err(Error::OutputPath {
                    path: bundle.to_path_buf(),
                    reason: "a bundle is a zip file and cannot go to standard output; give a file name such as support.zip".into(),
                });
            }
            files.push((bundle.to_path_buf(), "--bundle".into()));
            if request.pseudonymize {
                files.push((
                    mapping_path(bundle),
                    "the bundle's pseudonym mapping".into(),
                ));
            }
            targets.bundle = Some(bundle.to_path_buf());
        }
        if let Some(path) = request.allow_rules {
            let destination = destination(path);
            if let Destination::File(path) = &destination {
                files.push((path.clone(), "--export-allow-rules".into()));
            }
            targets.allow_rules = Some(destination);
        }
        let to_stdout = targets
            .reports
            .iter()
            .map(|(_, d)| d)
            .chain(targets.allow_rules.as_ref())
            .filter(|d| **d == Destination::Stdout)
            .count();
        if to_stdout > 1 {
            return Err(Error::Usage(
                "only one output can go to standard output (`-`); give the others file paths"
                    .into(),
            ));
        }
        for (index, (path, what)) in files.iter().enumerate() {
            if let Some((_, other)) = files[..index]
                .iter()
                .find(|(earlier, _)| same_path(earlier, path))
            {
                return Err(Error::OutputPath {
                    path: path.clone(),
                    reason: format!(
                        "{what} and {other} would write the same file; give each output its own path"
                    ),
                });
            }
            check_file(path, request.force)?;
        }
        Ok(targets)
    }
}

fn destination(path: &Path) -> Destination {
    if path.as_os_str() == "-" {
        Destination::Stdout
    } else {
        Destination::File(path.to_path_buf())
    }
}

/// Lexical comparison after making both absolute (the files do not exist yet, so no canonicalising).
fn same_path(a: &Path, b: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    absolute(a) == absolute(b)
}

/// The directory a file goes into (`.` for a bare file name).
pub(super) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn check_file(path: &Path, force: bool) -> Result<(), Error> {
    let refuse = |reason: String| Error::OutputPath {
        path: path.to_path_buf(),
        reason,
    };
    let parent = parent_of(path);
    match std::fs::metadata(parent) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(refuse(format!("{} is not a directory", parent.display()))),
        Err(_) => {
            return Err(refuse(format!(
                "the directory {} does not exist; create it first (mkdir -p {})",
                parent.display(),
                parent.display()
            )));
        }
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(refuse(
                "it is a directory; give a file name inside it".into(),
            ));
        }
        Ok(meta) if !force => {
            let what = if meta.file_type().is_symlink() {
                "a symlink with this name exists"
            } else {
                "the file exists"
            };
            return Err(refuse(format!("{what}; pass --force to replace it")));
        }
        Ok(meta) if !meta.is_file() && !meta.file_type().is_symlink() => {
            return Err(refuse(
                "it is not a regular file (a device, FIFO or socket); give a file name".into(),
            ));
        }
        _ => {}
    }
    probe_writable(parent).map_err(|e| {
        refuse(format!(
            "the directory {} is not writable ({e})",
            parent.display()
        ))
    })
}

/// Creates and removes a uniquely named file: the only reliable test of "can I create files here".
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(
        ".snowdoctor-probe-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(reports: &'a [String], bundle: Option<&'a Path>) -> OutputRequest<'a> {
        OutputRequest {
            reports,
            bundle,
            pseudonymize: true,
            allow_rules: None,
            force: false,
        }
    }

    #[test]
    fn dash_is_stdout_and_a_missing_directory_is_refused() {
        let reports = vec!["json=-".to_string()];
        let targets = OutputTargets::validate(request(&reports, None)).expect("valid");
        assert_eq!(targets.reports[0].1, Destination::Stdout);
        let reports = vec!["json=no-such-dir-xyz/r.json".to_string()];
        let err = OutputTargets::validate(request(&reports, None)).expect_err("no dir");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn the_mapping_may_not_overwrite_a_report() {
        let reports = vec!["json=b.zip.mapping.json".to_string()];
        let err = OutputTargets::validate(request(&reports, Some(Path::new("b.zip"))))
            .expect_err("collision");
        assert!(err.to_string().contains("same file"), "{err}");
    }
}
