//! Typed client errors: every way an instance (or what stands in front of it) can answer badly.

use std::time::Duration;

/// What kind of HTML page came back where JSON was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlKind {
    /// A hibernating developer instance ("Instance Hibernating page").
    Hibernating,
    /// A login page, SSO or proxy interstitial.
    Interstitial,
    /// Any other HTML.
    Other,
}

/// A failed request. Messages are lower-case, name the object, and never contain a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("invalid instance URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot connect to {host}: {detail}")]
    Connect { host: String, detail: String },
    #[error("TLS handshake with {host} failed: {detail}")]
    Tls { host: String, detail: String },
    #[error("{what} timed out after {after:?}")]
    Timeout { what: String, after: Duration },
    #[error("authentication failed (401 {message}): check the user name and password")]
    Unauthorized { message: String },
    #[error("access denied (403 {message}: {detail})")]
    Forbidden { message: String, detail: String },
    /// A 403 whose body is not the JSON error envelope: most likely IP Address Access Control.
    #[error(
        "the instance refused the request with a non-JSON 403: the address of this machine is probably blocked by IP Address Access Control"
    )]
    IpBlocked,
    #[error("not found (404 {message})")]
    NotFound { message: String },
    #[error("invalid table {table}")]
    InvalidTable { table: String },
    #[error("bad request (400 {message}: {detail})")]
    BadRequest { message: String, detail: String },
    #[error("rate limited (429 {message}){}", retry_hint(*.retry_after))]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("{}", html_message(*.kind, .title))]
    Html { kind: HtmlKind, title: String },
    #[error("the instance cancelled the transaction (maximum execution time exceeded)")]
    TransactionCancelled,
    #[error("unexpected response from {what}: {detail}")]
    Decode { what: String, detail: String },
    #[error("redirected to another host ({location}); credentials were not forwarded")]
    CrossHostRedirect { location: String },
    /// A redirect within the instance's own host (e.g. to `login.do`): still not followed.
    #[error("{}", redirect_message(.location))]
    Redirect { location: String },
    #[error("unexpected HTTP status {status} from {what}")]
    Status { status: u16, what: String },
    #[error("interrupted")]
    Cancelled,
    /// The run's response budget ([`super::budget::ResponseBudget`]) is spent.
    #[error(
        "the instance sent more than {limit_mb} MB in this run (the response budget); snowdoctor stopped reading to protect memory and the HAR: check that the URL is the instance and not a proxy or a misconfigured endpoint"
    )]
    BudgetExceeded { limit_mb: u64 },
    /// A table name or record id that may not become part of a request's path.
    #[error("refused to address {what} {value:?}: {reason}")]
    NotAddressable {
        what: &'static str,
        value: String,
        reason: String,
    },
}

fn html_message(kind: HtmlKind, title: &str) -> String {
    match kind {
        HtmlKind::Hibernating => {
            "the instance is hibernating: sign in to the developer portal to wake it, then rerun"
                .into()
        }
        HtmlKind::Interstitial => format!(
            "an HTML page ({title:?}) came back where JSON was expected: an SSO, proxy or captive-portal interstitial is in the way"
        ),
        HtmlKind::Other => format!("an HTML page ({title:?}) came back where JSON was expected"),
    }
}

fn redirect_message(location: &str) -> String {
    if location.is_empty() {
        "redirected without a Location header (redirects are not followed)".into()
    } else {
        format!("redirected to {location} (redirects are not followed)")
    }
}

