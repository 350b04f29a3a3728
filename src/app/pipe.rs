//! Standard output that treats a closed pipe as the end of the reader's interest, not as an error:
//! `snowdoctor ranges … | head -1` ends quietly with the command's own status (Rust ignores
//! SIGPIPE, so the write fails with `BrokenPipe` instead of killing the process; we swallow that
//! failure and drop whatever is written afterwards).

use std::io::{ErrorKind, Write};

/// A writer over stdout that turns `BrokenPipe` into silence.
pub struct QuietStdout {
    inner: std::io::StdoutLock<'static>,
    closed: bool,
}

impl QuietStdout {
    /// Locks stdout.
    pub fn new() -> Self {
        QuietStdout {
            inner: std::io::stdout().lock(),
            closed: false,
        }
    }
}

impl Write for QuietStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}
