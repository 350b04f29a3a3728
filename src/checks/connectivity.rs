//! `connectivity`: DNS, TLS and HTTP reachability of the instance's REST API, and what stands in the way
//! (a hibernating developer instance, an HTML interstitial, an IP block of this machine).

use super::{Check, Context, Outcome};
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::ClientError;
use crate::servicenow::client::html_kind;
use crate::servicenow::error::HtmlKind;

/// See the module docs.
pub struct Connectivity;

impl Check for Connectivity {
    fn name(&self) -> &'static str {
        "connectivity"
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        vec![FactKey::Reachability]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let response = match facts.response(&FactKey::Reachability) {
            Ok(response) => response,
            Err(FactError::Client(error)) => return transport_failure(ctx, &error),
            Err(other) => return Outcome::inconclusive(format!("reachability unknown: {other}")),
        };
        let seen = format!("{} {}", response.status, response.content_type);
        if response.is_html() {
            let (kind, title) = html_kind(&response.body);
            if response.status == 403 {
                return Outcome::fail(
                    "the instance refuses this machine: every request gets an HTML 403, which is what IP Address Access Control sends to a blocked address",
                )
                .with("GET /api/now/table/sys_user (anonymous)", seen)
                .fix("The address of the machine running snowdoctor is blocked by the instance's IP Address Access Control (System Security > IP Address Access Control). Run snowdoctor from an allowed network, or add an Allow rule for this machine's public address. This is not an ACL problem: no credentials were even checked.");
            }
            return match kind {
                HtmlKind::Hibernating => Outcome::fail("the instance is hibernating: every URL answers with the hibernation page")
                    .with("GET /api/now/table/sys_user (anonymous)", format!("{seen}, title {title:?}"))
                    .fix("Wake the developer instance: sign in at developer.servicenow.com and open the instance, wait until it answers, then rerun snowdoctor."),
                _ => Outcome::fail(format!(
                    "an HTML page ({title:?}) answers where the REST API should: an SSO, proxy or captive-portal interstitial is in front of the instance"
                ))
                .with("GET /api/now/table/sys_user (anonymous)", seen)
                .fix("Make sure the URL is the instance itself (https://NAME.service-now.com), not a portal or proxy login page; if a proxy intercepts TLS, run from a network without it or trust its CA with --ca-cert."),
            };
        }
        match response.status {
            401 => Outcome::pass(format!("a ServiceNow REST API answers at {}", ctx.instance))
                .with("GET /api/now/table/sys_user (anonymous)", format!("{seen} (authentication required, as expected)")),
            200 => Outcome::warn("the Table API answered an anonymous request with data: anonymous REST access is open")
                .with("GET /api/now/table/sys_user (anonymous)", seen)
                .fix("Require authentication for REST (the default): check the REST API ACLs and the glide.basicauth.required.* properties."),
            429 => Outcome::inconclusive("the instance rate-limits this client (429)")
                .with("GET /api/now/table/sys_user (anonymous)", seen)
                .fix("Wait for the rate limit to reset (Retry-After) and rerun."),
            300..=399 => Outcome::fail(format!(
                "the API redirects to {}: not a reachable instance API (hibernation wake-up, SSO, or a wrong URL)",
                response.location.as_deref().unwrap_or("(no location)")
            ))
            .with("GET /api/now/table/sys_user (anonymous)", seen)
            .fix("Open the instance URL in a browser; if it redirects to developer.servicenow.com the instance is hibernating or retired; otherwise pass the instance's own URL with --instance."),
            status @ 500..=599 => Outcome::fail(format!("the instance answers with server errors ({status})"))
                .with("GET /api/now/table/sys_user (anonymous)", seen)
                .fix("The instance is unhealthy or being upgraded; check status.servicenow.com or HI, then rerun."),
            status => Outcome::fail(format!("unexpected answer {status} from the REST API"))
                .with("GET /api/now/table/sys_user (anonymous)", seen),
        }
    }
}

fn transport_failure(ctx: &Context, error: &ClientError) -> Outcome {
    let outcome = Outcome::fail(format!("cannot reach {}: {error}", ctx.instance))
        .with("error", error.to_string());
    match error {
        ClientError::Tls { .. } => outcome.fix("The TLS handshake failed. If a proxy or a private CA signs the instance's certificate, pass that CA with --ca-cert FILE; check the URL's host name matches the certificate."),
        ClientError::Timeout { .. } => outcome.fix("No answer in time: check the URL, the network path and any proxy (HTTPS_PROXY); raise --connect-timeout / --request-timeout for a slow link."),
        ClientError::IpBlocked => outcome.fix("The address of this machine is blocked by IP Address Access Control; run from an allowed network."),
        _ => outcome.fix("Check the instance URL (https://NAME.service-now.com), DNS resolution and the network path; a proxy is taken from HTTPS_PROXY / NO_PROXY."),
    }
}
