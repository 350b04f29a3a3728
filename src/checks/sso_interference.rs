//! `sso-interference`: will single sign-on stop the integration user at the consent step? Reads the
//! Multi-Provider SSO plugin and switch, the active identity providers and any auto-redirect IdP, and
//! probes `/oauth_auth.do` unauthenticated without following redirects: a login page (or a redirect to
//! the same host's `login.do`) means a local sign-in is possible; a redirect to another host means the
//! IdP intercepts it. The probe is direct evidence, so a foreign redirect fails even when the SSO tables
//! are unreadable; a local login page with unreadable tables stays inconclusive.

use url::Url;

use super::findings::{Findings, shown};
use super::{Check, Code, Context, Outcome};
use crate::connector::user::{discovered, discovery_query, user_query};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::{RawResponse, Row, TableQuery};

/// See the module docs.
pub struct SsoInterference;

const SSO_REDIRECTS: Code = Code::fail("sso-redirects-consent");
const SSO_ENABLED: Code = Code::warn("sso-enabled");

/// The Multi-Provider SSO plugin (docs/reference/servicenow-platform.md §8.1).
pub const PLUGIN: &str = "com.snc.integration.sso.multi.installer";
const MULTISSO: &str = "glide.authenticate.multisso.enabled";
const REDIRECT_IDP: &str = "glide.authenticate.sso.redirect.idp";
const ACR: &str = "glide.sso.acr.enabled";
const NO_LOCAL_LOGIN: &str = "glide.authentication.external.disable_local_login";

/// Plugin rows (`sys_plugins`: active is 0/1).
pub fn plugins_query() -> TableQuery {
    TableQuery::new("sys_plugins")
        .eq("source", PLUGIN)
        .fields(["source", "name", "active"])
}

/// The plugin overview, a fallback (`active` is a word).
pub fn v_plugin_query() -> TableQuery {
    TableQuery::new("v_plugin")
        .eq("id", PLUGIN)
        .fields(["id", "name", "active"])
}

/// The SSO properties.
pub fn properties_query() -> TableQuery {
    TableQuery::new("sys_properties")
        .query(format!(
            "nameIN{MULTISSO},{REDIRECT_IDP},{ACR},{NO_LOCAL_LOGIN}"
        ))
        .fields(["name", "value"])
}

/// Active identity providers of a table (`sso_properties` or `saml2_update1_properties`).
pub fn idp_query(table: &str) -> TableQuery {
    TableQuery::new(table).eq("active", "true").fields([
        "sys_id",
        "name",
        "active",
        "is_primary",
        "default",
        "idp_authnrequest_url",
    ])
}

const IDP_TABLES: [&str; 2] = ["sso_properties", "saml2_update1_properties"];

impl Check for SsoInterference {
    fn name(&self) -> &'static str {
        "sso-interference"
    }

    fn codes(&self) -> &'static [Code] {
        &[SSO_REDIRECTS, SSO_ENABLED]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let mut keys = vec![
            FactKey::WhoAmI,
            FactKey::AuthorizeProbe,
            FactKey::Table(plugins_query()),
            FactKey::Table(v_plugin_query()),
            FactKey::Table(properties_query()),
        ];
        keys.extend(IDP_TABLES.map(|t| FactKey::Table(idp_query(t))));
        let profile = &ctx.settings.profile;
        match &profile.integration_user {
            Some(user) => keys.push(FactKey::Table(user_query(user))),
            None if !profile.app_scope.is_empty() => {
                keys.push(FactKey::Table(discovery_query(&profile.app_scope)));
            }
            None => {}
        }
        keys
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let mut f = Findings::default();
        let probe = probe(ctx, facts, &mut f);
        let sso = configuration(facts, &mut f);
        let user = integration_user(ctx, facts);
        let instance = ctx.instance.trim_end_matches('/');
        match (&probe, &sso) {
            (Probe::Sso { host }, _) => f.fail(
                SSO_REDIRECTS
                    .arg("host", host.as_str())
                    .arg("instance", instance)
                    .arg("user", user.as_str())
                    .arg("second", second_workaround(ctx, instance, &user)),
                format!("the authorization page /oauth_auth.do redirects to {host}: single sign-on intercepts the step where the integration user signs in and selects Allow"),
            ),
            (_, Some(sso)) if sso.on => {
                let mut what = format!("Multi-Provider SSO is enabled ({} active identity provider(s)", sso.idps);
                if let Some(idp) = &sso.auto_redirect {
                    what.push_str(&format!(", auto-redirect IdP {idp}"));
                }
                what.push(')');
                let local = match &probe {
                    Probe::Local(how) => format!("but the authorization page still offers a local sign-in ({how})"),
                    _ => "and the authorization page could not be probed".to_string(),
                };
                let acr = if sso.acr {
                    "; Account Recovery (glide.sso.acr.enabled) is on, which can block local interactive sign-ins of non-ACR users"
                } else {
                    ""
                };
                f.warn(
                    SSO_ENABLED
                        .arg("instance", instance)
                        .arg("user", user.as_str())
                        .arg("second", second_workaround(ctx, instance, &user)),
                    format!("{what} {local}{acr}"),
                );
            }
            _ => {}
        }
        f.outcome(match probe {
            Probe::Local(how) => format!("single sign-on is not enabled and the authorization page offers a local sign-in ({how})"),
            _ => "single sign-on is not enabled".to_string(),
        })
    }
}

