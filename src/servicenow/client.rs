//! HTTP client for one instance: TLS trust, sending with credentials, retries for idempotent reads,
//! bounded reading of the answer, transport-error classification, and a redacted transcript of every
//! exchange. The URL checks, credentials, response sniffing and redaction live in their own modules.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::auth::register_credential;
pub use super::budget::ResponseBudget;
use super::error::ClientError;
use super::host::host_of;
use super::redact;
use super::request::Request;
use super::transcript::{Exchange, Transcript};
use crate::secrets::{SecretRegistry, SecretString};

// The client's vocabulary, reachable at `client::…` where callers have always found it.
pub use super::auth::Auth;
pub use super::base_url::validate_base_url;
pub use super::request::Body;
pub use super::response::{RawResponse, html_kind, looks_like_html, retry_after};

/// Largest response body we read; a hostile server cannot make us buffer more.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Longest `Retry-After` we are willing to wait for on a read.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// How to reach the instance.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub base_url: String,
    /// PEM certificates to trust instead of the system roots (the emulator's CA).
    pub ca_cert_pem: Option<Vec<u8>>,
    pub insecure: bool,
    pub allow_http: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Retries for idempotent reads on transient errors.
    pub max_retries: u32,
    /// Rows per Table API page when reading a whole table.
    pub page_size: usize,
    pub secrets: SecretRegistry,
    pub transcript: Transcript,
    /// The run's total of response bytes (shared by every clone of the options).
    pub budget: ResponseBudget,
}

impl ClientOptions {
    /// Defaults for `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientOptions {
            base_url: base_url.into(),
            ca_cert_pem: None,
            insecure: false,
            allow_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 2,
            page_size: 500,
            secrets: SecretRegistry::new(),
            transcript: Transcript::new(),
            budget: ResponseBudget::from_env(),
        }
    }
}

/// The validated client for one instance.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    options: ClientOptions,
    /// Human-readable warnings about the connection settings (insecure, plain http).
    warnings: Vec<String>,
    /// Once fired (the first signal), no request starts and those in flight are dropped.
    stop: CancellationToken,
    /// What stops [`Client::for_cleanup`]'s requests: the second signal.
    force: CancellationToken,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish()
    }
}

