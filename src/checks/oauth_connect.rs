//! `oauth-connect`: the connection the connector makes — a token from `/oauth_token.do` with the OAuth
//! entity's client id and secret, used on the REST API, acting as the integration user — plus whether
//! an admin can reach the consent page (`/oauth_auth.do`).
//!
//! ServiceNow answers nearly every token failure with the same `401 access_denied / server_error`
//! (servicenow-platform.md §6.4), so a refusal is explained by ranking the causes the configuration
//! supports: the entity row, the integration (or application) user row and the OAuth properties, the
//! same rows the configuration checks read. "Wrong client secret" leads only when nothing else does.

use super::oauth_entity::{Selection, entities_query, select};
use super::oauth_grant::{
    CC_ENABLED as PROP_CLIENT_CREDENTIALS, ROPC_DISABLED as PROP_ROPC_DISABLED,
};
use super::{Check, Context, Outcome, caller_lacks_admin};
use crate::config::Settings;
use crate::model::Status;
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::oauth::Grant;
use crate::servicenow::oauth::{ConnectFailure, ConnectOutcome, grant_type};
use crate::servicenow::{ClientError, Row, TableQuery};

/// The OAuth master switch (read by the `oauth-platform` probe with the same query).
pub const PROP_OAUTH_ACTIVE: &str = "com.snc.platform.security.oauth.is.active";

/// See the module docs.
pub struct OauthConnect;

/// How strongly the configuration points at a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Likelihood {
    High,
    Medium,
    Low,
}

impl Likelihood {
    fn as_str(self) -> &'static str {
        match self {
            Likelihood::High => "high",
            Likelihood::Medium => "medium",
            Likelihood::Low => "low",
        }
    }
}

/// One possible cause of a refused token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub likelihood: Likelihood,
    /// Short, stable key (tests and machine readers match on it).
    pub key: &'static str,
    pub text: String,
    /// What was seen that supports it.
    pub seen: String,
    pub fix: String,
}

// The queries below are the configuration checks' own, so each row is fetched once per run.

/// The grant properties (`oauth-grant`'s query).
pub fn grant_properties_query() -> TableQuery {
    super::oauth_grant::properties_query()
}

/// The master switch (`oauth-platform`'s declarative probe builds the same query).
pub fn oauth_active_query() -> TableQuery {
    TableQuery::new("sys_properties")
        .query(format!("name={PROP_OAUTH_ACTIVE}"))
        .fields(["name", "value"])
}

/// The integration user's row (`integration-user`'s query).
pub fn user_query(name: &str) -> TableQuery {
    super::integration_user::user_query(name)
}

/// The entity's OAuth Application User, by sys_id (client credentials only).
pub fn application_user_query(sys_id: &str) -> TableQuery {
    TableQuery::new("sys_user")
        .eq("sys_id", sys_id)
        .fields(super::integration_user::USER_FIELDS)
}

/// The entity the connect uses: the one with `--client-id` when given, else the one `oauth-entity`
/// selects. `Err` says why none was found.
pub fn connector_entity<'r>(settings: &Settings, rows: &'r [Row]) -> Result<&'r Row, String> {
    if let Some(id) = &settings.client_id {
        return rows
            .iter()
            .find(|r| r.text("client_id") == id)
            .ok_or_else(|| format!("no OAuth entity has client id {id}"));
    }
    match select(&settings.profile, rows) {
        Selection::Found { row, .. } => Ok(row),
        Selection::NotFound { why } => Err(why),
    }
}

