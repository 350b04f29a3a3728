//! HTTP client for one instance: URL validation, TLS trust, authentication, retries for idempotent reads,
//! error classification, and a redacted transcript of every exchange.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::error::{ClientError, HtmlKind};
use super::redact;
use super::transcript::{Exchange, Header, Transcript};
use crate::secrets::{REDACTED, SecretRegistry};

/// Largest response body we read; a hostile server cannot make us buffer more.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Longest `Retry-After` we are willing to wait for on a read.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Basic {
        user: String,
        password: SecretString,
    },
    Bearer(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Basic { user, .. } => write!(f, "Auth::Basic({user}, [REDACTED])"),
            Auth::Bearer(_) => f.write_str("Auth::Bearer([REDACTED])"),
        }
    }
}

impl Auth {
    /// Basic auth for `user`, with the password and its wire form (`base64(user:password)`) registered
    /// as secrets at once: a server may echo the credential back (in a body, a header, a redirect's
    /// Location) before or without our ever sending it, and either form must be redacted wherever it shows.
    pub fn basic(user: &str, password: SecretString, secrets: &SecretRegistry) -> Auth {
        let auth = Auth::Basic {
            user: user.to_string(),
            password,
        };
        register_credential(secrets, &auth);
        auth
    }
}

/// Registers a credential in every form it travels in (see [`Auth::basic`]).
fn register_credential(secrets: &SecretRegistry, auth: &Auth) {
    match auth {
        Auth::None => {}
        Auth::Basic { user, password } => {
            secrets.register(password);
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", password.expose_secret()));
            secrets.register(&SecretString::from(token));
        }
        Auth::Bearer(token) => secrets.register(token),
    }
}

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
    pub secrets: SecretRegistry,
    pub transcript: Transcript,
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
            secrets: SecretRegistry::new(),
            transcript: Transcript::new(),
        }
    }
}

/// A response as received, before any JSON interpretation.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: String,
    pub headers: HeaderMap,
    pub body: String,
    /// `Location` header of a redirect, resolved against the request URL.
    pub location: Option<String>,
}

