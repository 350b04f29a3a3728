//! `oauth-connect`: the connection the connector makes — a token from `/oauth_token.do` with the OAuth
//! entity's client id and secret, used on the REST API, acting as the integration user — plus whether
//! an admin can reach the consent page (`/oauth_auth.do`).
//!
//! ServiceNow answers nearly every token failure with the same `401 access_denied / server_error`
//! ("access_denied" for a bad secret, a locked user or a disabled grant alike), so a refusal is explained by ranking the causes the configuration
//! supports: the entity row, the integration (or application) user row and the OAuth properties, the
//! same rows the configuration checks read. "Wrong client secret" leads only when nothing else does.

mod causes;

pub use causes::{Cause, Likelihood, rank_causes};

use super::findings::may_lack_admin;
use super::{Check, Code, Context, Outcome};
use crate::connector::entity::{connector_entity, entities_query};
use crate::connector::grant::{lockout_query, oauth_active_query, properties_query};
use crate::connector::user::{discovery_query, user_query};
use crate::model::Status;
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::ClientError;
use crate::servicenow::oauth::Grant;
use crate::servicenow::oauth::{ConnectFailure, ConnectOutcome, grant_type};

/// See the module docs.
pub struct OauthConnect;

const MISSING_INPUT: Code = Code::inconclusive("missing-input");
const LOCKOUT_GUARD: Code = Code::inconclusive("lockout-guard");
const NO_REFRESH_TOKEN: Code = Code::warn("no-refresh-token");
const TOKEN_INCOMPLETE: Code = Code::inconclusive("token-request-incomplete");
const NOT_OAUTH: Code = Code::fail("not-oauth");
const WRONG_USER: Code = Code::fail("wrong-user");
const TOKEN_REJECTED: Code = Code::fail("token-rejected");
const TOKEN_EXPIRED: Code = Code::fail("token-expired");
const USER_RATE_LIMITED: Code = Code::fail("user-rate-limited");
const USE_FORBIDDEN: Code = Code::fail("use-forbidden");
const USE_FAILED: Code = Code::fail("use-failed");

/// The outcomes' own codes, then every cause the ranking can name.
const CODES: [Code; 11 + causes::CAUSES.len()] = {
    let own = [
        MISSING_INPUT,
        LOCKOUT_GUARD,
        NO_REFRESH_TOKEN,
        TOKEN_INCOMPLETE,
        NOT_OAUTH,
        WRONG_USER,
        TOKEN_REJECTED,
        TOKEN_EXPIRED,
        USER_RATE_LIMITED,
        USE_FORBIDDEN,
        USE_FAILED,
    ];
    let mut all = [MISSING_INPUT; 11 + causes::CAUSES.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < own.len() {
            own[i]
        } else {
            causes::CAUSES[i - own.len()]
        };
        i += 1;
    }
    all
};

impl Check for OauthConnect {
    fn name(&self) -> &'static str {
        "oauth-connect"
    }

    fn codes(&self) -> &'static [Code] {
        &CODES
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let mut keys = vec![
            FactKey::Connect,
            FactKey::AuthorizeProbe,
            FactKey::WhoAmI,
            FactKey::Table(entities_query()),
            FactKey::Table(properties_query()),
            FactKey::Table(lockout_query()),
            FactKey::Table(oauth_active_query()),
        ];
        let profile = &ctx.settings.profile;
        match crate::connector::user::named(profile) {
            Some(user) => keys.push(FactKey::Table(user_query(user))),
            None if !profile.app_scope.is_empty() => {
                keys.push(FactKey::Table(discovery_query(&profile.app_scope)));
            }
            None => {}
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
        .code(MISSING_INPUT.arg("how", how.join("; ")));
        for m in &connect.missing {
            outcome = outcome.with("missing", format!("{} — {}", m.what, m.how));
        }
        return outcome;
    }
    if let Some(why) = &connect.withheld {
        return Outcome::inconclusive(format!(
            "the {} grant was not attempted: {why}",
            grant_type(connect.grant)
        ))
        .with("withheld", why.clone())
        .code(LOCKOUT_GUARD);
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
            let no_refresh = connect
                .token
                .as_ref()
                .is_some_and(|t| t.refresh_token.is_none());
            if no_refresh && connect.grant == Grant::Password {
                outcome.status = Status::Warn;
                outcome.summary = format!(
                    "{user} obtained a token, but no refresh token: the connector needs one to keep working after the access token expires"
                );
                outcome = outcome.code(NO_REFRESH_TOKEN);
            }
            contradictions(ctx, facts, connect, outcome)
        }
        Some(ConnectFailure::TokenRefused {
            status,
            error,
            error_description,
            logged_in,
        }) => {
            let causes = rank_causes(ctx, facts, connect);
            let same = |key: &str| causes::judged_the_same(key, ctx, facts, connect);
            refused(
                *status,
                error,
                error_description,
                logged_in.as_deref(),
                &causes,
                &same,
                facts,
            )
        }
        Some(ConnectFailure::TokenRequest(e)) => match e {
            ClientError::Timeout { .. } | ClientError::Connect { .. } => {
                Outcome::inconclusive(format!("the token request did not complete: {e}"))
                    .code(TOKEN_INCOMPLETE)
            }
            _ => Outcome::fail(format!(
                "the token endpoint /oauth_token.do did not answer as OAuth: {e}"
            ))
            .code(NOT_OAUTH),
        },
        Some(ConnectFailure::TokenMalformed(why)) => Outcome::fail(format!(
            "/oauth_token.do answered 200 but not with a token: {why}"
        ))
        .code(NOT_OAUTH),
        Some(ConnectFailure::UseFailed(ClientError::Unauthorized { .. }))
            if connect.token.as_ref().and_then(|t| t.expires_in) == Some(0) =>
        {
            expired_at_once(ctx, facts)
        }
        Some(ConnectFailure::UseFailed(e)) => token_use_failed(e),
        Some(ConnectFailure::WrongUser { expected, actual }) => Outcome::fail(format!(
            "the token acts as {actual:?}, not as the integration user {expected:?}"
        ))
        .with("expected user", expected.clone())
        .code(WRONG_USER),
    }
}