impl Check for OauthConnect {
    fn name(&self) -> &'static str {
        "oauth-connect"
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let mut keys = vec![
            FactKey::Connect,
            FactKey::AuthorizeProbe,
            FactKey::WhoAmI,
            FactKey::Table(entities_query()),
            FactKey::Table(grant_properties_query()),
            FactKey::Table(oauth_active_query()),
        ];
        if let Some(user) = &ctx.settings.profile.integration_user {
            keys.push(FactKey::Table(user_query(user)));
        }
        keys
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let connect = match facts.connect() {
            Ok(connect) => connect,
            Err(e) => return Outcome::from_fact_error(&e, "the OAuth connect"),
        };
        let mut outcome = judge(ctx, facts, connect);
        outcome.steps = connect.steps.clone();
        outcome = outcome.with("grant", grant_type(connect.grant));
        if let Some(id) = &connect.client_id {
            outcome = outcome.with(
                "client id",
                format!("{id} (from {})", connect.client_id_source),
            );
        }
        if let Some(token) = &connect.token {
            outcome = outcome
                .with("token_type", token.token_type.clone())
                .with("scope", token.scope.clone())
                .with(
                    "expires_in",
                    token
                        .expires_in
                        .map(|s| format!("{s} s"))
                        .unwrap_or_default(),
                )
                .with(
                    "refresh_token",
                    if token.refresh_token.is_some() {
                        "issued"
                    } else {
                        "not issued"
                    },
                );
        }
        if let Some(acting) = &connect.acting_as {
            outcome = outcome.with(
                "acts as",
                format!("{} ({})", acting.user_name, acting.sys_id),
            );
        }
        let (label, value) = authorization_readiness(ctx, facts);
        outcome.with(label, value)
    }
}

fn judge(ctx: &Context, facts: &Facts, connect: &ConnectOutcome) -> Outcome {
    if !connect.missing.is_empty() {
        let what: Vec<&str> = connect.missing.iter().map(|m| m.what.as_str()).collect();
        let how: Vec<String> = connect
            .missing
            .iter()
            .map(|m| format!("{}: {}", m.what, m.how))
            .collect();
        let mut outcome = Outcome::inconclusive(format!(
            "cannot attempt the {} grant without {}",
            grant_type(connect.grant),
            what.join(" and ")
        ))
        .fix(format!("Supply {}.", how.join("; ")));
        for m in &connect.missing {
            outcome = outcome.with("missing", format!("{} — {}", m.what, m.how));
        }
        return outcome;
    }
    let user = connect
        .expected_user
        .clone()
        .unwrap_or_else(|| "the integration user".into());
    match &connect.failure {
        None => {
            let mut outcome = Outcome::pass(format!(
                "{user} obtained a token with the {} grant and the REST API accepts it",
                grant_type(connect.grant)
            ));
            let no_refresh = connect.token.as_ref().is_some_and(|t| t.refresh_token.is_none());
            if no_refresh && connect.grant == Grant::Password {
                outcome.status = Status::Warn;
                outcome.summary = format!(
                    "{user} obtained a token, but no refresh token: the connector needs one to keep working after the access token expires"
                );
                outcome = outcome.fix("Give the OAuth entity a non-zero Refresh Token Lifespan (System OAuth > Application Registry), then rerun.");
            }
            outcome
        }
        Some(ConnectFailure::TokenRefused { status, error, error_description, logged_in }) => {
            let causes = rank_causes(ctx, facts, connect);
            refused(*status, error, error_description, logged_in.as_deref(), &causes, facts)
        }
        Some(ConnectFailure::TokenRequest(e)) => match e {
            ClientError::Timeout { .. } | ClientError::Connect { .. } => {
                Outcome::inconclusive(format!("the token request did not complete: {e}"))
            }
            _ => Outcome::fail(format!("the token endpoint /oauth_token.do did not answer as OAuth: {e}"))
                .fix("Something in front of /oauth_token.do (SSO, a proxy, a hibernating instance) answers instead of the OAuth processor; check the instance URL and wake or unblock the instance, then rerun."),
        },
        Some(ConnectFailure::TokenMalformed(why)) => Outcome::fail(format!(
            "/oauth_token.do answered 200 but not with a token: {why}"
        )),
        Some(ConnectFailure::UseFailed(e)) => token_use_failed(e),
        Some(ConnectFailure::WrongUser { expected, actual }) => Outcome::fail(format!(
            "the token acts as {actual:?}, not as the integration user {expected:?}"
        ))
        .with("expected user", expected.clone())
        .fix("Authorize the connection as the integration user, not with a personal account: on ServiceNow's authorization page choose Not You, sign in as the integration user, then choose Allow. A refresh token issued to another user keeps acting as that user: obtain a new one as the integration user."),
    }
}

