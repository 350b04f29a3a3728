//! A local ServiceNow instance (axum) serving `fixtures/instances`: the Table API, OAuth, stats pages,
//! the Aggregate, Batch and current-user APIs, with ACLs, rate limiting, hibernation, an interstitial,
//! IP Address Access Control, latency and fault injection. Tests, the demo and benchmarks run against it;
//! users start it with `snowdoctor emulate` to try the tool or reproduce a misconfiguration.
//!
//! Fidelity follows the platform reference (docs/reference/servicenow-platform.md §13); where the platform's behaviour
//! is unknown, the choice made is documented in `fixtures/instances/README.md`.
//!
//! Over 500 lines: the emulator's setup, options and credentials, one idea; each surface it serves has
//! its own file (`table_api.rs`, `consent.rs`, `import_set.rs` …).

#[expect(
    clippy::result_large_err,
    reason = "handlers return the ready-made error Response; boxing it buys nothing"
)]
mod auth;
#[expect(
    clippy::result_large_err,
    reason = "handlers return the ready-made error Response; boxing it buys nothing"
)]
mod consent;
mod fixtures;
mod gate;
mod import_set;
mod misc;
mod oauth;
mod query;
mod render;
mod reply;
mod scenario;
mod scripted;
mod server;
mod state;
mod store;
#[expect(
    clippy::result_large_err,
    reason = "handlers return the ready-made error Response; boxing it buys nothing"
)]
mod table_api;
mod tls;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use state::{ActiveFault, App, Build, RateState, Shared, lock};
use store::{Store, text};

/// sys_id of the emulated `sys_rate_limit_rules` row named in `X-RateLimit-Rule`.
pub const RATE_LIMIT_RULE: &str = "0f5e3d2c1b0a49f8e7d6c5b4a3f2e1d0";

/// The platform counts rate-limited requests per hour.
const RATE_WINDOW: Duration = Duration::from_secs(3600);

/// The Batch API's transaction quota ("REST Batch API request timeout", 30 s).
pub const BATCH_QUOTA: Duration = Duration::from_secs(30);

/// Build served when the scenario leaves no `glide.war` row to read it from.
const DEFAULT_BUILD_TAG: &str = "glide-brazil-08-25-2026__patch1-09-21-2026";
const DEFAULT_BUILD_DATE: &str = "10-02-2026_1200";

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Scenario name, e.g. "healthy" (see [`scenarios`]).
    pub scenario: String,
    /// Address to bind; loopback port 0 by default.
    pub bind: SocketAddr,
    /// TLS with a CA generated at start-up (default) or plain HTTP.
    pub tls: bool,
    /// Added to every request.
    pub latency: Duration,
    /// Address ip_access rules are evaluated against (never taken from request headers); default: the
    /// scenario's, else the real peer address.
    pub client_ip: Option<IpAddr>,
    /// Replace fixture passwords and secrets (for canary tests).
    pub secrets: SecretOverrides,
    /// Whether `POST /api/now/v1/batch` answers (it is missing on some instances, forbidden by ACL or
    /// rate-limited on others).
    pub batch_api: BatchApi,
}

/// How the emulator's Batch API answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BatchApi {
    /// Serves batches, as a current instance does.
    #[default]
    On,
    /// 404, as an instance without the Batch API (or a proxy that blocks the path) answers.
    Missing,
    /// 403, as when an ACL on the Batch API refuses the diagnosing account.
    Forbidden,
    /// 429 with `Retry-After`, as when a REST rate-limit rule covers the Batch API.
    RateLimited,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            scenario: "healthy".into(),
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            tls: true,
            latency: Duration::ZERO,
            client_ip: None,
            secrets: SecretOverrides::default(),
            batch_api: BatchApi::On,
        }
    }
}

/// Replacement secrets for the fixture accounts.
#[derive(Debug, Default, Clone)]
pub struct SecretOverrides {
    pub admin_password: Option<SecretString>,
    pub integration_password: Option<SecretString>,
    pub client_secret: Option<SecretString>,
}

