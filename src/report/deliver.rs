//! Delivering a run's outputs: every output (standard output, each `--report`, the bundle and its
//! mapping, the exported allow rules) is rendered first, scanned for the run's secrets in the encoding
//! of its format (JSON escapes, HTML/XML entities, percent-encoding: see [`crate::secrets`]), written
//! under a temporary name, read back and scanned again, and only then renamed into place and printed.
//! A leak withholds every output of the run, never only the last one written.
//!
//! A secret shorter than [`crate::secrets::SHORT_SECRET_LEN`] characters (`pass`, `wrong`) cannot be
//! told apart from the same word in a report, so a match of such a value withholds nothing: the scan
//! names the variable it came from and explains the collision on stderr instead.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::staged::Staged;
use crate::error::Error;
use crate::secrets::{Leak, SecretRegistry};

/// One output, rendered.
#[derive(Debug, Clone)]
pub struct Deliverable {
    /// How messages name it, e.g. `the JSON report out/r.json`.
    pub name: String,
    /// `None` for standard output.
    pub target: Option<PathBuf>,
    pub bytes: Vec<u8>,
    /// What the scan reads: the text, or for a zip each entry's text by entry name.
    pub texts: Vec<(String, String)>,
    /// True for a zip, which is scanned entry by entry once written.
    pub zip: bool,
}

impl Deliverable {
    /// A text output.
    pub fn text(name: String, target: Option<PathBuf>, text: String) -> Deliverable {
        Deliverable {
            name,
            target,
            bytes: text.clone().into_bytes(),
            texts: vec![(String::new(), text)],
            zip: false,
        }
    }
}

/// Outputs scanned and staged, waiting to be put in place by [`Delivered::finish`].
#[derive(Debug)]
pub struct Delivered {
    staged: Staged,
    stdout: Vec<u8>,
    /// Collisions of short secrets with ordinary text, already explained.
    pub warnings: Vec<String>,
}

impl Delivered {
    /// Renames the files into place, then prints standard output (a closed pipe is not an error).
    pub fn finish(self) -> Result<Vec<PathBuf>, Error> {
        let written = self.staged.commit()?;
        if !self.stdout.is_empty() {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&self.stdout);
            if !self.stdout.ends_with(b"\n") {
                let _ = out.write_all(b"\n");
            }
            let _ = out.flush();
        }
        Ok(written)
    }
}

/// Scans and stages every output; fails with [`Error::SecretLeak`], leaving nothing behind, when a
/// secret of [`crate::secrets::SHORT_SECRET_LEN`] characters or more is in any of them.
pub fn prepare(items: Vec<Deliverable>, secrets: &SecretRegistry) -> Result<Delivered, Error> {
    let mut findings = Findings::default();
    for item in &items {
        for (entry, text) in &item.texts {
            findings.add(&entry_name(item, entry), secrets.leaks(text));
        }
    }
    findings.fail_on_leak()?;
    let mut staged = Staged::new();
    let mut stdout = Vec::new();
    for item in &items {
        match &item.target {
            None => stdout.extend_from_slice(&item.bytes),
            Some(target) => {
                let temp = staged.stage(target, &item.bytes)?;
                // Read back what is on disk: the bytes that will be kept are the bytes scanned.
                for (entry, text) in read_back(&temp, item.zip).map_err(|e| Error::Write {
                    path: target.clone(),
                    source: e,
                })? {
                    findings.add_rescan(&entry_name(item, &entry), secrets.leaks(&text));
                }
            }
        }
    }
    findings.fail_on_leak()?;
    Ok(Delivered {
        staged,
        stdout,
        warnings: findings.warnings(),
    })
}

fn entry_name(item: &Deliverable, entry: &str) -> String {
    if entry.is_empty() {
        item.name.clone()
    } else {
        format!("{} (entry {entry})", item.name)
    }
}

fn read_back(path: &std::path::Path, zip: bool) -> std::io::Result<Vec<(String, String)>> {
    let bytes = std::fs::read(path)?;
    if !zip {
        return Ok(vec![(
            String::new(),
            String::from_utf8_lossy(&bytes).into_owned(),
        )]);
    }
    let invalid =
        |e: zip::result::ZipError| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(invalid)?;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(invalid)?;
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        entries.push((name, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(entries)
}

/// What the scan saw, output by output.
#[derive(Default)]
struct Findings {
    /// (output, secret label) of a secret long enough to be a real leak.
    leaks: Vec<(String, String)>,
    /// (secret label, length, outputs) of short secrets found in ordinary text.
    collisions: Vec<(String, usize, Vec<String>)>,
}

impl Findings {
    fn add(&mut self, output: &str, leaks: Vec<Leak>) {
        for leak in leaks {
            if leak.is_short() {
                match self
                    .collisions
                    .iter_mut()
                    .find(|(l, _, _)| *l == leak.label)
                {
                    Some((_, _, outputs)) if !outputs.iter().any(|o| o == output) => {
                        outputs.push(output.to_string())
                    }
                    Some(_) => {}
                    None => self
                        .collisions
                        .push((leak.label, leak.len, vec![output.to_string()])),
                }
            } else {
                self.leaks.push((output.to_string(), leak.label));
            }
        }
    }

    /// A re-read file repeats what the rendered text had; only new long leaks matter.
    fn add_rescan(&mut self, output: &str, leaks: Vec<Leak>) {
        let long: Vec<Leak> = leaks.into_iter().filter(|l| !l.is_short()).collect();
        self.add(output, long);
    }

    fn fail_on_leak(&self) -> Result<(), Error> {
        if self.leaks.is_empty() {
            return Ok(());
        }
        let mut labels: Vec<&str> = self.leaks.iter().map(|(_, l)| l.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        let mut outputs: Vec<&str> = self.leaks.iter().map(|(o, _)| o.as_str()).collect();
        outputs.dedup();
        Err(Error::SecretLeak(format!(
            "{} (the value of {})",
            outputs.join(", "),
            labels.join(", ")
        )))
    }

    fn warnings(&self) -> Vec<String> {
        self.collisions
            .iter()
            .map(|(label, len, outputs)| {
                format!(
                    "the value of {label} is only {len} characters long and also occurs as ordinary text in {}; \
                     a value that short cannot be told apart from the same word, so the output was kept \
                     (snowdoctor never prints a secret itself, and redacts it from everything the instance sends). \
                     Use a secret of at least 8 characters to get the full guarantee of the output scan",
                    outputs.join(", ")
                )
            })
            .collect()
    }
}
