//! One cancellation path for SIGINT, SIGTERM and SIGHUP (Ctrl-C, CI cancellation, `timeout`,
//! Kubernetes, a closed terminal).
//!
//! The first signal fires `stop`: the client refuses to start any request (no token request — a failed
//! password grant counts toward lockout — no write, no read) and drops those in flight, so every check
//! ends at once and the round trip goes straight to removing what it created, with the cleanup client
//! and within its time budget. A second signal fires `force`: cleanup stops, the run names any record
//! left behind on stderr and exits. The exit code is 128 + the signal number: 130, 143 or 129.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::exit;

/// A signal that interrupts a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
    Hup,
}

impl Signal {
    /// `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }

    /// 128 + the signal number, as a shell reports a process the signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => exit::INTERRUPTED,
            Signal::Term => exit::TERMINATED,
            Signal::Hup => exit::HANGUP,
        }
    }
}

/// The installed handlers and what they have seen. Dropping it uninstalls nothing but stops listening.
pub struct Signals {
    stop: CancellationToken,
    force: CancellationToken,
    first: Arc<OnceLock<Signal>>,
    task: tokio::task::JoinHandle<()>,
}

impl Signals {
    /// Listens for the three signals; `budget` is what the first signal's message promises.
    pub fn install(budget: Duration) -> std::io::Result<Signals> {
        let (stop, force) = (CancellationToken::new(), CancellationToken::new());
        let first = Arc::new(OnceLock::new());
        let mut incoming = listen()?;
        let task = {
            let (stop, force, first) = (stop.clone(), force.clone(), first.clone());
            tokio::spawn(async move {
                while let Some(signal) = incoming.next().await {
                    if first.set(signal).is_ok() {
                        eprintln!(
                            "{} received: interrupted; stopping and removing this run's test records (at most {} s; send it again to exit at once)",
                            signal.name(),
                            budget.as_secs()
                        );
                        stop.cancel();
                    } else {
                        eprintln!("{}: exiting now", signal.name());
                        force.cancel();
                        return;
                    }
                }
            })
        };
        Ok(Signals {
            stop,
            force,
            first,
            task,
        })
    }

    /// Fired by the first signal.
    pub fn stop(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Fired by the second signal.
    pub fn force(&self) -> CancellationToken {
        self.force.clone()
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Signal> {
        self.first.get().copied()
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The three signal streams merged.
struct Incoming {
    #[cfg(unix)]
    streams: [(Signal, tokio::signal::unix::Signal); 3],
}

#[cfg(unix)]
fn listen() -> std::io::Result<Incoming> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok(Incoming {
        streams: [
            (Signal::Int, signal(SignalKind::interrupt())?),
            (Signal::Term, signal(SignalKind::terminate())?),
            (Signal::Hup, signal(SignalKind::hangup())?),
        ],
    })
}

#[cfg(not(unix))]
fn listen() -> std::io::Result<Incoming> {
    Ok(Incoming {})
}

impl Incoming {
    #[cfg(unix)]
    async fn next(&mut self) -> Option<Signal> {
        let [(a, sa), (b, sb), (c, sc)] = &mut self.streams;
        tokio::select! {
            Some(()) = sa.recv() => Some(*a),
            Some(()) = sb.recv() => Some(*b),
            Some(()) = sc.recv() => Some(*c),
            else => None,
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Option<Signal> {
        tokio::signal::ctrl_c().await.ok().map(|()| Signal::Int)
    }
}