/// What a client should use against this scenario.
#[derive(Debug, Clone)]
pub struct DemoCredentials {
    /// The diagnosing account (`admin`, or `itil.viewer` in the `non-admin` scenario).
    pub user: String,
    pub password: SecretString,
    pub integration_user: String,
    pub integration_password: SecretString,
    pub oauth_entity: String,
    pub client_id: String,
    pub client_secret: SecretString,
}

/// One write seen by the emulator.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub method: String,
    pub table: String,
    pub sys_id: String,
    pub user: String,
    pub time: chrono::DateTime<chrono::Utc>,
}

/// A fault injected at run time.
#[derive(Debug, Clone)]
pub struct Fault {
    /// `None` matches any method.
    pub method: Option<http::Method>,
    /// e.g. "/api/now/table/incident".
    pub path_prefix: String,
    pub kind: FaultKind,
    /// `None` = always, `Some(1)` = once.
    pub times: Option<u32>,
}

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// This status with the platform's JSON error envelope.
    Status(u16),
    /// Close the connection without a response.
    Reset,
    /// Never answer (hold the request until the emulator stops).
    Timeout,
    /// Content-Length larger than the body sent, then close.
    Truncated,
    /// 200 with invalid JSON.
    Malformed,
    /// 200 text/html interstitial.
    Html,
    /// 429 with the rate-limit headers.
    RateLimited,
}

/// A scenario's name and one-line description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioInfo {
    pub name: String,
    pub description: String,
}

/// Why the emulator could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The name typed, and a "did you mean" hint (possibly empty).
    #[error("unknown scenario {0:?}{1}; `snowdoctor emulate --list-scenarios` lists them")]
    UnknownScenario(String, String),
    #[error("instance fixtures: {0}")]
    Fixture(String),
    #[error("cannot listen on {addr}: {source}; pick another --port or --bind")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS set-up failed: {0}")]
    Tls(String),
    #[error("emulator runtime: {0}")]
    Runtime(String),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Every scenario, sorted by name.
pub fn scenarios() -> Vec<ScenarioInfo> {
    fixtures::scenarios()
}

