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
    #[error("a secret was found in {0}; that output was withheld")]
    SecretLeak(String),
}

impl Error {
    /// The documented exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NotAssessed(_) => exit::NOT_ASSESSED,
            Error::Usage(_) | Error::Manifest { .. } | Error::Io { .. } | Error::Config(_) => {
                exit::USAGE
            }
            Error::Emulator(_) | Error::Report(_) | Error::SecretLeak(_) => exit::USAGE,
        }
    }
}

/// Result with the library error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