/// What the unauthenticated authorization request showed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Probe {
    /// A login page, or a redirect to this instance's login.
    Local(String),
    /// A redirect to another host (or to the same host's SSO entry point).
    Sso { host: String },
    /// Nothing conclusive.
    Unknown,
}

fn probe(ctx: &Context, facts: &Facts, f: &mut Findings) -> Probe {
    let response = match facts.response(&FactKey::AuthorizeProbe) {
        Ok(response) => response,
        Err(error) => {
            f.note("GET /oauth_auth.do (unauthenticated)", error.to_string());
            return Probe::Unknown;
        }
    };
    let result = classify(&ctx.instance, response);
    let seen = match &response.location {
        Some(location) => format!("{} → {location}", response.status),
        None => format!("{} {}", response.status, response.content_type),
    };
    f.note(
        "GET /oauth_auth.do?response_type=code (unauthenticated)",
        seen,
    );
    result
}

fn classify(instance: &str, response: &RawResponse) -> Probe {
    match response.status {
        200 => Probe::Local("200 login page".into()),
        301 | 302 | 303 | 307 | 308 => {
            let Some(location) = response.location.as_deref() else {
                return Probe::Unknown;
            };
            let (Ok(target), Ok(base)) = (Url::parse(location), Url::parse(instance)) else {
                return Probe::Unknown;
            };
            let same_host = target.host_str() == base.host_str()
                && target.port_or_known_default() == base.port_or_known_default();
            let path = target.path().to_ascii_lowercase();
            if !same_host {
                Probe::Sso {
                    host: target.host_str().unwrap_or(location).to_string(),
                }
            } else if path.contains("sso") && !path.contains("side_door") {
                Probe::Sso {
                    host: format!(
                        "{} (SSO entry {})",
                        target.host_str().unwrap_or(""),
                        target.path()
                    ),
                }
            } else {
                Probe::Local(format!("redirect to {}", target.path()))
            }
        }
        _ => Probe::Unknown,
    }
}

/// The SSO configuration as read; `None` when some part was unreadable.
struct Sso {
    on: bool,
    idps: usize,
    auto_redirect: Option<String>,
    acr: bool,
}

