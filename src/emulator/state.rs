//! Shared state of a running emulator: the database, issued tokens, the audit log, faults and counters.
//! Locks are std mutexes held only for short synchronous sections, never across an await.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use tokio_util::sync::CancellationToken;

use super::scenario::Modes;
use super::store::Store;
use super::{AuditEntry, Fault};

/// Build identity served by stats.do / xmlstats.do (the running build, not a table row).
#[derive(Debug, Clone)]
pub struct Build {
    pub tag: String,
    pub date: String,
}

impl Build {
    /// The family token, capitalised the way `glide.buildname` shows it (`Brazil`).
    pub fn name(&self) -> String {
        let family = self
            .tag
            .strip_prefix("glide-")
            .and_then(|rest| rest.split('-').next())
            .unwrap_or("unknown");
        let mut chars = family.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

/// What a token stands for.
#[derive(Debug, Clone)]
pub struct Token {
    pub user_sys_id: String,
    pub client_id: String,
    pub expires: Instant,
    pub refresh: bool,
}

/// A fault with its remaining count.
#[derive(Debug, Clone)]
pub struct ActiveFault {
    pub fault: Fault,
    pub remaining: Option<u32>,
}

/// Rate-limit window.
#[derive(Debug, Default)]
pub struct RateState {
    pub limit: Option<u32>,
    pub used: u32,
}

/// Per-connection context inserted by the accept loop.
#[derive(Clone)]
pub struct ConnCtx {
    pub peer: SocketAddr,
    /// Cancelling drops the connection without a response (the Reset fault).
    pub kill: CancellationToken,
}

/// Everything handlers share.
pub struct Shared {
    pub db: Mutex<Store>,
    pub modes: Modes,
    pub tokens: Mutex<HashMap<String, Token>>,
    pub audit: Mutex<Vec<AuditEntry>>,
    pub faults: Mutex<Vec<ActiveFault>>,
    pub rate: Mutex<RateState>,
    pub requests: AtomicUsize,
    pub latency: Duration,
    pub client_ip: Option<IpAddr>,
    pub scheme: &'static str,
    pub build: Build,
    pub shutdown: CancellationToken,
    /// The router itself, for the batch API's internal dispatch.
    pub router: Mutex<Option<Router>>,
}

/// Handle passed to axum handlers.
pub type App = Arc<Shared>;

/// Locks a mutex, recovering the data if a panicking thread poisoned it (state stays usable).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