fn token_use_failed(e: &ClientError) -> Outcome {
    let outcome = Outcome::fail(format!(
        "a token was issued, but the REST call with it failed: {e}"
    ));
    match e {
        ClientError::Unauthorized { .. } => outcome.fix(
            "The instance issued a token it does not accept on the Table API: check the OAuth entity's scope restrictions (Auth Scope) and any REST API Access Policy that limits which authentication profiles the Table API accepts.",
        ),
        ClientError::RateLimited { retry_after, .. } => outcome.fix(format!(
            "The integration user is rate limited (sys_rate_limit_rules){}; raise the limit for the integration user or wait for the hourly reset, then rerun.",
            retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default()
        )),
        ClientError::Forbidden { .. } | ClientError::IpBlocked => outcome.fix(
            "The token is accepted but the integration user may not read its own user record: check REST API ACLs and IP Address Access Control.",
        ),
        _ => outcome,
    }
}

fn refused(
    status: u16,
    error: &str,
    description: &str,
    logged_in: Option<&str>,
    causes: &[Cause],
    facts: &Facts,
) -> Outcome {
    let top = causes.first();
    let summary = match top {
        Some(cause) => format!(
            "the token request was refused ({status} {description}); most likely: {}",
            cause.text
        ),
        None => format!("the token request was refused ({status} {description})"),
    };
    let mut outcome = Outcome::fail(summary).with(
        "POST /oauth_token.do",
        format!(
            "{status} error={error:?} error_description={description:?}{}: ServiceNow gives the same answer for most causes, so they are ranked from the configuration below",
            logged_in.map(|v| format!(" x-is-logged-in={v}")).unwrap_or_default()
        ),
    );
    for (n, cause) in causes.iter().enumerate() {
        outcome = outcome.with(
            format!("likely cause {} ({})", n + 1, cause.likelihood.as_str()),
            if cause.seen.is_empty() {
                cause.text.clone()
            } else {
                format!("{} — {}", cause.text, cause.seen)
            },
        );
    }
    if caller_lacks_admin(facts) {
        outcome = outcome.with(
            "note",
            "the diagnosing account lacks admin: configuration rows may be hidden, so the ranking is less certain",
        );
    }
    let fixes: Vec<String> = causes
        .iter()
        .filter(|c| Some(c.likelihood) == top.map(|t| t.likelihood))
        .map(|c| c.fix.clone())
        .collect();
    outcome.fix(fixes.join(" "))
}

/// What a property row says: `Some(value)` when found, `None` when absent, `Err` when unreadable.
fn property(facts: &Facts, name: &str) -> Result<Option<String>, ()> {
    let query = if name == PROP_OAUTH_ACTIVE {
        oauth_active_query()
    } else {
        grant_properties_query()
    };
    facts
        .rows(&query)
        .map(|rows| {
            rows.iter()
                .find(|r| r.text("name") == name)
                .map(|r| r.text("value").trim().to_ascii_lowercase())
        })
        .map_err(|_| ())
}

