//! Writing output files all-or-nothing: each file is first written under a fresh temporary name in its
//! target directory, every temporary file is read back and scanned for secrets, and only then are they
//! renamed over their targets. A file withheld by the scan never exists under its final name, and
//! renaming replaces a symlink at the target instead of writing through it.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::targets::parent_of;
use crate::error::Error;

/// Files written under temporary names, waiting for [`Staged::commit`]; dropped uncommitted, they are
/// removed.
#[derive(Debug, Default)]
pub struct Staged {
    files: Vec<(PathBuf, PathBuf)>,
}

impl Staged {
    /// Nothing staged yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `bytes` to a new temporary file beside `target`; returns the temporary path.
    pub fn stage(&mut self, target: &Path, bytes: &[u8]) -> Result<PathBuf, Error> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let temp = parent_of(target).join(format!(
            ".{name}.snowdoctor-{}.tmp",
            uuid::Uuid::new_v4().simple()
        ));
        let io = |source| Error::Write {
            path: target.to_path_buf(),
            source,
        };
        // `create_new` never opens an existing file or follows a symlink planted at the name.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(io)?;
        self.files.push((target.to_path_buf(), temp.clone()));
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(temp)
    }

    /// Renames every temporary file over its target.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, Error> {
        let files = std::mem::take(&mut self.files);
        let mut written = Vec::with_capacity(files.len());
        for (index, (target, temp)) in files.iter().enumerate() {
            if let Err(source) = std::fs::rename(temp, target) {
                for (_, rest) in &files[index..] {
                    let _ = std::fs::remove_file(rest);
                }
                return Err(Error::Write {
                    path: target.clone(),
                    source,
                });
            }
            written.push(target.clone());
        }
        Ok(written)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (_, temp) in &self.files {
            let _ = std::fs::remove_file(temp);
        }
    }
}
