//! Reading a local input file (`--config`, check manifests, `--password-file` and the other secret
//! files, `--ca-cert`, `--rules`, `--service-tags`, a saved report) with the same two guards: it must
//! be a regular file, so a FIFO cannot block the run forever and `/dev/zero` cannot exhaust memory, and
//! it must be at most [`MAX_LOCAL_FILE_BYTES`].

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// Largest local input file read: far above any real config, manifest, rule export or service-tag file.
pub const MAX_LOCAL_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The bytes of `path`, refused when it is not a regular file or is larger than the cap.
pub fn read(path: &Path) -> Result<Vec<u8>, Error> {
    let refuse = |reason: String| Error::LocalFile {
        path: path.to_path_buf(),
        reason,
    };
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(refuse("it is a directory, not a file".into()));
    }
    if !meta.is_file() {
        return Err(refuse(
            "it is not a regular file (a FIFO, socket or device); save the content to a file and pass that".into(),
        ));
    }
    if meta.len() > MAX_LOCAL_FILE_BYTES {
        return Err(too_large(path));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // sized from the metadata: growing by doubling copied a 4 MB service-tag file several times
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    file.take(MAX_LOCAL_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    // The file may have grown since the size check.
    if bytes.len() as u64 > MAX_LOCAL_FILE_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text.
pub fn read_to_string(path: &Path) -> Result<String, Error> {
    String::from_utf8(read(path)?).map_err(|_| Error::LocalFile {
        path: path.to_path_buf(),
        reason: "it is not UTF-8 text".into(),
    })
}

fn too_large(path: &Path) -> Error {
    Error::LocalFile {
        path: path.to_path_buf(),
        reason: format!(
            "it is larger than {} MB, the limit for local input files",
            MAX_LOCAL_FILE_BYTES / (1024 * 1024)
        ),
    }
}