/// The causes the configuration supports, most likely first.
pub fn rank_causes(ctx: &Context, facts: &Facts, connect: &ConnectOutcome) -> Vec<Cause> {
    let mut causes = Vec::new();
    let mut add = |likelihood, key, text: String, seen: String, fix: &str| {
        causes.push(Cause {
            likelihood,
            key,
            text,
            seen,
            fix: fix.to_string(),
        });
    };
    let admin_view = !caller_lacks_admin(facts);
    if let Ok(Some(value)) = property(facts, PROP_OAUTH_ACTIVE)
        && value == "false"
    {
        add(
            Likelihood::High,
            "oauth-inactive",
            "OAuth is switched off on the instance".into(),
            format!("{PROP_OAUTH_ACTIVE}=false"),
            "Set com.snc.platform.security.oauth.is.active to true (System Properties).",
        );
    }
    // The entity.
    let grant = connect.grant;
    if let Ok(rows) = facts.rows(&entities_query()) {
        match connector_entity(&ctx.settings, rows) {
            Ok(entity) => {
                entity_causes(entity, &mut add);
                if grant == Grant::ClientCredentials && entity.text("user").is_empty() {
                    add(
                        Likelihood::High,
                        "entity-no-user",
                        format!(
                            "the OAuth entity {:?} has no OAuth Application User, which the client-credentials grant needs",
                            entity.text("name")
                        ),
                        "oauth_entity.user is empty".into(),
                        "Set the OAuth Application User on the entity (the integration user) in System OAuth > Application Registry.",
                    );
                }
            }
            Err(why) if admin_view => add(
                Likelihood::High,
                "entity-missing",
                why,
                format!("oauth_entity: {} row(s), none matches", rows.len()),
                "Check --client-id against System OAuth > Application Registry, or rerun the connector's Installation Checklist OAuth step.",
            ),
            Err(_) => {}
        }
    }
    // The user the token is for.
    let user_row = match grant {
        Grant::ClientCredentials => connect.application_user.clone(),
        _ => ctx
            .settings
            .profile
            .integration_user
            .as_ref()
            .and_then(|name| {
                let rows = facts.rows(&user_query(name)).ok()?;
                if rows.is_empty() && admin_view {
                    add(
                        Likelihood::High,
                        "user-missing",
                        format!("the integration user {name:?} does not exist"),
                        "sys_user: 0 rows".into(),
                        "Create the integration user or pass the right --integration-user.",
                    );
                }
                rows.first().cloned()
            }),
    };
    if let Some(user) = &user_row {
        user_causes(user, grant, &mut add);
    }
    match grant {
        Grant::Password => {
            if let Ok(Some(value)) = property(facts, PROP_ROPC_DISABLED)
                && value == "true"
            {
                add(
                    Likelihood::High,
                    "ropc-disabled",
                    "the password grant is disabled on the instance".into(),
                    format!("{PROP_ROPC_DISABLED}=true"),
                    "Set glide.oauth.inbound.ropc.grant_type.disabled to false, or connect with --grant refresh-token using a refresh token obtained through the consent page.",
                );
            }
        }
        Grant::ClientCredentials => match property(facts, PROP_CLIENT_CREDENTIALS) {
            Ok(Some(value)) if value == "true" => {}
            Ok(found) if admin_view => add(
                Likelihood::High,
                "cc-disabled",
                "the client-credentials grant is not enabled on the instance".into(),
                match found {
                    Some(v) => format!("{PROP_CLIENT_CREDENTIALS}={v}"),
                    None => format!("{PROP_CLIENT_CREDENTIALS} is absent"),
                },
                "Create the system property glide.oauth.inbound.client.credential.grant_type.enabled (true/false) with value true (needs oauth_admin).",
            ),
            _ => {}
        },
        Grant::RefreshToken => {}
    }
    let explained = causes.iter().any(|c| c.likelihood == Likelihood::High);
    let (secret, password) = match (explained, grant) {
        (true, _) => (Likelihood::Low, Likelihood::Low),
        // An unexplained refresh failure is most often the token itself.
        (false, Grant::RefreshToken) => (Likelihood::Medium, Likelihood::Low),
        (false, _) => (Likelihood::High, Likelihood::Medium),
    };
    if grant == Grant::RefreshToken {
        causes.push(Cause {
            likelihood: if explained { Likelihood::Low } else { Likelihood::High },
            key: "refresh-token-invalid",
            text: "the refresh token expired, was revoked, or was issued to another OAuth client".into(),
            seen: String::new(),
            fix: "Obtain a new refresh token through the consent page as the integration user (or use the password grant).".into(),
        });
    }
    causes.push(Cause {
        likelihood: secret,
        key: "wrong-client-secret",
        text: "the client secret does not match the OAuth entity".into(),
        seen: if explained { String::new() } else { "nothing in the configuration explains the refusal".into() },
        fix: "Copy the client secret again from the OAuth entity (System OAuth > Application Registry, unlock Client Secret) into SNOWDOCTOR_CLIENT_SECRET.".into(),
    });
    if grant == Grant::Password {
        causes.push(Cause {
            likelihood: password,
            key: "wrong-user-password",
            text: "the integration user's password is wrong".into(),
            seen: String::new(),
            fix: "Check SNOWDOCTOR_INTEGRATION_PASSWORD (failed attempts count towards the user's lockout).".into(),
        });
    }
    causes.sort_by_key(|c| c.likelihood);
    causes
}