/// A working connect is the ground truth: a configuration finding it contradicts is reported as such,
/// naming the check only when that check judged the entity or user the connect used.
fn contradictions(
    ctx: &Context,
    facts: &Facts,
    connect: &ConnectOutcome,
    mut outcome: Outcome,
) -> Outcome {
    for cause in causes::configuration_causes(ctx, facts, connect)
        .into_iter()
        .filter(|c| c.likelihood == Likelihood::High)
    {
        outcome = outcome.with(
            "contradiction",
            format!(
                "{} reported that {} ({}), yet the token was issued and works",
                causes::reported_by(cause.key)
                    .filter(|_| causes::judged_the_same(cause.key, ctx, facts, connect))
                    .unwrap_or("the configuration"),
                cause.text,
                cause.seen
            ),
        );
    }
    outcome
}

/// A token issued with `expires_in` 0 and refused when used: it had expired by then. The entity's
/// Access Token Lifespan of 0 (or less) is the cause, which `oauth-entity` reports when it judged
/// this very entity (it picks the connector's entity by name, the connect may use `--client-id`).
fn expired_at_once(ctx: &Context, facts: &Facts) -> Outcome {
    let lifespan = facts.rows(&entities_query()).ok().and_then(|rows| {
        let profile = &ctx.settings.profile;
        let entity = connector_entity(ctx.settings.client_id.as_deref(), profile, rows).ok()?;
        let judged = causes::same_entity(ctx, facts);
        let field = "access_token_lifespan";
        let zero = super::oauth_entity::lifespan_seconds(entity, field).is_some_and(|s| s <= 0);
        let shown = entity.text(field).trim().to_string();
        Some((entity.text("name").to_string(), shown, judged && zero))
    });
    let mut outcome = Outcome::fail(
        "a token was issued with expires_in 0 s and had expired when the REST call used it (401): the OAuth entity issues access tokens that expire at once",
    )
    .code(TOKEN_EXPIRED);
    if let Some((name, seconds, explains)) = lifespan {
        outcome = outcome.with(
            "oauth_entity.access_token_lifespan",
            format!("{seconds:?} on {name:?}"),
        );
        if explains {
            outcome
                .explained_by
                .push("oauth-entity/access-token-lifespan".to_string());
        }
    }
    outcome
}

fn token_use_failed(e: &ClientError) -> Outcome {
    let outcome = Outcome::fail(format!(
        "a token was issued, but the REST call with it failed: {e}"
    ));
    match e {
        // The instance gave up on the request, not on the token: nothing is proven either way.
        ClientError::TransactionCancelled | ClientError::Timeout { .. } => {
            Outcome::inconclusive(format!(
                "a token was issued, but the REST call that proves it works did not complete: {e}"
            ))
            .code(super::code::TRANSACTION_QUOTA)
        }
        ClientError::Unauthorized { .. } => outcome.code(TOKEN_REJECTED),
        ClientError::RateLimited { retry_after, .. } => outcome.code(
            USER_RATE_LIMITED.arg(
                "retry",
                retry_after
                    .map(|d| format!("; retry after {} s", d.as_secs()))
                    .unwrap_or_default(),
            ),
        ),
        ClientError::Forbidden { .. } | ClientError::IpBlocked => outcome.code(USE_FORBIDDEN),
        _ => outcome.code(USE_FAILED),
    }
}

/// A refused token request, with its ranked causes; `judged_the_same` says whether the finding a
/// cause names is about the entity or user the connect used ([`causes::judged_the_same`]).
fn refused(
    status: u16,
    error: &str,
    description: &str,
    logged_in: Option<&str>,
    causes: &[Cause],
    judged_the_same: &dyn Fn(&str) -> bool,
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
    if may_lack_admin(facts) {
        outcome = outcome.with(
            "note",
            "the diagnosing account lacks admin: configuration rows may be hidden, so the ranking is less certain",
        );
    }
    // The test's own grant being switched off says nothing about the connector (authorization code).
    if top.is_some_and(|c| matches!(c.key, "ropc-disabled" | "cc-disabled" | "entity-no-user")) {
        outcome.status = Status::Inconclusive;
        outcome.summary = format!(
            "the connection could not be proven with this grant: {} (the connector itself uses the authorization-code grant)",
            top.map(|c| c.text.as_str()).unwrap_or_default()
        );
    }
    for cause in causes.iter().filter(|c| c.likelihood == Likelihood::High) {
        if let Some(by) = causes::explained_by(cause.key)
            && judged_the_same(cause.key)
            && !outcome.explained_by.iter().any(|b| b == by)
        {
            outcome.explained_by.push(by.to_string());
        }
    }
    causes
        .iter()
        .filter(|c| Some(c.likelihood) == top.map(|t| t.likelihood))
        .map(Cause::code)
        .fold(outcome, Outcome::code)
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
