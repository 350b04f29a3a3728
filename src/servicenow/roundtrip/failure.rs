//! Why a round-trip step failed: the HTTP status, the platform's message and the likely cause in the
//! admin's terms — and whether a failed create may still have inserted the record.

use super::{STEP_CLOSE, STEP_CREATE, STEP_DELETE, STEP_READ, STEP_UPDATE};
use crate::servicenow::ClientError;

/// The first step that failed: HTTP status, the platform's message and the likely cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub step: String,
    pub http_status: Option<u16>,
    pub message: String,
    pub cause: String,
    /// `Retry-After`, seconds, on a 429.
    pub retry_after: Option<u64>,
}

impl StepFailure {
    /// `"HTTP 403 "` when an HTTP status came back, else empty: the prefix of the step's message.
    pub fn status_prefix(&self) -> String {
        self.http_status
            .map(|s| format!("HTTP {s} "))
            .unwrap_or_default()
    }
}

/// True when a failed create may still have inserted the record: whenever the request may have reached
/// the instance. A status is no proof of the opposite (a 400, 403 or 429 from a business rule, a proxy
/// or a gateway can follow a committed insert), so only a request that was never sent is certain.
pub(super) fn create_may_have_inserted(error: &ClientError) -> bool {
    !matches!(
        error,
        ClientError::InvalidUrl { .. } | ClientError::NotAddressable { .. }
    )
}

/// The HTTP status, the platform's message and the likely cause of a failed step.
pub fn describe(step_name: &str, error: &ClientError, table: &str) -> StepFailure {
    let (http_status, message) = match error {
        ClientError::Unauthorized { message } => (Some(401), message.clone()),
        ClientError::Forbidden { message, detail } => (Some(403), format!("{message}: {detail}")),
        ClientError::IpBlocked => (Some(403), "non-JSON 403".into()),
        ClientError::NotFound { message } => (Some(404), message.clone()),
        ClientError::InvalidTable { .. } => (Some(400), format!("Invalid table {table}")),
        ClientError::BadRequest { message, detail } => (Some(400), format!("{message}: {detail}")),
        ClientError::RateLimited { message, .. } => (Some(429), message.clone()),
        ClientError::Server { status, message } => (Some(*status), message.clone()),
        ClientError::Status { status, .. } => (Some(*status), error.to_string()),
        other => (None, other.to_string()),
    };
    let retry_after = match error {
        ClientError::RateLimited { retry_after, .. } => retry_after.map(|d| d.as_secs()),
        _ => None,
    };
    let cause = match (step_name, error) {
        (STEP_CREATE, ClientError::Forbidden { .. }) => {
            format!("an ACL denied the integration user's insert on {table}")
        }
        (STEP_UPDATE | STEP_CLOSE, ClientError::Forbidden { .. }) => format!(
            "the integration user may not update tickets on {table} (an ACL or data policy denied the update)"
        ),
        (STEP_DELETE, ClientError::Forbidden { .. }) => {
            format!("the integration user may not delete {table} records")
        }
        (STEP_READ, ClientError::NotFound { .. }) => format!(
            "the integration user cannot read the ticket it created: a read ACL or query business rule on {table} hides it"
        ),
        (_, ClientError::Forbidden { .. }) => format!("an ACL on {table} denied the request"),
        (_, ClientError::RateLimited { .. }) => format!(
            "the instance's REST rate limit for the integration user is exhausted (sys_rate_limit_rules){}",
            retry_after
                .map(|s| format!("; retry after {s} s"))
                .unwrap_or_default()
        ),
        (_, ClientError::Unauthorized { .. }) => {
            "the bearer token was not accepted (expired or revoked)".into()
        }
        (_, ClientError::InvalidTable { .. }) => {
            format!("table {table} does not exist on the instance; pass --ticket-table")
        }
        (_, ClientError::BadRequest { .. }) => {
            format!("the instance rejected the record: a mandatory field or data policy on {table}")
        }
        (_, ClientError::Server { .. }) => {
            "the instance failed while processing the request (a business rule or script error)"
                .into()
        }
        (_, ClientError::Timeout { .. }) => "no answer within the request timeout".into(),
        (_, ClientError::Connect { .. }) => "the connection failed or was reset".into(),
        (_, ClientError::Tls { .. }) => {
            "the connection was cut during the exchange (reset, or a TLS-intercepting proxy)".into()
        }
        (_, ClientError::Decode { .. }) => "the response was cut off or malformed".into(),
        (_, ClientError::Html { .. }) => {
            "an HTML page came back instead of the Table API (SSO, proxy or hibernation)".into()
        }
        (_, other) => other.to_string(),
    };
    StepFailure {
        step: step_name.to_string(),
        http_status,
        message,
        cause,
        retry_after,
    }
}
