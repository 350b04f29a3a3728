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
        // per failing probe, the findings that would explain it
        let mut explainers: Vec<&'static [&'static str]> = Vec::new();
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
                    explainers.push(&[]);
                    continue;
                }
            };
            evidence.push((
                format!("GET {}", probe.path),
                format!("{} {}", response.status, excerpt(&response.body)),
            ));
            if response.status != probe.expect_status {
                explainers.push(explained_by_status(response.status));
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
                    explainers.push(&[]);
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
        // explained only when every failing probe is, by the same findings
        if let Some(first) = explainers.first()
            && explainers.iter().all(|e| e == first)
        {
            outcome.explained_by = first.iter().map(|code| code.to_string()).collect();
        }
        outcome
    }
}

/// The findings that explain a probe's status, when their check reports one of them: ServiceNow
/// answers 400 (or 404) for an API path no installed app provides, 401 for a user who may not sign
/// in, and 403 for one who lacks the role the app's API asks for. Anything else stays unexplained.
fn explained_by_status(status: u16) -> &'static [&'static str] {
    match status {
        400 | 404 => &["connector-app/not-installed", "connector-app/inactive"],
        401 => &[
            "integration-user/inactive",
            "integration-user/locked-out",
            "integration-user/password-needs-reset",
        ],
        403 => &["integration-user/missing-roles"],
        _ => &[],
    }
}

/// The start of a body, on one line.
fn excerpt(body: &str) -> String {
    let line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::context_with;
    use crate::profile::EndpointProbe;
    use crate::runner::facts::FactValue;
    use crate::servicenow::response::RawResponse;

    /// A run whose profile has one probe per status, each answered with that status.
    fn outcome(statuses: &[u16]) -> Outcome {
        let paths: Vec<String> = (0..statuses.len())
            .map(|i| format!("/api/x/probe{i}"))
            .collect();
        let ctx = context_with(|s| {
            s.profile.probes = paths
                .iter()
                .map(|path| EndpointProbe {
                    path: path.clone(),
                    expect_status: 200,
                    expect_json: None,
                    expect_prefix: None,
                    meaning: String::new(),
                })
                .collect();
        });
        let facts = Facts::from_pairs(paths.iter().zip(statuses).map(|(path, status)| {
            (
                FactKey::EndpointAsIntegration(path.clone()),
                Ok(FactValue::Response(RawResponse {
                    status: *status,
                    content_type: "application/json".into(),
                    headers: Default::default(),
                    body: "{}".into(),
                    location: None,
                    url: format!("https://example.service-now.com{path}"),
                })),
            )
        }));
        ProbeEndpoint.evaluate(&ctx, &facts)
    }

    #[test]
    fn a_failure_is_explained_only_when_every_failing_probe_is_by_the_same_findings() {
        assert_eq!(
            outcome(&[403]).explained_by,
            ["integration-user/missing-roles"]
        );
        assert_eq!(
            outcome(&[403, 403]).explained_by,
            ["integration-user/missing-roles"]
        );
        assert_eq!(
            outcome(&[404, 200]).explained_by,
            ["connector-app/not-installed", "connector-app/inactive"]
        );
        // one unexplained failure (a 500), or two explained by different findings: a root cause
        for mixed in [&[403, 500][..], &[404, 403], &[500]] {
            let out = outcome(mixed);
            assert_eq!(out.status, crate::model::Status::Fail, "{mixed:?}");
            assert!(
                out.explained_by.is_empty(),
                "{mixed:?}: {:?}",
                out.explained_by
            );
        }
        assert_eq!(outcome(&[200]).status, crate::model::Status::Pass);
    }
}
