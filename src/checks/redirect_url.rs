//! `redirect-url`: the registry entry lists the callback URL the integration sends as `redirect_uri`.
//! ServiceNow answers "Invalid redirect_uri" to an authorization request whose `redirect_uri` is not
//! among the entry's comma-separated Redirect URLs (KB2109232), so the sign-in of Copilot connectors,
//! Azure DevOps service connections and Power Platform connections fails before any token exists.

use regex::Regex;

use super::findings::{Findings, connector_entity};
use super::{Check, Code, Context, Outcome};
use crate::connector::entity::entities_query;
use crate::profile::RedirectUrl;
use crate::runner::facts::{FactKey, Facts};

/// See the module docs.
pub struct RedirectUrlCheck;

const NO_ENTITY: Code = Code::inconclusive("no-entity");
const WRONG_REDIRECT: Code = Code::fail("wrong-redirect-url");

impl Check for RedirectUrlCheck {
    fn name(&self) -> &'static str {
        "redirect-url"
    }

    fn codes(&self) -> &'static [Code] {
        &[NO_ENTITY, WRONG_REDIRECT]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        if ctx.settings.profile.redirect_urls.is_empty() {
            return Vec::new();
        }
        vec![FactKey::WhoAmI, FactKey::Table(entities_query())]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        if profile.redirect_urls.is_empty() {
            return Outcome::skipped(format!(
                "not applicable: the {} profile uses no redirect URL",
                profile.name
            ));
        }
        let (mut f, row) =
            match connector_entity(Findings::default(), facts, profile, "compare", NO_ENTITY) {
                Ok(found) => found,
                Err(outcome) => return *outcome,
            };
        let name = row.text("name");
        let configured: Vec<&str> = row
            .text("redirect_url")
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        f.note(
            format!("oauth_entity[{name}].redirect_url"),
            if configured.is_empty() {
                "(empty)".to_string()
            } else {
                configured.join(", ")
            },
        );
        // `--cloud` picks the callback variants; a profile naming none for that cloud keeps all of them
        let cloud = ctx.settings.cloud;
        let of_cloud: Vec<&RedirectUrl> = profile
            .redirect_urls
            .iter()
            .filter(|r| r.cloud == cloud)
            .collect();
        let candidates: Vec<&RedirectUrl> = if of_cloud.is_empty() {
            profile.redirect_urls.iter().collect()
        } else {
            of_cloud
        };
        let found_in = |urls: &[&RedirectUrl]| -> Vec<(RedirectUrl, String)> {
            urls.iter()
                .filter_map(|expected| {
                    configured
                        .iter()
                        .find(|c| matches(&expected.url, c))
                        .map(|c| ((*expected).clone(), c.to_string()))
                })
                .collect()
        };
        let matched = found_in(&candidates);
        let expected = candidates
            .iter()
            .map(|r| format!("{} ({})", r.url, r.cloud.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        f.note(
            format!("expected for the {} cloud (any of)", cloud.as_str()),
            expected.clone(),
        );
        if matched.is_empty() {
            let what = if configured.is_empty() {
                "has no Redirect URL".to_string()
            } else {
                format!("lists {}", configured.join(", "))
            };
            let urls = candidates
                .iter()
                .map(|r| r.url.as_str())
                .collect::<Vec<_>>()
                .join(" or ");
            let hint =
                other_cloud_hint(&found_in(&profile.redirect_urls.iter().collect::<Vec<_>>()));
            f.fail(
                WRONG_REDIRECT
                    .arg("entity", format!("{name:?}"))
                    .arg("urls", urls)
                    .arg("other_cloud", hint),
                format!(
                    "the registry entry {name:?} {what}, not the callback the {} uses ({expected}): its sign-in fails with \"Invalid redirect_uri\"",
                    profile.integration
                ),
            );
            return f.outcome("");
        }
        let (expected, found) = &matched[0];
        f.outcome(format!(
            "the registry entry {name:?} lists {found}, the {} callback ({} cloud)",
            profile.integration,
            expected.cloud.as_str()
        ))
    }
}

/// When the entry lists another cloud's callback, the rerun that judges it as that cloud.
fn other_cloud_hint(found: &[(RedirectUrl, String)]) -> String {
    match found.first() {
        Some((url, configured)) => format!(
            " The entry lists {configured}, the {} cloud's callback: if the integration runs there, rerun with --cloud {}.",
            url.cloud.as_str(),
            url.cloud.as_str()
        ),
        None => String::new(),
    }
}

