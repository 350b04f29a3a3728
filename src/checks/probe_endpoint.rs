//! `probe-endpoint`: the endpoints the integration calls to verify its connection answer as it expects,
//! called as the integration user. Azure DevOps' "Verify connection" is
//! `GET /api/x_mioms_azpipeline/app_version?app_major_version=4`: it proves the app is installed in a
//! 4.x version and the credentials work.

use super::{Check, Code, Context, Outcome};
use crate::runner::facts::{FactError, FactKey, Facts};

/// See the module docs.
pub struct ProbeEndpoint;

const NO_CREDENTIALS: Code = Code::inconclusive("no-integration-credentials");
const UNEXPECTED_ANSWER: Code = Code::fail("unexpected-answer");

impl Check for ProbeEndpoint {
    fn name(&self) -> &'static str {
        "probe-endpoint"
    }

    fn codes(&self) -> &'static [Code] {
        &[NO_CREDENTIALS, UNEXPECTED_ANSWER]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        ctx.settings
            .profile
            .probes
            .iter()
            .map(|p| FactKey::EndpointAsIntegration(p.path.clone()))
            .collect()
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        if profile.probes.is_empty() {
            return Outcome::skipped(format!(
                "not applicable: the {} profile has no probe endpoint",
                profile.name
            ));
        }
        let mut fails = Vec::new();
        let mut evidence = Vec::new();
        let mut explained_by = Vec::new();
        for probe in &profile.probes {
            let response = match facts.response(&FactKey::EndpointAsIntegration(probe.path.clone()))
            {
                Ok(response) => response,
                Err(FactError::Unavailable(why)) => {
                    return Outcome::inconclusive(format!(
                        "cannot call the probe as the integration user: {why}"
                    ))
                    .code(NO_CREDENTIALS);
                }
                Err(e) => {
                    evidence.push((format!("GET {}", probe.path), e.to_string()));
                    fails.push(format!("GET {} failed: {e}", probe.path));
                    continue;
                }
            };
            evidence.push((
                format!("GET {}", probe.path),
                format!("{} {}", response.status, excerpt(&response.body)),
            ));
            if response.status != probe.expect_status {
                if let Some(by) = explained_by_status(response.status)
                    && !explained_by.contains(&by)
                {
                    explained_by.push(by);
                }
                fails.push(format!(
                    "GET {} answered {} instead of {}{}",
                    probe.path,
                    response.status,
                    probe.expect_status,
                    if probe.meaning.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", probe.meaning)
                    }
                ));
                continue;
            }
            if let Some(pointer) = &probe.expect_json {
                let value = serde_json::from_str::<serde_json::Value>(&response.body)
                    .ok()
                    .and_then(|v| v.pointer(pointer).cloned());
                let text = match &value {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let prefix = probe.expect_prefix.as_deref().unwrap_or("");
                if value.is_none() || !text.starts_with(prefix) {
                    fails.push(format!(
                        "GET {} answered {} but {pointer} is {:?}, not {prefix}…",
                        probe.path, response.status, text
                    ));
                }
            }
        }
        let mut outcome = if fails.is_empty() {
            Outcome::pass(format!(
                "the {} verification endpoint(s) answer as expected",
                profile.integration
            ))
        } else {
            Outcome::fail(fails.join("; ")).code(UNEXPECTED_ANSWER)
        };
        for (label, value) in evidence {
            outcome = outcome.with(label, value);
        }
        if !fails.is_empty() {
            outcome.explained_by = explained_by.into_iter().map(String::from).collect();
        }
        outcome
    }
}

/// The check whose failure explains a probe's status, when it failed too: ServiceNow answers 400
/// (or 404) for an API path no installed app provides, and 401 or 403 for a user who may not sign
/// in or lacks the role the app's API asks for.
fn explained_by_status(status: u16) -> Option<&'static str> {
    match status {
        400 | 404 => Some("connector-app"),
        401 | 403 => Some("integration-user"),
        _ => None,
    }
}

/// The start of a body, on one line.
fn excerpt(body: &str) -> String {
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(160).collect()
}
