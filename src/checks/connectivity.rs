//! `connectivity`: DNS, TLS and HTTP reachability of the instance's REST API, and what stands in the way
//! (a hibernating developer instance, an HTML interstitial, an IP block of this machine).

use super::{Check, Code, Context, Outcome};
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::ClientError;
use crate::servicenow::client::{html_kind, retry_after};
use crate::servicenow::error::HtmlKind;
use crate::servicenow::table::json_result;
use serde_json::Value;

/// See the module docs.
pub struct Connectivity;

const UNDECIDED: Code = Code::fail("undecided");
const SERVER_ERROR: Code = Code::fail("server-error");
const IP_BLOCKED: Code = Code::fail("ip-blocked");
const HIBERNATING: Code = Code::fail("hibernating");
const INTERSTITIAL: Code = Code::fail("interstitial");
const ANONYMOUS_ACCESS: Code = Code::warn("anonymous-access");
const OVERLOADED: Code = Code::fail("overloaded");
const NOT_TABLE_API: Code = Code::fail("not-table-api");
const THROTTLED: Code = Code::fail("throttled");
const UNEXPECTED_STATUS: Code = Code::fail("unexpected-status");
const REDIRECTED: Code = Code::fail("redirected");
const TLS: Code = Code::fail("tls");
const TIMEOUT: Code = Code::fail("timeout");
const UNREACHABLE: Code = Code::fail("unreachable");

impl Check for Connectivity {
    fn name(&self) -> &'static str {
        "connectivity"
    }

    fn codes(&self) -> &'static [Code] {
        &[
            UNDECIDED,
            SERVER_ERROR,
            IP_BLOCKED,
            HIBERNATING,
            INTERSTITIAL,
            ANONYMOUS_ACCESS,
            OVERLOADED,
            NOT_TABLE_API,
            THROTTLED,
            UNEXPECTED_STATUS,
            REDIRECTED,
            TLS,
            TIMEOUT,
            UNREACHABLE,
        ]
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        vec![FactKey::Reachability]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let response = match facts.response(&FactKey::Reachability) {
            Ok(response) => response,
            Err(FactError::Client(error)) => return transport_failure(ctx, &error),
            // A gate that cannot decide fails: "inconclusive" would block every other check and still
            // exit 0, reporting an instance nobody assessed as fine.
            Err(other) => {
                return Outcome::fail(format!(
                    "cannot tell whether {} is reachable: {other}",
                    ctx.instance
                ))
                .code(UNDECIDED);
            }
        };
        let seen = format!("{} {}", response.status, response.content_type);
        // Redirects and server errors first: both usually carry a small HTML page that is neither a
        // login interstitial nor a hibernation page.
        match response.status {
            300..=399 => return redirected(response.location.as_deref(), seen),
            status @ 500..=599 => {
                let page = if response.is_html() {
                    format!(
                        ", an HTML error page titled {:?}",
                        html_kind(&response.body).1
                    )
                } else {
                    String::new()
                };
                return Outcome::fail(format!(
                    "the instance answers with server errors ({status}{page})"
                ))
                .with(PROBE, seen)
                .code(SERVER_ERROR);
            }
            _ => {}
        }
        if response.is_html() {
            let (kind, title) = html_kind(&response.body);
            if response.status == 403 {
                return Outcome::fail(
                    "the instance refuses this machine: every request gets an HTML 403, which is what IP Address Access Control sends to a blocked address",
                )
                .with(PROBE, seen)
                .code(IP_BLOCKED);
            }
            return match kind {
                HtmlKind::Hibernating => Outcome::fail("the instance is hibernating: every URL answers with the hibernation page")
                    .with(PROBE, format!("{seen}, title {title:?}"))
                    .code(HIBERNATING),
                _ => Outcome::fail(format!(
                    "an HTML page ({title:?}) answers where the REST API should: an SSO, proxy or captive-portal interstitial is in front of the instance"
                ))
                .with(PROBE, seen)
                .code(INTERSTITIAL),
            };
        }
        match response.status {
            401 => Outcome::pass(format!("a ServiceNow REST API answers at {}", ctx.instance))
                .with(PROBE, format!("{seen} (authentication required, as expected)")),
            // A 200 is only an open Table API if the body is one; anything else is not ServiceNow.
            200 => match json_result(response, "GET sys_user", "sys_user") {
                Ok(Value::Array(_)) => Outcome::warn("the Table API answered an anonymous request with data: anonymous REST access is open")
                    .with(PROBE, seen)
                    .code(ANONYMOUS_ACCESS),
                Err(error @ ClientError::TransactionCancelled) => Outcome::fail(format!("the REST API answered, but {error}"))
                    .with(PROBE, seen)
                    .code(OVERLOADED),
                other => {
                    let why = match other {
                        Err(error) => error.to_string(),
                        Ok(_) => "\"result\" is not a list".into(),
                    };
                    Outcome::fail(format!("the instance answered 200 with something that is not a Table API response: {why}"))
                        .with(PROBE, seen)
                        .code(NOT_TABLE_API)
                }
            },
            429 => {
                let wait = retry_after(&response.headers)
                    .map(|d| format!(", retry after {} s", d.as_secs()))
                    .unwrap_or_default();
                // A gate: nothing can be assessed while rate-limited (exit 3), so this fails.
                Outcome::fail(format!("the instance rate-limits this client (429{wait}): nothing can be assessed until the limit resets"))
                    .with(PROBE, seen)
                    .code(THROTTLED)
            }
            status => {
                let message = match json_result(response, "GET sys_user", "sys_user") {
                    Err(error) => format!(": {error}"),
                    Ok(_) => String::new(),
                };
                Outcome::fail(format!("unexpected answer {status} from the REST API{message}"))
                    .with(PROBE, seen)
                    .code(UNEXPECTED_STATUS)
            }
        }
    }
}

