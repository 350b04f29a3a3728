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
    #[error("rate limited (429 {message}); retry after {retry_after:?}")]
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
    #[error("unexpected HTTP status {status} from {what}")]
    Status { status: u16, what: String },
    #[error("interrupted")]
    Cancelled,
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

impl ClientError {
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