/// A running emulator. Stops on [`Emulator::stop`] or drop.
pub struct Emulator {
    addr: SocketAddr,
    scheme: &'static str,
    ca_pem: Option<String>,
    shared: App,
    credentials: DemoCredentials,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

/// Current time in the Table API's format.
pub(crate) fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn set_column(store: &mut Store, table: &str, key: &str, wanted: &str, column: &str, value: &str) {
    if let Some(t) = store.tables.get_mut(table) {
        for row in t.rows.iter_mut().filter(|r| text(r, key) == wanted) {
            row.insert(column.into(), Value::String(value.into()));
        }
    }
}

fn apply_overrides(store: &mut Store, secrets: &SecretOverrides) {
    if let Some(p) = &secrets.admin_password {
        set_column(
            store,
            "sys_user",
            "user_name",
            "admin",
            "user_password",
            p.expose_secret(),
        );
    }
    if let Some(p) = &secrets.integration_password {
        set_column(
            store,
            "sys_user",
            "sys_id",
            fixtures::INTEGRATION_USER_ID,
            "user_password",
            p.expose_secret(),
        );
    }
    if let Some(p) = &secrets.client_secret {
        set_column(
            store,
            "oauth_entity",
            "sys_id",
            fixtures::CONNECTOR_ENTITY_ID,
            "client_secret",
            p.expose_secret(),
        );
    }
}

fn find_value(store: &Store, table: &str, key: &str, wanted: &str, column: &str) -> String {
    store
        .tables
        .get(table)
        .and_then(|t| t.rows.iter().find(|r| text(r, key) == wanted))
        .map(|r| text(r, column).to_string())
        .unwrap_or_default()
}

/// The demo's accounts: secrets and ids as the baseline holds them (a scenario that removes or breaks the
/// user or entity must not change what the diagnosis is given), names as the scenario leaves them (a
/// scenario may give them an integration's own names; the baseline's when the scenario removed them).
fn credentials(baseline: &Store, store: &Store, diagnosing: &str) -> DemoCredentials {
    let password = |user: &str| {
        SecretString::from(find_value(
            baseline,
            "sys_user",
            "user_name",
            user,
            "user_password",
        ))
    };
    let named = |table: &str, id: &str, fallback: &str| {
        let name_column = if table == "sys_user" {
            "user_name"
        } else {
            "name"
        };
        let name = find_value(store, table, "sys_id", id, name_column);
        if name.is_empty() {
            fallback.to_string()
        } else {
            name
        }
    };
    let entity = fixtures::CONNECTOR_ENTITY_ID;
    DemoCredentials {
        user: diagnosing.to_string(),
        password: password(diagnosing),
        integration_user: named(
            "sys_user",
            fixtures::INTEGRATION_USER_ID,
            fixtures::INTEGRATION_USER,
        ),
        integration_password: SecretString::from(find_value(
            baseline,
            "sys_user",
            "sys_id",
            fixtures::INTEGRATION_USER_ID,
            "user_password",
        )),
        oauth_entity: named("oauth_entity", entity, fixtures::CONNECTOR_ENTITY),
        client_id: find_value(baseline, "oauth_entity", "sys_id", entity, "client_id"),
        client_secret: SecretString::from(find_value(
            baseline,
            "oauth_entity",
            "sys_id",
            entity,
            "client_secret",
        )),
    }
}

/// The running build, read from `glide.war` (`<tag>_<MM-DD-YYYY_HHMM>.zip`) when the row exists.
fn build_of(store: &Store) -> Build {
    let war = find_value(store, "sys_properties", "name", "glide.war", "value");
    let parsed = war.strip_suffix(".zip").and_then(|w| {
        let split = w.len().checked_sub(16)?;
        let (tag, date) = (w.get(..split)?, w.get(split + 1..)?);
        (w.get(split..split + 1)? == "_" && tag.starts_with("glide-")).then(|| Build {
            tag: tag.to_string(),
            date: date.to_string(),
        })
    });
    parsed.unwrap_or_else(|| Build {
        tag: DEFAULT_BUILD_TAG.into(),
        date: DEFAULT_BUILD_DATE.into(),
    })
}

async fn fallback(uri: http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        reply::error(
            StatusCode::NOT_FOUND,
            "Requested URI does not represent any resource",
            None,
        )
    } else {
        reply::html(
            StatusCode::NOT_FOUND,
            "<!DOCTYPE html><html><head><title>Page not found</title></head>\
             <body><p>The page you are looking for could not be found.</p></body></html>"
                .into(),
        )
    }
}

fn build_router(shared: &App) -> Router {
    let inner = Router::new()
        .merge(table_api::routes())
        .merge(oauth::routes())
        .merge(consent::routes())
        .merge(misc::routes())
        .merge(scripted::routes())
        .merge(import_set::routes())
        .fallback(fallback)
        .with_state(shared.clone());
    *lock(&shared.router) = Some(inner.clone());
    inner.layer(axum::middleware::from_fn_with_state(
        shared.clone(),
        gate::gate,
    ))
}

impl Emulator {
    /// Starts an emulator on the current tokio runtime.
    pub async fn start(opts: EmulatorOptions) -> Result<Emulator, EmulatorError> {
        let instance = fixtures::load(&opts.scenario)?;
        let mut store = instance.store;
        let mut baseline = instance.baseline;
        apply_overrides(&mut store, &opts.secrets);
        apply_overrides(&mut baseline, &opts.secrets);
        let diagnosing = instance
            .modes
            .diagnosing_user
            .clone()
            .unwrap_or_else(|| "admin".into());
        let credentials = credentials(&baseline, &store, &diagnosing);
        let listener = tokio::net::TcpListener::bind(opts.bind)
            .await
            .map_err(|source| EmulatorError::Bind {
                addr: opts.bind,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: opts.bind,
                source,
            })?;
        let tls = if opts.tls {
            Some(tls::generate()?)
        } else {
            None
        };
        let scheme = if opts.tls { "https" } else { "http" };
        let shutdown = CancellationToken::new();
        let shared: App = Arc::new(Shared {
            build: build_of(&store),
            db: Mutex::new(store),
            rate: Mutex::new(RateState::new(instance.modes.rate_limit, RATE_WINDOW)),
            sessions: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            batch_quota: Mutex::new(BATCH_QUOTA),
            batch_api: Mutex::new(opts.batch_api),
            batch_item_latency: Mutex::new(None),
            client_ip: opts.client_ip.or(instance.modes.client_ip),
            modes: instance.modes,
            tokens: Mutex::new(HashMap::new()),
            audit: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
            latency: opts.latency,
            scheme,
            shutdown: shutdown.clone(),
            router: Mutex::new(None),
        });
        let router = build_router(&shared);
        let task = tokio::spawn(server::serve(
            listener,
            router,
            tls.as_ref().map(|t| t.config.clone()),
            shutdown.clone(),
        ));
        Ok(Emulator {
            addr,
            scheme,
            ca_pem: tls.map(|t| t.ca_pem),
            shared,
            credentials,
            shutdown,
            task: Some(task),
            thread: None,
        })
    }