const PROBE: &str = "GET /api/now/table/sys_user (anonymous)";

fn redirected(location: Option<&str>, seen: String) -> Outcome {
    Outcome::fail(format!(
        "the API redirects to {}: not a reachable instance API (hibernation wake-up, SSO, or a wrong URL)",
        location.unwrap_or("(no location)")
    ))
    .with(PROBE, seen)
    .code(REDIRECTED)
}

fn transport_failure(ctx: &Context, error: &ClientError) -> Outcome {
    let outcome = Outcome::fail(format!("cannot reach {}: {error}", ctx.instance))
        .with("error", error.to_string());
    match error {
        ClientError::Tls { .. } => outcome.code(TLS),
        ClientError::Timeout { .. } => outcome.code(TIMEOUT),
        ClientError::IpBlocked => outcome.code(IP_BLOCKED),
        _ => outcome.code(UNREACHABLE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::servicenow::RawResponse;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn probe(status: u16, content_type: &str, body: &str, headers: HeaderMap) -> Outcome {
        let response = RawResponse {
            url: String::new(),
            status,
            content_type: content_type.into(),
            headers,
            body: body.into(),
            location: (status == 302).then(|| "https://sso.example/login".to_string()),
        };
        let facts = Facts::from_pairs([(
            FactKey::Reachability,
            Ok(crate::runner::facts::FactValue::Response(response)),
        )]);
        Connectivity.evaluate(&crate::checks::test_support::context(), &facts)
    }

    #[test]
    fn status_is_read_before_an_html_body() {
        let page = "<html><head><title>502 Bad Gateway</title></head><body>proxy</body></html>";
        let outcome = probe(502, "text/html", page, HeaderMap::new());
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("server errors (502")
                && !outcome.summary.contains("interstitial"),
            "{}",
            outcome.summary
        );
        let outcome = probe(
            302,
            "text/html",
            "<html><title>Sign in</title></html>",
            HeaderMap::new(),
        );
        assert!(
            outcome
                .summary
                .contains("redirects to https://sso.example/login"),
            "{}",
            outcome.summary
        );
        let outcome = probe(
            200,
            "text/html",
            "<html><title>Instance Hibernating page</title></html>",
            HeaderMap::new(),
        );
        assert!(
            outcome.summary.contains("hibernating"),
            "{}",
            outcome.summary
        );
    }

    #[test]
    fn a_200_must_be_a_table_api_answer() {
        let open = probe(
            200,
            "application/json",
            r#"{"result":[]}"#,
            HeaderMap::new(),
        );
        assert_eq!(open.status, Status::Warn);
        for body in ["{\"result\":42}", "[1]", "{\"result\":[", "not json"] {
            let outcome = probe(200, "application/json", body, HeaderMap::new());
            assert_eq!(outcome.status, Status::Fail, "{body}: {}", outcome.summary);
            assert!(
                outcome.summary.contains("not a Table API response"),
                "{}",
                outcome.summary
            );
        }
        let cancelled = probe(
            200,
            "application/json",
            "Transaction cancelled: maximum execution time exceeded",
            HeaderMap::new(),
        );
        assert!(
            cancelled.summary.contains("cancelled the transaction"),
            "{}",
            cancelled.summary
        );
    }

    #[test]
    fn rate_limiting_and_unknown_reachability_fail_the_gate() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3600"));
        let outcome = probe(429, "application/json", "{}", headers);
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("429, retry after 3600 s"),
            "{}",
            outcome.summary
        );
        let facts = Facts::from_pairs([(FactKey::Reachability, Err(FactError::TimedOut))]);
        assert_eq!(
            Connectivity
                .evaluate(&crate::checks::test_support::context(), &facts)
                .status,
            Status::Fail
        );
    }
}