/// True when `configured` is the `expected` URL; `{name}` and `*` stand for one host label or path
/// segment. Case and a trailing slash do not matter.
pub fn matches(expected: &str, configured: &str) -> bool {
    let mut pattern = String::from("(?i)^");
    let mut rest = expected.trim_end_matches('/');
    while !rest.is_empty() {
        let next = rest.find(['{', '*']).unwrap_or(rest.len());
        pattern.push_str(&regex::escape(&rest[..next]));
        rest = &rest[next..];
        if rest.starts_with('*') {
            rest = &rest[1..];
            pattern.push_str("[^/.?#]+");
        } else if rest.starts_with('{') {
            rest = rest.find('}').map_or("", |end| &rest[end + 1..]);
            pattern.push_str("[^/.?#]+");
        }
    }
    pattern.push_str("/?$");
    Regex::new(&pattern).is_ok_and(|re| re.is_match(configured.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{admin, context_with, rows};
    use crate::model::Status;
    use crate::profile::Cloud;
    use crate::runner::facts::Facts;

    #[test]
    fn placeholders_match_one_segment() {
        let ado = "https://dev.azure.com/{organization}/_admin/oauth2/callback";
        assert!(matches(
            ado,
            "https://dev.azure.com/contoso/_admin/oauth2/callback"
        ));
        assert!(matches(
            ado,
            "HTTPS://dev.azure.com/contoso/_admin/oauth2/callback/"
        ));
        assert!(!matches(
            ado,
            "https://dev.azure.com/contoso/x/_admin/oauth2/callback"
        ));
        let apim = "https://*.consent.azure-apim.net/redirect";
        assert!(matches(
            apim,
            "https://tip1-shared.consent.azure-apim.net/redirect"
        ));
        assert!(!matches(
            apim,
            "https://evil.example/.consent.azure-apim.net/redirect"
        ));
        assert!(matches(
            "https://gcs.office.com/v1.0/admin/oauth/callback",
            " https://gcs.office.com/v1.0/admin/oauth/callback"
        ));
        assert!(!matches(
            "https://gcs.office.com/v1.0/admin/oauth/callback",
            "https://gcs.office.com.evil.example/v1.0/admin/oauth/callback"
        ));
    }

    fn run(redirect: &str) -> Outcome {
        run_in(Cloud::Public, redirect)
    }

    fn run_in(cloud: Cloud, redirect: &str) -> Outcome {
        let ctx = context_with(|s| {
            s.cloud = cloud;
            s.profile.oauth_entity = Some("Microsoft Search".into());
            s.profile.redirect_urls = vec![
                RedirectUrl {
                    url: "https://gcs.office.com/v1.0/admin/oauth/callback".into(),
                    cloud: Cloud::Public,
                },
                RedirectUrl {
                    url: "https://gcsgcc.office.com/v1.0/admin/oauth/callback".into(),
                    cloud: Cloud::Gov,
                },
            ];
        });
        let facts = Facts::from_pairs([
            admin(),
            rows(
                FactKey::Table(entities_query()),
                vec![
                    serde_json::json!({"name": "Microsoft Search", "type": "client", "active": "true", "redirect_url": redirect}),
                ],
            ),
        ]);
        RedirectUrlCheck.evaluate(&ctx, &facts)
    }

    #[test]
    fn the_gov_callback_passes_and_a_wrong_one_fails() {
        let both = "https://x.example/cb,https://gcsgcc.office.com/v1.0/admin/oauth/callback";
        assert_eq!(run_in(Cloud::Gov, both).status, Status::Pass);
        // judged as a public-cloud tenant, the Government callback is the wrong one, and the fix says
        // which --cloud would fit
        let public = run(both);
        assert_eq!(public.status, Status::Fail);
        let fix = public.rendered_fix("redirect-url");
        assert!(fix.contains("--cloud gov"), "{fix:?}");
        assert_eq!(
            run("https://gcs.office.com/v1.0/admin/oauth/callback").status,
            Status::Pass
        );
        let outcome = run("https://security.microsoft.com/cb");
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("Invalid redirect_uri"),
            "{}",
            outcome.summary
        );
        assert_eq!(run("").status, Status::Fail);
    }

    #[test]
    fn a_profile_without_redirect_urls_is_not_applicable() {
        let outcome = RedirectUrlCheck.evaluate(&context_with(|_| {}), &Facts::default());
        assert_eq!(outcome.status, Status::Skipped);
    }
}