impl Client {
    /// Validates the base URL and builds the HTTP client.
    pub fn new(options: ClientOptions) -> Result<Client, ClientError> {
        let (base, mut warnings) = validate_base_url(&options.base_url, options.allow_http)?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("snowdoctor/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &options.ca_cert_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                ClientError::InvalidUrl {
                    url: base.to_string(),
                    reason: format!("the CA certificate file is not valid PEM: {e}"),
                }
            })?;
            builder = builder.tls_certs_only(certs);
        }
        if options.insecure {
            warnings.push(
                "TLS certificate verification is OFF (--insecure): anyone on the path can read the credentials".into(),
            );
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| ClientError::Tls {
            host: host_of(&base),
            detail: e.to_string(),
        })?;
        Ok(Client {
            http,
            base,
            options,
            warnings,
            stop: CancellationToken::new(),
            force: CancellationToken::new(),
        })
    }

    /// This client stops at `stop` (no request starts after it, those in flight are dropped); the
    /// cleanup client ([`Client::for_cleanup`]) stops only at `force`.
    pub fn with_stop(mut self, stop: CancellationToken, force: CancellationToken) -> Client {
        self.stop = stop;
        self.force = force;
        self
    }

    /// The same client for removing the run's own records: it keeps working after the first signal
    /// and stops only at the second.
    pub fn for_cleanup(&self) -> Client {
        Client {
            stop: self.force.clone(),
            ..self.clone()
        }
    }

    /// The scheme, host and port of the instance.
    pub fn base_origin(&self) -> url::Origin {
        self.base.origin()
    }

    /// The instance base URL (no trailing slash).
    pub fn base_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
    }

    /// Rows per Table API page.
    pub fn page_size(&self) -> usize {
        self.options.page_size
    }

    /// The instance host name.
    pub fn host(&self) -> String {
        host_of(&self.base)
    }

    /// Warnings about insecure settings, for the report's notes.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The registry of secrets this client redacts.
    pub fn secrets(&self) -> &SecretRegistry {
        &self.options.secrets
    }

    /// The transcript this client records into.
    pub fn transcript(&self) -> &Transcript {
        &self.options.transcript
    }

    /// `BASE/api/now/table/TABLE[/SYS_ID]`, refusing a table name or sys_id that is not one.
    pub fn table_url_of(&self, table: &str, sys_id: Option<&str>) -> Result<Url, ClientError> {
        super::path::table_url(&self.base, table, sys_id)
    }

    /// `BASE/api/now/import/STAGING_TABLE`, refusing a name that is not a table name.
    pub fn import_url_of(&self, staging_table: &str) -> Result<Url, ClientError> {
        super::path::import_url(&self.base, staging_table)
    }

    /// Resolves a path (with query) against the base URL.
    pub fn url(&self, path_and_query: &str) -> Result<Url, ClientError> {
        self.base
            .join(path_and_query.trim_start_matches('/'))
            .map_err(|e| ClientError::InvalidUrl {
                url: path_and_query.to_string(),
                reason: e.to_string(),
            })
    }

    /// Sends one request, with retries when it is idempotent, and returns the raw response whatever
    /// its status. Transport failures, timeouts, oversized bodies and an exhausted response budget are
    /// errors.
    pub async fn send(&self, request: Request<'_>) -> Result<RawResponse, ClientError> {
        self.send_minting(request)
            .await
            .map(|(response, _)| response)
    }

    /// [`Client::send`] for a request marked [`Request::mints_tokens`]: also returns the tokens the
    /// answer carried. The response itself already shows them as `[REDACTED]`: they were registered
    /// as secrets the moment they arrived.
    pub async fn send_minting(
        &self,
        request: Request<'_>,
    ) -> Result<(RawResponse, Minted), ClientError> {
        // After a signal nothing new starts: no token request (a failed one counts toward lockout), no
        // write, no read; a request in flight is dropped.
        if self.stop.is_cancelled() {
            return Err(ClientError::Cancelled);
        }
        tokio::select! {
            biased;
            () = self.stop.cancelled() => Err(ClientError::Cancelled),
            result = self.send_retrying(request) => result,
        }
    }

    async fn send_retrying(
        &self,
        request: Request<'_>,
    ) -> Result<(RawResponse, Minted), ClientError> {
        let idempotent = request.idempotent;
        let url = request.url.clone();
        let mut attempt = 0;
        loop {
            let result = self.send_once(&request).await;
            let retry_in = match &result {
                Err(e) if idempotent && e.is_transient() => Some(backoff(attempt)),
                Ok((r, _)) if idempotent && r.status == 429 => {
                    retry_after(&r.headers).filter(|d| *d <= MAX_RETRY_AFTER)
                }
                Ok((r, _)) if idempotent && (500..600).contains(&r.status) && r.status != 501 => {
                    Some(backoff(attempt))
                }
                _ => None,
            };
            match retry_in {
                Some(delay) if attempt < self.options.max_retries => {
                    tracing::debug!(%url, attempt, ?delay, "retrying idempotent request");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return result,
            }
        }
    }

    async fn send_once(&self, request: &Request<'_>) -> Result<(RawResponse, Minted), ClientError> {
        let Request {
            method,
            url,
            auth,
            accept,
            body,
            mints_tokens,
            batch_envelope,
            ..
        } = request;
        let (method, url, auth, accept, body) =
            (method.clone(), url.clone(), *auth, *accept, body.as_ref());
        self.options.budget.check()?;
        // Every credential this client puts on the wire is registered before the request leaves, in
        // the form it travels (an `Auth` built without `Auth::basic` is covered here too).
        register_credential(&self.options.secrets, auth);
        let started = Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339();
        let mut builder = self
            .http
            .request(method.clone(), url.clone())
            .header(header::ACCEPT, accept);
        builder = match auth {
            Auth::None => builder,
            Auth::Basic { user, password } => {
                builder.basic_auth(user, Some(password.expose_secret()))
            }
            Auth::Bearer(token) => builder.bearer_auth(token.expose_secret()),
        };
        if let Some(body) = body {
            builder = builder
                .header(header::CONTENT_TYPE, body.mime)
                .body(body.text.clone());
        }
        let mut exchange = Exchange {
            started_at,
            method: method.to_string(),
            url: self.options.secrets.redact(&redact::url(url.as_str())),
            request_headers: redact::request_headers(
                accept,
                !matches!(auth, Auth::None),
                body.map(|b| b.mime),
            ),
            request_body: body.map(|b| redact::body(&self.options.secrets, b.mime, &b.text)),
            request_mime: body.map(|b| b.mime.to_string()),
            status: 0,
            status_text: String::new(),
            response_headers: Vec::new(),
            response_body: None,
            response_mime: None,
            error: None,
            duration_ms: 0,
            batch: None,
        };
        let result = self.receive(builder, &url, *mints_tokens).await;
        exchange.duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok((response, _)) => {
                exchange.status = response.status;
                exchange.status_text = StatusCode::from_u16(response.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("")
                    .to_string();
                exchange.response_headers = redact::response_headers(&response.headers);
                exchange.response_mime = Some(response.content_type.clone());
                let body = if *batch_envelope {
                    super::batch::elide_item_bodies(&response.body)
                } else {
                    response.body.clone()
                };
                exchange.response_body = Some(redact::body(
                    &self.options.secrets,
                    &response.content_type,
                    &body,
                ));
            }
            Err(error) => exchange.error = Some(self.options.secrets.redact(&error.to_string())),
        }
        tracing::debug!(
            method = %exchange.method,
            url = %exchange.url,
            status = exchange.status,
            ms = exchange.duration_ms,
            "exchange"
        );
        self.options.transcript.push(exchange);
        result
    }

    async fn receive(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
        mints_tokens: bool,
    ) -> Result<(RawResponse, Minted), ClientError> {
        let mut response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let raw_headers = response.headers().clone();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(ClientError::Decode {
                            what: url.path().to_string(),
                            detail: format!("response body larger than {MAX_BODY_BYTES} bytes"),
                        });
                    }
                    self.options.budget.spend(chunk.len())?;
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return Err(ClientError::Timeout {
                        what: format!("reading the response of {}", url.path()),
                        after: self.options.request_timeout,
                    });
                }
                Err(e) => {
                    return Err(ClientError::Decode {
                        what: url.path().to_string(),
                        detail: format!("the response body was cut off ({})", short_error(&e)),
                    });
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let minted = if mints_tokens {
            // A new token is a secret from the moment it arrives: registered before this response, or
            // the same value repeated in a header, another field or a later body, is stored anywhere.
            Minted::register(&self.options.secrets, &text)
        } else {
            Minted::default()
        };
        // A hostile server may echo our credentials back in any header or body; everything the server
        // says is cleaned of known secrets here, once, so no check, error, log or report can repeat them.
        let headers = redact::headers(&self.options.secrets, &raw_headers);
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|loc| url.join(loc).ok())
            .map(|u| self.options.secrets.redact(&redact::url(u.as_str())));
        let response = RawResponse {
            status,
            content_type,
            headers,
            body: self.options.secrets.redact(&text),
            location,
            url: url.to_string(),
        };
        Ok((response, minted))
    }

    fn transport_error(&self, error: reqwest::Error) -> ClientError {
        let host = self.host();
        if error.is_timeout() {
            return ClientError::Timeout {
                what: format!("the request to {host}"),
                after: self.options.request_timeout,
            };
        }
        let detail = short_error(&error);
        let lower = detail.to_ascii_lowercase();
        if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("corrupt message")
        {
            ClientError::Tls { host, detail }
        } else if lower.contains("invalid http") || lower.contains("parse") {
            // hyper's "invalid HTTP version parsed" and friends: something answers, but not HTTP.
            ClientError::Connect {
                host,
                detail: format!("the server does not speak HTTP ({detail})"),
            }
        } else {
            ClientError::Connect { host, detail }
        }
    }
}

/// The tokens a token-endpoint answer carried (any JSON object with `access_token`, `refresh_token`
/// or `id_token` strings, whatever its status), each registered as a secret.
#[derive(Debug, Default, Clone)]
pub struct Minted {
    pub access_token: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
}

impl Minted {
    fn register(secrets: &SecretRegistry, body: &str) -> Minted {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(body)
        else {
            return Minted::default();
        };
        let token = |field: &str, label: &str| {
            let value = map.get(field).and_then(serde_json::Value::as_str)?;
            let secret = SecretString::from(value.to_string());
            secrets.register_as(label, &secret);
            Some(secret).filter(|_| !value.is_empty())
        };
        let _ = token("id_token", "the OpenID id token minted during the run");
        Minted {
            access_token: token(
                "access_token",
                "the OAuth access token minted during the run",
            ),
            refresh_token: token(
                "refresh_token",
                "the OAuth refresh token minted during the run",
            ),
        }
    }
}

/// The innermost error message, without URLs that could carry query secrets.
fn short_error(error: &reqwest::Error) -> String {
    let mut message = "request failed".to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    message
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * 2u64.pow(attempt.min(4)))
}