    /// Starts an emulator with its own runtime on a background thread (for synchronous tests).
    pub fn start_blocking(opts: EmulatorOptions) -> Result<Emulator, EmulatorError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("snowdoctor-emulator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(EmulatorError::Runtime(e.to_string())));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Emulator::start(opts).await {
                        Ok(mut emulator) => {
                            let task = emulator.task.take();
                            if tx.send(Ok(emulator)).is_ok()
                                && let Some(task) = task
                            {
                                let _ = task.await;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| EmulatorError::Runtime(e.to_string()))?;
        let mut emulator = rx
            .recv()
            .map_err(|e| EmulatorError::Runtime(e.to_string()))??;
        emulator.thread = Some(thread);
        Ok(emulator)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` (or `http://` without TLS).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The CA certificate (PEM) when serving TLS.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// What a client should use for this scenario.
    pub fn credentials(&self) -> DemoCredentials {
        self.credentials.clone()
    }

    /// Every write so far.
    pub fn audit_log(&self) -> Vec<AuditEntry> {
        lock(&self.shared.audit).clone()
    }

    /// Current stored rows of a table (password columns blanked).
    pub fn rows(&self, table: &str) -> Vec<Map<String, Value>> {
        let store = lock(&self.shared.db);
        let passwords = store.schema(table).passwords;
        store
            .tables
            .get(table)
            .map(|t| {
                t.rows
                    .iter()
                    .map(|r| {
                        let mut r = r.clone();
                        for p in &passwords {
                            r.insert(p.clone(), Value::String(String::new()));
                        }
                        r
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Injects a fault (first matching fault wins).
    pub fn add_fault(&self, fault: Fault) {
        let remaining = fault.times;
        lock(&self.shared.faults).push(ActiveFault { fault, remaining });
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Changes the rate limit (API requests allowed before 429s) and restarts the count.
    pub fn set_rate_limit(&self, limit: Option<u32>) {
        let mut rate = lock(&self.shared.rate);
        rate.limit = limit;
        rate.used = 0;
    }

    /// Changes the rate-limit window (an hour by default, ending at the top of the hour) and starts a
    /// new one now; the count goes back to zero each time `X-RateLimit-Reset` passes.
    pub fn set_rate_window(&self, window: Duration) {
        let mut rate = lock(&self.shared.rate);
        *rate = RateState::new(rate.limit, window);
    }

    /// Changes the Batch API's transaction quota ([`BATCH_QUOTA`] by default): items not started
    /// within it come back in `unserviced_requests`.
    pub fn set_batch_quota(&self, quota: Duration) {
        *lock(&self.shared.batch_quota) = quota;
    }

    /// Switches the Batch API on, or makes it missing, forbidden or rate-limited.
    pub fn set_batch_api(&self, mode: BatchApi) {
        *lock(&self.shared.batch_api) = mode;
    }

    /// The time each Batch API item takes inside the instance (by default the emulated latency, as if
    /// each item cost a round trip; an instance's own processing time is usually a fraction of it).
    pub fn set_batch_item_latency(&self, latency: Duration) {
        *lock(&self.shared.batch_item_latency) = Some(latency);
    }

    /// Requests received so far.
    pub fn request_count(&self) -> usize {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops serving (open connections get up to a second to finish).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
        // Break the state → router → state cycle so the store is freed.
        lock(&self.shared.router).take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
