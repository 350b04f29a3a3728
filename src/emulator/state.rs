//! Shared state of a running emulator: the database, issued tokens, the audit log, faults and counters.
//! Locks are std mutexes held only for short synchronous sections, never across an await.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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

/// Rate-limit window: `used` counts API requests until `reset_at`, when it starts again at zero (the
/// platform commits its counts per hour; tests shorten `window`).
#[derive(Debug)]
pub struct RateState {
    pub limit: Option<u32>,
    pub used: u32,
    pub window: Duration,
    pub reset_at: SystemTime,
}

impl RateState {
    /// A window of `window`; an hour-long window ends at the top of the next hour, like the platform's.
    pub fn new(limit: Option<u32>, window: Duration) -> RateState {
        // A year is long enough for any test and keeps the time arithmetic far from overflow.
        let window = window.clamp(Duration::from_millis(1), Duration::from_secs(366 * 86_400));
        let now = SystemTime::now();
        let reset_at = if window == Duration::from_secs(3600) {
            let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            UNIX_EPOCH + Duration::from_secs((secs / 3600 + 1) * 3600)
        } else {
            now + window
        };
        RateState {
            limit,
            used: 0,
            window,
            reset_at,
        }
    }

    /// Starts a new window (count back to zero) once `reset_at` has passed.
    pub fn roll(&mut self, now: SystemTime) {
        if now < self.reset_at {
            return;
        }
        self.used = 0;
        let step = self.window;
        let behind = now.duration_since(self.reset_at).unwrap_or_default();
        let windows = behind.as_nanos() / step.as_nanos().max(1) + 1;
        let windows = u32::try_from(windows).unwrap_or(u32::MAX);
        self.reset_at = self
            .reset_at
            .checked_add(step.saturating_mul(windows))
            .unwrap_or(now + step);
    }
}

/// A signed-in UI session (`/login.do`), keyed by its `JSESSIONID` cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_sys_id: String,
    /// The form token (`sysparm_ck`) a consent POST must carry.
    pub ck: String,
}

/// An authorization code from the consent page: single use, bound to client and redirect URI.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub user_sys_id: String,
    pub client_id: String,
    /// The redirect URI the code was delivered to.
    pub redirect_uri: String,
    /// Whether the authorization request named it (then the token request must repeat it).
    pub redirect_given: bool,
    pub expires: Instant,
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
    pub sessions: Mutex<HashMap<String, Session>>,
    pub codes: Mutex<HashMap<String, AuthCode>>,
    /// The Batch API's transaction quota: items not started within it are left unserviced.
    pub batch_quota: Mutex<Duration>,
    /// Whether the Batch API answers.
    pub batch_api: Mutex<super::BatchApi>,
    /// Time each batch item takes inside the instance; `None`: the emulated latency.
    pub batch_item_latency: Mutex<Option<Duration>>,
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
