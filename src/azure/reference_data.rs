//! Where tests and benchmarks find Microsoft's real service-tag files.
//!
//! The files live beside the project (`../shared/data/azure/`, see its README), never inside it. One
//! function resolves them so every test and benchmark agrees; a missing or different file is an
//! error with a message, so a test that needs it fails loudly instead of skipping.

use std::path::PathBuf;

/// Environment variable naming the directory that holds the files (`.ci/run` sets it).
pub const DATA_ENV: &str = "SNOWDOCTOR_AZURE_DATA";

/// A reference file and the size its data card records.
#[derive(Debug, Clone, Copy)]
pub struct ReferenceFile {
    pub name: &'static str,
    pub bytes: u64,
    pub sha256: &'static str,
}

/// `ServiceTags_Public_20251028.json`, the primary fixture (93,362 prefixes).
pub const PUBLIC_20251028: ReferenceFile = ReferenceFile {
    name: "ServiceTags_Public_20251028.json",
    bytes: 4_108_133,
    sha256: "9cb4e5f9371cec1297b05a6f5d742768921a28bd854a3a9cbd80673a6399dc40",
};

/// `ServiceTags_AzureGovernment_20260720.json`.
pub const GOVERNMENT_20260720: ReferenceFile = ReferenceFile {
    name: "ServiceTags_AzureGovernment_20260720.json",
    bytes: 326_446,
    sha256: "526a500736740f22077bf7846b46243f6e0d823353042461e6e90212c5e6849e",
};

/// `ServiceTags_China_20260720.json`.
pub const CHINA_20260720: ReferenceFile = ReferenceFile {
    name: "ServiceTags_China_20260720.json",
    bytes: 263_189,
    sha256: "bd83fd5acb17c1ed9c0bf1ad47b291787fccd06436fd6509169a6a0a506ca94a",
};

/// The data directory: `$SNOWDOCTOR_AZURE_DATA`, else `<package>/../shared/data/azure`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os(DATA_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/azure"),
    }
}

/// The path of a reference file after checking that it exists and has the recorded size and SHA-256.
pub fn locate(file: ReferenceFile) -> Result<PathBuf, String> {
    let dir = data_dir();
    let path = dir.join(file.name);
    let meta = std::fs::metadata(&path).map_err(|e| {
        format!(
            "reference file {} not found at {} ({e}); set {DATA_ENV} to the directory holding \
             Microsoft's service-tag files (../shared/data/azure, see its README)",
            file.name,
            path.display()
        )
    })?;
    if meta.len() != file.bytes {
        return Err(format!(
            "{} is {} bytes, but the data card records {} bytes (SHA-256 {}): this is not the \
             expected file, so its counts would be wrong",
            path.display(),
            meta.len(),
            file.bytes,
            file.sha256
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let digest = sha256_hex(&bytes)?;
    if digest != file.sha256 {
        return Err(format!(
            "{} has SHA-256 {digest}, but the data card records {}: this is not the expected file",
            path.display(),
            file.sha256
        ));
    }
    Ok(path)
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
