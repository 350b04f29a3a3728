//! Logging to stderr through `tracing`, redacted through the run's secret registry, and kept in memory
//! for the support bundle's `run.log`. The two have separate levels: stderr shows what `-v` asks for,
//! the bundle's log is always at debug level, because whoever reads a bundle cannot rerun with `-v`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::secrets::SecretRegistry;

/// The in-memory copy of the run's log.
#[derive(Clone, Default)]
pub struct LogBuffer {
    text: Arc<Mutex<String>>,
}

impl LogBuffer {
    /// Everything logged so far (already redacted).
    pub fn contents(&self) -> String {
        self.text.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// Writes redacted log lines to the buffer (`Some`) or to stderr (`None`).
#[derive(Clone)]
struct RedactingWriter {
    buffer: Option<LogBuffer>,
    secrets: SecretRegistry,
}

impl Write for RedactingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = self.secrets.redact(&String::from_utf8_lossy(bytes));
        match &self.buffer {
            Some(buffer) => {
                if let Ok(mut log) = buffer.text.lock() {
                    log.push_str(&text);
                }
            }
            None => std::io::stderr().write_all(text.as_bytes())?,
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.buffer {
            Some(_) => Ok(()),
            None => std::io::stderr().flush(),
        }
    }
}

impl<'a> MakeWriter<'a> for RedactingWriter {
    type Writer = RedactingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the subscriber (once per process) and returns the buffer. On stderr: `-v` info, `-vv` debug,
/// `-vvv` trace (or `SNOWDOCTOR_LOG`); in the buffer: debug, or trace with `-vvv`.
///
/// `keep` is false where no bundle can be written (a fleet): every debug line would otherwise be
/// formatted and redacted for nothing.
pub fn init(verbosity: u8, secrets: SecretRegistry, keep: bool) -> LogBuffer {
    let buffer = LogBuffer::default();
    let level = match verbosity {
        0 => "warn",
        1 => "snowdoctor=info",
        2 => "snowdoctor=debug",
        _ => "snowdoctor=trace,reqwest=debug,hyper_util=debug",
    };
    let filter =
        EnvFilter::try_from_env("SNOWDOCTOR_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let bundle_level = match (keep, verbosity) {
        (false, _) => "off",
        (true, 3..) => level,
        (true, _) => "snowdoctor=debug",
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(RedactingWriter {
            buffer: None,
            secrets: secrets.clone(),
        })
        .with_ansi(false)
        .with_target(false)
        .with_filter(filter);
    let kept = tracing_subscriber::fmt::layer()
        .with_writer(RedactingWriter {
            buffer: Some(buffer.clone()),
            secrets,
        })
        .with_ansi(false)
        .with_target(false)
        .with_filter(EnvFilter::new(bundle_level));
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(kept)
        .try_init();
    buffer
}