fn configuration(facts: &Facts, f: &mut Findings) -> Option<Sso> {
    let plugin = plugin_active(facts, f);
    let props = f.rows(facts, &properties_query()).map(<[Row]>::to_vec);
    let mut idps: Vec<Row> = Vec::new();
    let mut readable = true;
    for table in IDP_TABLES {
        match f.rows(facts, &idp_query(table)) {
            Some(rows) => {
                for row in rows {
                    if !idps.iter().any(|r| r.sys_id() == row.sys_id()) {
                        idps.push(row.clone());
                    }
                }
            }
            None => readable = false,
        }
    }
    let (plugin, props) = (plugin?, props?);
    if !readable {
        return None;
    }
    let prop = |name: &str| props.iter().find(|r| r.text("name") == name);
    let flag = |name: &str| prop(name).and_then(|r| r.flag("value")) == Some(true);
    for name in [MULTISSO, REDIRECT_IDP, ACR, NO_LOCAL_LOGIN] {
        f.note(
            name,
            prop(name).map_or("(absent)".to_string(), |r| shown(r, "value")),
        );
    }
    f.note(
        "active identity providers",
        if idps.is_empty() {
            "none".to_string()
        } else {
            idps.iter()
                .map(|r| {
                    format!(
                        "{} (auto redirect: {})",
                        r.text("name"),
                        shown(r, "is_primary")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    let on = plugin && flag(MULTISSO);
    let redirect_prop = prop(REDIRECT_IDP)
        .map(|r| r.text("value").trim().to_string())
        .filter(|v| !v.is_empty());
    // Either marker counts as "auto redirect configured" (docs/reference/servicenow-platform.md §15.15).
    let auto_redirect = idps
        .iter()
        .find(|r| r.flag("is_primary") == Some(true))
        .map(|r| r.text("name").to_string())
        .or(redirect_prop.map(|v| format!("{REDIRECT_IDP}={v}")));
    Some(Sso {
        on,
        idps: idps.len(),
        auto_redirect: auto_redirect.filter(|_| on),
        acr: flag(ACR),
    })
}

/// Whether the plugin is active: `sys_plugins` first, `v_plugin` when it has no row (docs/reference/servicenow-platform.md §15.17).
fn plugin_active(facts: &Facts, f: &mut Findings) -> Option<bool> {
    let (table, row) = match f.rows(facts, &plugins_query())? {
        [row, ..] => ("sys_plugins", row),
        [] => match f.rows(facts, &v_plugin_query())? {
            [row, ..] => ("v_plugin", row),
            [] => {
                f.note(PLUGIN, "not installed");
                return Some(false);
            }
        },
    };
    f.note(format!("{table}[{PLUGIN}].active"), shown(row, "active"));
    Some(row.is_one_of("active", &["1", "true", "active"]))
}

/// The integration user's name and whether it has an email, for the workaround text.
fn integration_user(ctx: &Context, facts: &Facts) -> String {
    let profile = &ctx.settings.profile;
    let (name, row) = match profile.integration_user.as_deref() {
        Some(name) => (
            name.to_string(),
            facts
                .rows(&user_query(name))
                .map(|rows| rows.first().cloned()),
        ),
        None if !profile.app_scope.is_empty() => {
            match facts
                .rows(&discovery_query(&profile.app_scope))
                .map(discovered)
            {
                Ok(Some(user)) => (user.text("user_name").to_string(), Ok(Some(user))),
                _ => return "the integration user (not found: pass --integration-user)".into(),
            }
        }
        None => return "the integration user (not named: pass --integration-user)".into(),
    };
    let email = match row {
        Ok(Some(row)) if !row.text("email").trim().is_empty() => {
            format!("email {}", row.text("email"))
        }
        Ok(Some(row)) if row.value("email").is_some() => {
            "it has NO email: set one first, the Azure AD user must match it".into()
        }
        Ok(None) => "the user was not found".into(),
        _ => "its email could not be read".into(),
    };
    format!("{name} ({email})")
}

/// The second of Microsoft's two workarounds (troubleshooting item 5), the fix's `{second}`: an Entra
/// user named like the integration user is the retired security-center connector's; the other
/// integrations' pages give a private window signed in as the service account (Copilot connectors: a
/// "Logout successful" window means SSO signed in the admin instead).
fn second_workaround(ctx: &Context, instance: &str, user: &str) -> String {
    if ctx.settings.profile.app_scope == "x_mioms_m365ticket" {
        format!(
            "Create a Microsoft Entra (Azure AD) user with security admin rights and the same name and email as the integration user {user}, sign in to the Microsoft 365 security center as that user and run the setup; remove the role afterwards."
        )
    } else {
        format!(
            "Start the {}'s sign-in from a private browser window in which you first signed in to ServiceNow as {user} at {instance}/login.do, so your own SSO session does not answer the consent (a \"Logout successful\" window means it did).",
            ctx.settings.profile.integration
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::Status;
    use crate::runner::facts::{Fact, FactValue};
    use serde_json::{Value, json};

    const USER: &str = "m365.integration";

    fn response(status: u16, location: Option<&str>) -> (FactKey, Fact) {
        (
            FactKey::AuthorizeProbe,
            Ok(FactValue::Response(RawResponse {
                url: String::new(),
                status,
                content_type: "text/html".into(),
                headers: Default::default(),
                body: "<html><form action=\"login.do\"></form></html>".into(),
                location: location.map(str::to_string),
            })),
        )
    }

    struct Instance {
        plugin: &'static str,
        props: Vec<Value>,
        idps: Vec<Value>,
        email: &'static str,
    }

    fn no_sso() -> Instance {
        Instance {
            plugin: "0",
            props: vec![json!({"name": MULTISSO, "value": "false"})],
            idps: vec![],
            email: "m365.integration@example.com",
        }
    }

    fn sso(auto_redirect: bool) -> Instance {
        Instance {
            plugin: "1",
            props: vec![json!({"name": MULTISSO, "value": "true"})],
            idps: vec![json!({"sys_id": "i1", "name": "Entra ID", "active": "true",
                              "is_primary": if auto_redirect { "true" } else { "false" }})],
            email: "m365.integration@example.com",
        }
    }

    fn eval(instance: Instance, probe: (FactKey, Fact), caller: (FactKey, Fact)) -> Outcome {
        let ctx = context_with(|s| s.profile.integration_user = Some(USER.into()));
        let plugin =
            json!({"source": PLUGIN, "name": "Multi SSO", "active": dv(instance.plugin, "x")});
        let user = json!({"user_name": USER, "email": instance.email});
        let facts = Facts::from_pairs([
            caller,
            probe,
            rows(FactKey::Table(plugins_query()), vec![plugin]),
            rows(FactKey::Table(v_plugin_query()), vec![]),
            rows(FactKey::Table(properties_query()), instance.props),
            rows(
                FactKey::Table(idp_query("sso_properties")),
                instance.idps.clone(),
            ),
            rows(
                FactKey::Table(idp_query("saml2_update1_properties")),
                instance.idps,
            ),
            rows(FactKey::Table(user_query(USER)), vec![user]),
        ]);
        SsoInterference.evaluate(&ctx, &facts)
    }

    const IDP: &str = "https://login.microsoftonline.com/tenant/saml2";

    #[test]
    fn no_sso_and_a_login_page_passes() {
        let outcome = eval(no_sso(), response(200, None), admin());
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
        let same_host = response(302, Some("https://example.service-now.com/login.do"));
        assert_eq!(eval(no_sso(), same_host, admin()).status, Status::Pass);
    }

    #[test]
    fn redirect_to_another_host_fails_with_both_workarounds_and_the_user() {
        let outcome = eval(sso(true), response(302, Some(IDP)), admin());
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("login.microsoftonline.com"));
        let fix = outcome.rendered_fix("sso-interference");
        assert!(fix.contains("*Not You*"));
        assert!(fix.contains("https://example.service-now.com/login.do"));
        assert!(fix.contains("side_door.do"));
        assert!(fix.contains("security admin rights and the same name and email"));
        assert!(fix.contains("m365.integration (email m365.integration@example.com)"));
    }

    #[test]
    fn failure_says_when_the_user_has_no_email() {
        let mut instance = sso(true);
        instance.email = "";
        let outcome = eval(instance, response(302, Some(IDP)), admin());
        assert!(
            outcome
                .rendered_fix("sso-interference")
                .contains("it has NO email")
        );
    }

    #[test]
    fn sso_with_local_login_still_possible_warns() {
        let outcome = eval(sso(false), response(200, None), admin());
        assert_eq!(outcome.status, Status::Warn);
        assert!(outcome.summary.contains("still offers a local sign-in"));
        let outcome = eval(sso(true), response(200, None), admin());
        assert_eq!(outcome.status, Status::Warn);
        assert!(outcome.summary.contains("auto-redirect IdP Entra ID"));
    }

    #[test]
    fn unreadable_configuration_is_inconclusive_unless_the_probe_shows_a_redirect() {
        let ctx = context_with(|s| s.profile.integration_user = Some(USER.into()));
        let hidden = |probe| {
            Facts::from_pairs([
                non_admin(),
                probe,
                forbidden(FactKey::Table(plugins_query())),
                forbidden(FactKey::Table(v_plugin_query())),
                forbidden(FactKey::Table(properties_query())),
                forbidden(FactKey::Table(idp_query("sso_properties"))),
                forbidden(FactKey::Table(idp_query("saml2_update1_properties"))),
                forbidden(FactKey::Table(user_query(USER))),
            ])
        };
        let outcome = SsoInterference.evaluate(&ctx, &hidden(response(200, None)));
        assert_eq!(outcome.status, Status::Inconclusive, "{outcome:?}");
        assert!(outcome.summary.contains("run with an admin account"));
        let outcome = SsoInterference.evaluate(&ctx, &hidden(response(302, Some(IDP))));
        assert_eq!(outcome.status, Status::Fail);
    }

    #[test]
    fn same_host_sso_entry_counts_as_sso() {
        let probe = classify(
            "https://example.service-now.com",
            &RawResponse {
                url: String::new(),
                status: 302,
                content_type: String::new(),
                headers: Default::default(),
                body: String::new(),
                location: Some(
                    "https://example.service-now.com/login_with_sso.do?glide_sso_id=1".into(),
                ),
            },
        );
        assert!(matches!(probe, Probe::Sso { .. }), "{probe:?}");
    }
}
