//! Microsoft's real service-tag files for tests and benchmarks: the snapshots embedded from
//! `data/azure/` (see its SOURCE.md), so a fresh clone needs nothing beside it.
//!
//! `SNOWDOCTOR_AZURE_DATA` may name a directory holding the uncompressed files under Microsoft's names;
//! when set, they are read from there instead. Either way the bytes are checked against the recorded
//! size and SHA-256 first, so a test that depends on exact counts fails with a message naming the
//! expected file rather than reporting wrong counts.

use std::path::{Path, PathBuf};

use super::ServiceTagFile;
use super::snapshot::{Origin, Snapshot};

/// Optional override: a directory with the uncompressed files (never required).
pub const DATA_ENV: &str = "SNOWDOCTOR_AZURE_DATA";

/// The override directory, when `SNOWDOCTOR_AZURE_DATA` is set and not empty.
pub fn override_dir() -> Option<PathBuf> {
    std::env::var_os(DATA_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// The uncompressed, verified bytes of a snapshot (from the override directory when set).
pub fn bytes(snapshot: &'static Snapshot) -> Result<Vec<u8>, String> {
    match override_dir() {
        Some(dir) => {
            let path = dir.join(snapshot.file_name);
            let bytes = std::fs::read(&path).map_err(|e| {
                format!(
                    "{DATA_ENV} is set, but {} cannot be read ({e}); unset it to use the embedded copy",
                    path.display()
                )
            })?;
            verify(snapshot, &bytes, &path.display().to_string())?;
            Ok(bytes)
        }
        None => {
            let bytes = snapshot.bytes()?;
            verify(
                snapshot,
                &bytes,
                &format!("embedded {}", snapshot.file_name),
            )?;
            Ok(bytes)
        }
    }
}

/// The parsed snapshot, dated from its name.
pub fn load(snapshot: &'static Snapshot) -> Result<ServiceTagFile, String> {
    let bytes = bytes(snapshot)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| format!("{}: {e}", snapshot.file_name))?;
    let mut file =
        ServiceTagFile::parse(text).map_err(|e| format!("{}: {e}", snapshot.file_name))?;
    file.date = snapshot.date();
    file.origin = Origin::Builtin(snapshot);
    Ok(file)
}

/// Writes the verified file under Microsoft's name into `dir` (for code that reads a path).
pub fn write_to(snapshot: &'static Snapshot, dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join(snapshot.file_name);
    std::fs::write(&path, bytes(snapshot)?)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Checks size and SHA-256 against the record in `data/azure/SOURCE.md`.
pub fn verify(snapshot: &Snapshot, bytes: &[u8], what: &str) -> Result<(), String> {
    if bytes.len() != snapshot.bytes {
        return Err(format!(
            "{what} is {} bytes, but data/azure/SOURCE.md records {} bytes for {} (SHA-256 {}): \
             this is not the expected file, so its counts would be wrong",
            bytes.len(),
            snapshot.bytes,
            snapshot.file_name,
            snapshot.sha256
        ));
    }
    let digest = sha256_hex(bytes)?;
    if digest != snapshot.sha256 {
        return Err(format!(
            "{what} has SHA-256 {digest}, but data/azure/SOURCE.md records {} for {}: this is not \
             the expected file",
            snapshot.sha256, snapshot.file_name
        ));
    }
    Ok(())
}

/// SHA-256 through the crypto provider already in the build (rustls on aws-lc-rs), so checking the
/// reference data adds no hashing crate.
pub fn sha256_hex(bytes: &[u8]) -> Result<String, String> {
    use rustls::SupportedCipherSuite;
    use rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let SupportedCipherSuite::Tls13(suite) = TLS13_AES_128_GCM_SHA256 else {
        return Err("rustls offers no TLS 1.3 SHA-256 suite".into());
    };
    let digest = suite.common.hash_provider.hash(bytes);
    Ok(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}
