//! Logging to stderr through `tracing`, redacted through the run's secret registry, and kept in memory
//! for the support bundle's `run.log`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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

#[derive(Clone)]
struct RedactingWriter {
    buffer: LogBuffer,
    secrets: SecretRegistry,
}

impl Write for RedactingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let text = self.secrets.redact(&String::from_utf8_lossy(bytes));
        if let Ok(mut log) = self.buffer.text.lock() {
            log.push_str(&text);
        }
        std::io::stderr().write_all(text.as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for RedactingWriter {
    type Writer = RedactingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the subscriber (once per process) and returns the buffer. `-v` info, `-vv` debug, `-vvv` trace.
pub fn init(verbosity: u8, secrets: SecretRegistry) -> LogBuffer {
    let buffer = LogBuffer::default();
    let level = match verbosity {
        0 => "warn",
        1 => "snowdoctor=info",
        2 => "snowdoctor=debug",
        _ => "snowdoctor=trace,reqwest=debug,hyper_util=debug",
    };
    let filter =
        EnvFilter::try_from_env("SNOWDOCTOR_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let writer = RedactingWriter {
        buffer: buffer.clone(),
        secrets,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false)
        .try_init();
    buffer
}