impl ClientError {
    /// The error of a 3xx: [`ClientError::Redirect`] when `location` (already resolved against the
    /// request URL) stays on the instance's host and port, else [`ClientError::CrossHostRedirect`].
    /// `base` is the instance base URL (`Client::base_url`, `Context::instance`) or its `host[:port]`
    /// (`Client::host`). A missing or relative Location stays on the same host.
    pub fn redirect(location: &str, base: &str) -> ClientError {
        let location = location.to_string();
        let base_host = match url::Url::parse(base) {
            Ok(url) if url.has_host() => super::host::host_of(&url),
            _ => base.to_string(),
        };
        let same_host = match url::Url::parse(&location) {
            Ok(url) => super::host::host_of(&url).eq_ignore_ascii_case(&base_host),
            Err(_) => true,
        };
        if same_host {
            ClientError::Redirect { location }
        } else {
            ClientError::CrossHostRedirect { location }
        }
    }

    /// True for errors worth retrying on an idempotent read.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { .. }
                | ClientError::Timeout { .. }
                | ClientError::RateLimited { .. }
                | ClientError::Server { .. }
        )
    }

    /// True when nothing useful can be learnt from the instance at all.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { .. }
                | ClientError::Tls { .. }
                | ClientError::Html { .. }
                | ClientError::IpBlocked
                | ClientError::InvalidUrl { .. }
        )
    }
}

/// `; retry after N s`, or nothing when the instance did not say.
fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; retry after {} s", d.as_secs()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_says_seconds_or_nothing() {
        let limited = |retry_after| ClientError::RateLimited {
            message: "Too Many Requests".into(),
            retry_after,
        };
        assert_eq!(
            limited(Some(Duration::from_secs(1150))).to_string(),
            "rate limited (429 Too Many Requests); retry after 1150 s"
        );
        assert_eq!(
            limited(None).to_string(),
            "rate limited (429 Too Many Requests)"
        );
    }

    fn same_host(location: &str, base_host: &str) -> bool {
        match ClientError::redirect(location, base_host) {
            ClientError::Redirect { location: kept } => {
                assert_eq!(kept, location);
                true
            }
            ClientError::CrossHostRedirect { location: kept } => {
                assert_eq!(kept, location);
                false
            }
            other => panic!("not a redirect error: {other:?}"),
        }
    }

    #[test]
    fn a_redirect_is_cross_host_only_when_host_or_port_differs() {
        let host = "acme.service-now.com";
        assert!(same_host("https://acme.service-now.com/login.do", host));
        assert!(same_host("https://ACME.service-now.com:443/login.do", host));
        assert!(same_host("/login.do", host), "relative stays on the host");
        assert!(same_host("", host), "no Location goes nowhere else");
        assert!(!same_host("https://login.microsoftonline.com/x", host));
        assert!(!same_host(
            "https://acme.service-now.com:8443/login.do",
            host
        ));
        assert!(!same_host(
            "https://acme.service-now.com.evil.example/",
            host
        ));
        let emulator = "127.0.0.1:8443";
        assert!(same_host("https://127.0.0.1:8443/login.do", emulator));
        assert!(!same_host("https://127.0.0.1:9443/login.do", emulator));
        assert!(!same_host("https://127.0.0.1/login.do", emulator));
        // The base URL itself works as well as its host.
        let base = "https://127.0.0.1:8443";
        assert!(same_host("https://127.0.0.1:8443/login.do", base));
        assert!(!same_host("https://127.0.0.1:9443/login.do", base));
        assert!(same_host(
            "https://acme.service-now.com/x",
            "https://acme.service-now.com/"
        ));
        assert!(!same_host(
            "https://sso.example/x",
            "https://acme.service-now.com"
        ));
    }

    #[test]
    fn a_same_host_redirect_says_it_was_not_followed_without_blaming_another_host() {
        let text = ClientError::redirect(
            "https://acme.service-now.com/login.do",
            "acme.service-now.com",
        )
        .to_string();
        assert_eq!(
            text,
            "redirected to https://acme.service-now.com/login.do (redirects are not followed)"
        );
        let text = ClientError::redirect("", "acme.service-now.com").to_string();
        assert!(text.contains("without a Location"), "{text}");
        let text =
            ClientError::redirect("https://sso.example/login", "acme.service-now.com").to_string();
        assert!(text.contains("another host"), "{text}");
    }
}
