//! Errors at the library boundary. Each says what failed, on which object, and what to do.

use std::path::PathBuf;

use crate::exit;

/// An error that stops a command before or instead of a diagnosis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{path}:{line}: {message}")]
    Manifest {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An output path that cannot be used, found before the first request.
    #[error("cannot write {}: {reason}", .path.display())]
    OutputPath { path: PathBuf, reason: String },
    /// A local input file refused before it is read (too large, a FIFO or device).
    #[error("cannot read {}: {reason}", .path.display())]
    LocalFile { path: PathBuf, reason: String },
    /// `--ca-cert` is not a file of PEM certificates.
    #[error("--ca-cert {}: {reason}", .path.display())]
    CaCert { path: PathBuf, reason: String },
    /// The instance URL or the TLS settings cannot make a client.
    #[error(transparent)]
    Connection(#[from] crate::servicenow::ClientError),
    #[error("{0}")]
    Config(String),
    #[error("the instance could not be assessed: {0}")]
    NotAssessed(String),
    #[error("emulator: {0}")]
    Emulator(String),
    #[error("report: {0}")]
    Report(String),
    /// Raised before the output is written (stdout, a report, the bundle) or after, when the written
    /// file is removed: in both cases nothing holding the secret is left.
    #[error(
        "a secret was found in {0}; every output of this run was withheld (nothing was printed or written)"
    )]
    SecretLeak(String),
}

impl Error {
    /// The documented exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NotAssessed(_) => exit::NOT_ASSESSED,
            Error::Usage(_)
            | Error::Manifest { .. }
            | Error::Io { .. }
            | Error::Write { .. }
            | Error::OutputPath { .. }
            | Error::LocalFile { .. }
            | Error::CaCert { .. }
            | Error::Connection(_)
            | Error::Config(_) => exit::USAGE,
            Error::Emulator(_) | Error::Report(_) | Error::SecretLeak(_) => exit::USAGE,
        }
    }
}

/// Result with the library error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