impl RawResponse {
    /// True when the body is HTML (by content type or by sniffing).
    pub fn is_html(&self) -> bool {
        self.content_type.contains("html") || looks_like_html(&self.body)
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request body: what is sent, and the redacted text the transcript keeps.
pub struct Body {
    pub mime: &'static str,
    pub text: String,
}

/// The validated client for one instance.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    options: ClientOptions,
    /// Human-readable warnings about the connection settings (insecure, plain http).
    warnings: Vec<String>,
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
        })
    }

    /// The instance base URL (no trailing slash).
    pub fn base_url(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_string()
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

    /// Resolves a path (with query) against the base URL.
    pub fn url(&self, path_and_query: &str) -> Result<Url, ClientError> {
        self.base
            .join(path_and_query.trim_start_matches('/'))
            .map_err(|e| ClientError::InvalidUrl {
                url: path_and_query.to_string(),
                reason: e.to_string(),
            })
    }

    /// Sends one request, with retries when `idempotent`, and returns the raw response whatever its
    /// status. Transport failures, timeouts and oversized bodies are errors.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        auth: &Auth,
        accept: &str,
        body: Option<Body>,
        idempotent: bool,
    ) -> Result<RawResponse, ClientError> {
        let mut attempt = 0;
        loop {
            let result = self
                .send_once(method.clone(), url.clone(), auth, accept, body.as_ref())
                .await;
            let retry_in = match &result {
                Err(e) if idempotent && e.is_transient() => Some(backoff(attempt)),
                Ok(r) if idempotent && r.status == 429 => retry_after(&r.headers)
                    .filter(|d| *d <= MAX_RETRY_AFTER)
                    .or(None),
                Ok(r) if idempotent && (500..600).contains(&r.status) && r.status != 501 => {
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

    async fn send_once(
        &self,
        method: Method,
        url: Url,
        auth: &Auth,
        accept: &str,
        body: Option<&Body>,
    ) -> Result<RawResponse, ClientError> {
        // Every credential this client puts on the wire is registered before the request leaves, in
        // the form it travels (an `Auth` built without `Auth::basic` is covered here too).
        register_credential(&self.options.secrets, auth);
        let started = Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339();
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(header::ACCEPT, accept);
        request = match auth {
            Auth::None => request,
            Auth::Basic { user, password } => {
                request.basic_auth(user, Some(password.expose_secret()))
            }
            Auth::Bearer(token) => request.bearer_auth(token.expose_secret()),
        };
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, body.mime)
                .body(body.text.clone());
        }
        let mut exchange = Exchange {
            started_at,
            method: method.to_string(),
            url: self.options.secrets.redact(&redact::url(url.as_str())),
            request_headers: request_headers(accept, auth, body),
            request_body: body.map(|b| redact::body(&self.options.secrets, b.mime, &b.text)),
            request_mime: body.map(|b| b.mime.to_string()),
            status: 0,
            status_text: String::new(),
            response_headers: Vec::new(),
            response_body: None,
            response_mime: None,
            error: None,
            duration_ms: 0,
        };
        let result = self.receive(request, &url).await;
        exchange.duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(response) => {
                exchange.status = response.status;
                exchange.status_text = StatusCode::from_u16(response.status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("")
                    .to_string();
                exchange.response_headers = response_headers(&response.headers);
                exchange.response_mime = Some(response.content_type.clone());
                exchange.response_body = Some(redact::body(
                    &self.options.secrets,
                    &response.content_type,
                    &response.body,
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
    ) -> Result<RawResponse, ClientError> {
        let mut response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        // A hostile server may echo our credentials back in any header or body; everything the server
        // says is cleaned of known secrets here, once, so no check, error, log or report can repeat them.
        let headers = self.redact_headers(response.headers());
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
        Ok(RawResponse {
            status,
            content_type,
            headers,
            body: self
                .options
                .secrets
                .redact(&String::from_utf8_lossy(&bytes)),
            location,
        })
    }

    /// The response headers with every known secret value replaced.
    fn redact_headers(&self, headers: &HeaderMap) -> HeaderMap {
        let mut clean = HeaderMap::with_capacity(headers.len());
        for (name, value) in headers {
            let text = String::from_utf8_lossy(value.as_bytes());
            let redacted = self.options.secrets.redact(&text);
            let value = if redacted == text {
                value.clone()
            } else {
                HeaderValue::from_str(&redacted).unwrap_or(HeaderValue::from_static(REDACTED))
            };
            clean.append(name.clone(), value);
        }
        clean
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

/// Checks the instance URL: https (http only to loopback or with `allow_http`), a host, no credentials,
/// no query or fragment.
pub fn validate_base_url(raw: &str, allow_http: bool) -> Result<(Url, Vec<String>), ClientError> {
    let trimmed = raw.trim();
    let invalid = |reason: String| ClientError::InvalidUrl {
        url: redact::url(trimmed),
        reason,
    };
    if trimmed.is_empty() {
        return Err(invalid(
            "the instance URL is empty (use --instance https://NAME.service-now.com)".into(),
        ));
    }
    if !trimmed.contains("://") {
        let hint = if trimmed.contains('.') {
            format!("https://{trimmed}")
        } else {
            format!("https://{trimmed}.service-now.com")
        };
        return Err(invalid(format!("no scheme; did you mean {hint}?")));
    }
    let url = Url::parse(trimmed).map_err(|e| invalid(e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the URL contains credentials; pass the user with --user and the password through SNOWDOCTOR_PASSWORD".into(),
        ));
    }
    let Some(host) = url.host_str() else {
        return Err(invalid("the URL has no host".into()));
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "the instance URL must not have a query or fragment".into(),
        ));
    }
    let mut warnings = Vec::new();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" if allow_http => warnings.push(format!(
            "plain http:// to {host} (--allow-http): credentials and tokens travel unencrypted"
        )),
        "http" => {
            return Err(invalid(
                "http:// is only allowed to a loopback address; use https:// (or --allow-http, unsafe)".into(),
            ));
        }
        other => {
            return Err(invalid(format!(
                "unsupported scheme {other:?}; use https://"
            )));
        }
    }
    let mut base = url.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok((base, warnings))
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

fn host_of(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
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

/// Parses `Retry-After` (seconds form).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// True when a body looks like HTML even without an HTML content type.
pub fn looks_like_html(body: &str) -> bool {
    let start = body.trim_start().get(..64).unwrap_or(body.trim_start());
    let lower = start.to_ascii_lowercase();
    lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.starts_with("<head")
}

/// Classifies an HTML page by its content.
pub fn html_kind(body: &str) -> (HtmlKind, String) {
    let lower = body.to_ascii_lowercase();
    let title = lower
        .find("<title>")
        .and_then(|start| {
            let rest = &body[start + 7..];
            rest.find("</title>")
                .map(|end| rest[..end].trim().to_string())
        })
        .unwrap_or_default();
    let kind = if lower.contains("hibernating") {
        HtmlKind::Hibernating
    } else if [
        "login",
        "sign in",
        "sso",
        "proxy",
        "single sign-on",
        "authenticat",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        HtmlKind::Interstitial
    } else {
        HtmlKind::Other
    };
    (kind, title.chars().take(80).collect())
}

fn request_headers(accept: &str, auth: &Auth, body: Option<&Body>) -> Vec<Header> {
    let mut headers = vec![Header {
        name: "Accept".into(),
        value: accept.into(),
    }];
    if !matches!(auth, Auth::None) {
        headers.push(Header {
            name: "Authorization".into(),
            value: REDACTED.into(),
        });
    }
    if let Some(body) = body {
        headers.push(Header {
            name: "Content-Type".into(),
            value: body.mime.into(),
        });
    }
    headers
}

fn response_headers(headers: &HeaderMap) -> Vec<Header> {
    headers
        .iter()
        .map(|(name, value)| Header {
            name: name.as_str().to_string(),
            value: if redact::is_secret_header(name.as_str()) {
                REDACTED.into()
            } else {
                value.to_str().unwrap_or("<binary>").to_string()
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http_only() {
        assert!(validate_base_url("https://acme.service-now.com", false).is_ok());
        assert!(validate_base_url("http://127.0.0.1:8080", false).is_ok());
        assert!(validate_base_url("http://[::1]:8080/", false).is_ok());
        assert!(validate_base_url("http://acme.service-now.com", false).is_err());
        let (_, warnings) = validate_base_url("http://acme.example", true).expect("allowed");
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn rejects_malformed_urls_without_echoing_passwords() {
        let err = validate_base_url("https://admin:hunter2@acme.service-now.com", false)
            .expect_err("credentials in URL");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = validate_base_url("acme", false).expect_err("no scheme");
        assert!(err.to_string().contains("https://acme.service-now.com"));
        assert!(validate_base_url("https://", false).is_err());
        assert!(validate_base_url("ftp://acme", false).is_err());
        assert!(validate_base_url("https://acme.example/?x=1", false).is_err());
    }

    #[test]
    fn basic_auth_registers_its_wire_form() {
        let secrets = SecretRegistry::new();
        let _auth = Auth::basic(
            "admin",
            SecretString::from("canary-pw-123".to_string()),
            &secrets,
        );
        let wire = base64::engine::general_purpose::STANDARD.encode("admin:canary-pw-123");
        let echoed = format!("Authorization: Basic {wire}; password canary-pw-123");
        assert_eq!(
            secrets.redact(&echoed),
            "Authorization: Basic [REDACTED]; password [REDACTED]"
        );
    }

    #[test]
    fn echoed_secrets_are_redacted_from_response_headers() {
        let options = ClientOptions::new("https://acme.service-now.com");
        options
            .secrets
            .register(&SecretString::from("canary-pw-123".to_string()));
        let client = Client::new(options).expect("client");
        let mut headers = HeaderMap::new();
        headers.insert("x-echo", HeaderValue::from_static("pw=canary-pw-123"));
        headers.insert(
            "location",
            HeaderValue::from_static("/login?next=canary-pw-123"),
        );
        headers.insert("x-plain", HeaderValue::from_static("nothing secret"));
        let clean = client.redact_headers(&headers);
        assert_eq!(clean["x-echo"], "pw=[REDACTED]");
        assert_eq!(clean["location"], "/login?next=[REDACTED]");
        assert_eq!(clean["x-plain"], "nothing secret");
    }

    #[test]
    fn classifies_html_pages() {
        let (kind, title) =
            html_kind("<html><head><title>Instance Hibernating page</title></head></html>");
        assert_eq!(kind, HtmlKind::Hibernating);
        assert_eq!(title, "Instance Hibernating page");
        assert_eq!(
            html_kind("<html><body>Please sign in</body>").0,
            HtmlKind::Interstitial
        );
        assert!(looks_like_html("  <!DOCTYPE html><html>"));
        assert!(!looks_like_html("{\"result\":[]}"));
    }
}