type Add<'a> = dyn FnMut(Likelihood, &'static str, String, String, &str) + 'a;

fn entity_causes(entity: &Row, add: &mut Add) {
    let name = entity.text("name");
    if entity.flag("active") == Some(false) {
        add(
            Likelihood::High,
            "entity-inactive",
            format!("the OAuth entity {name:?} is inactive"),
            "oauth_entity.active=false".into(),
            "Open the entity in System OAuth > Application Registry and select Active.",
        );
    }
    let kind = entity.value("type").unwrap_or("").to_string();
    let label = entity.display("type").unwrap_or("").to_string();
    let inbound = ["client", "oauth client"];
    if !kind.is_empty()
        && !inbound
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&kind) || k.eq_ignore_ascii_case(&label))
    {
        add(
            Likelihood::High,
            "entity-not-client",
            format!("the OAuth entity {name:?} is not an inbound OAuth client (type {label:?})"),
            format!("oauth_entity.type={kind}"),
            "Use an entity created with \"Create an OAuth API endpoint for external clients\" (type OAuth Client).",
        );
    }
}

fn user_causes(user: &Row, grant: Grant, add: &mut Add) {
    let name = user.text("user_name").to_string();
    let flag = |f: &str| user.flag(f) == Some(true);
    if user.flag("active") == Some(false) {
        add(
            Likelihood::High,
            "user-inactive",
            format!("the user {name:?} is inactive"),
            "sys_user.active=false".into(),
            "Activate the user (User Administration > Users).",
        );
    }
    if flag("locked_out") {
        add(
            Likelihood::High,
            "user-locked",
            format!("the user {name:?} is locked out"),
            "sys_user.locked_out=true".into(),
            "Unlock the user (clear Locked out) and check why it was locked (failed logins).",
        );
    }
    if flag("web_service_access_only") && grant != Grant::ClientCredentials {
        let likelihood = if grant == Grant::Password {
            Likelihood::High
        } else {
            Likelihood::Medium
        };
        add(
            likelihood,
            "user-web-service-only",
            format!(
                "the user {name:?} is web-service-access-only: the password grant and the consent page need an interactive user"
            ),
            "sys_user.web_service_access_only=true".into(),
            "Clear Web service access only on the integration user.",
        );
    }
    if flag("password_needs_reset") {
        add(
            Likelihood::Medium,
            "user-password-reset",
            format!("the user {name:?} must reset its password"),
            "sys_user.password_needs_reset=true".into(),
            "Clear Password needs reset (or sign in once as the user and set a new password).",
        );
    }
}

/// Whether an admin can complete the consent step, from the unauthenticated `/oauth_auth.do` probe.
fn authorization_readiness(ctx: &Context, facts: &Facts) -> (String, String) {
    let label = "consent page (/oauth_auth.do)".to_string();
    let response = match facts.response(&FactKey::AuthorizeProbe) {
        Ok(r) => r,
        Err(e) => return (label, format!("could not be probed: {e}")),
    };
    let instance_host = url::Url::parse(&ctx.instance)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    let value = match (response.status, &response.location) {
        (300..=399, Some(location)) => {
            let host = url::Url::parse(location).ok().and_then(|u| u.host_str().map(str::to_string));
            if host.is_some() && host == instance_host {
                format!("redirects to the instance's own login ({}): an admin can sign in as the integration user and choose Allow", crate::servicenow::redact::url(location))
            } else {
                format!("redirects to another host ({}): the consent step goes through single sign-on; sign in there as the integration user, or use the instance's local login (Not You)", host.unwrap_or_default())
            }
        }
        (200, _) if response.is_html() => {
            "the login page is reachable: an admin can choose Not You, sign in as the integration user and choose Allow".into()
        }
        (status, _) => format!("answered HTTP {status}: the consent page is not usable as is"),
    };
    (label, value)
}

#[cfg(test)]
mod tests;
