//! The cause ranking of a refused token request. ServiceNow answers nearly every token failure with the
//! same generic 401, so the causes the configuration supports are ranked from the same rows the
//! configuration checks read: the entity, the user the token is for, and the grant properties. "Wrong
//! client secret" leads only when nothing else explains the refusal.

use super::super::findings::may_lack_admin;
use super::{Code, Context};
use crate::connector::entity::{connector_entity, entities_query};
use crate::connector::grant::{
    CC_ENABLED, OAUTH_ACTIVE, ROPC_DISABLED, oauth_active_query, properties_query,
    property as row_of,
};
use crate::connector::user::{discovered, discovery_query, named, user_query};
use crate::runner::facts::Facts;
use crate::servicenow::Row;
use crate::servicenow::oauth::ConnectOutcome;
use crate::servicenow::oauth::Grant;

/// How strongly the configuration points at a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Likelihood {
    High,
    Medium,
    Low,
}

impl Likelihood {
    /// Lower-case name, as shown in the evidence.
    pub fn as_str(self) -> &'static str {
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
}

impl Cause {
    /// The finding code of this cause (`oauth-connect/<key>`); its fix is in the manifest.
    pub fn code(&self) -> Code {
        CAUSES
            .iter()
            .copied()
            .find(|c| c.name == self.key)
            .unwrap_or(Code::fail("unknown-cause"))
    }
}

/// Every cause the ranking can name. The test's own grant being switched off proves nothing about
/// the connector, so those leave the connect undecided.
pub const CAUSES: &[Code] = &[
    Code::fail("oauth-inactive"),
    Code::fail("entity-missing"),
    Code::fail("entity-inactive"),
    Code::fail("entity-not-client"),
    Code::inconclusive("entity-no-user"),
    Code::fail("user-missing"),
    Code::fail("user-inactive"),
    Code::fail("user-locked"),
    Code::fail("user-web-service-only"),
    Code::fail("user-password-reset"),
    Code::inconclusive("ropc-disabled"),
    Code::inconclusive("cc-disabled"),
    Code::fail("refresh-token-invalid"),
    Code::fail("wrong-client-secret"),
    Code::fail("wrong-user-password"),
];

/// What a property row says: `Some(value)` when found, `None` when absent, `Err` when unreadable.
fn property(facts: &Facts, name: &str) -> Result<Option<String>, ()> {
    let query = if name == OAUTH_ACTIVE {
        oauth_active_query()
    } else {
        properties_query()
    };
    facts
        .rows(&query)
        .map(|rows| row_of(rows, name).map(|r| r.text("value").trim().to_ascii_lowercase()))
        .map_err(|_| ())
}

/// The user the token is for, as the configuration knows it: the entity's application user (client
/// credentials), else the named integration user, else the one found through the app's roles.
/// `Err(name)` when a named user has no record.
fn token_user(
    ctx: &Context,
    facts: &Facts,
    connect: &ConnectOutcome,
) -> Result<Option<Row>, String> {
    if connect.grant == Grant::ClientCredentials {
        return Ok(connect.application_user.clone());
    }
    judged_user(ctx, facts)
}

/// The user `integration-user` judges: the named one, else the one found through the app's roles.
/// `Err(name)` when a named user has no record.
fn judged_user(ctx: &Context, facts: &Facts) -> Result<Option<Row>, String> {
    let profile = &ctx.settings.profile;
    match named(profile) {
        Some(name) => match facts.rows(&user_query(name)) {
            Ok([]) => Err(name.to_string()),
            Ok(rows) => Ok(rows.first().cloned()),
            Err(_) => Ok(None),
        },
        None if !profile.app_scope.is_empty() => Ok(facts
            .rows(&discovery_query(&profile.app_scope))
            .ok()
            .and_then(discovered)),
        None => Ok(None),
    }
}

/// The check that reports a configuration cause, for "X reported …, yet the token was issued".
/// `None` for the causes no configuration check sees (the secret, the password, the refresh token).
pub fn reported_by(key: &str) -> Option<&'static str> {
    match key {
        "oauth-inactive" => Some("oauth-platform"),
        "ropc-disabled" | "cc-disabled" | "entity-no-user" => Some("oauth-grant"),
        k if k.starts_with("entity-") => Some("oauth-entity"),
        k if k.starts_with("user-") => Some("integration-user"),
        _ => None,
    }
}

/// The finding of the reporting check ([`reported_by`]) that is this cause: a refusal is explained
/// by that finding, not by any failure of its check.
pub fn explained_by(key: &str) -> Option<&'static str> {
    Some(match key {
        "oauth-inactive" => "oauth-platform/value",
        "ropc-disabled" => "oauth-grant/password-grant-off",
        "cc-disabled" => "oauth-grant/client-credentials-off",
        "entity-no-user" => "oauth-grant/no-application-user",
        "entity-missing" => "oauth-entity/not-found",
        "entity-inactive" => "oauth-entity/inactive",
        "entity-not-client" => "oauth-entity/not-inbound-client",
        "user-missing" => "integration-user/not-found",
        "user-inactive" => "integration-user/inactive",
        "user-locked" => "integration-user/locked-out",
        "user-web-service-only" => "integration-user/web-service-only",
        "user-password-reset" => "integration-user/password-needs-reset",
        _ => return None,
    })
}

/// Whether the finding [`explained_by`] names is about what this cause is about. `oauth-entity` and
/// `oauth-grant` judge the connector's entity found by name, while the connect uses `--client-id`
/// when given; `integration-user` judges the named (or discovered) user, while a client-credentials
/// token is for the entity's application user. A finding about another entity or user explains
/// nothing here.
pub fn judged_the_same(key: &str, ctx: &Context, facts: &Facts, connect: &ConnectOutcome) -> bool {
    if key.starts_with("entity-") {
        return same_entity(ctx, facts);
    }
    if key.starts_with("user-") && connect.grant == Grant::ClientCredentials {
        let judged = judged_user(ctx, facts).ok().flatten();
        return match (&connect.application_user, judged) {
            (Some(token_user), Some(judged)) => same_record(token_user, &judged),
            _ => false,
        };
    }
    true
}

/// Whether the connect's entity (by `--client-id`, else by name) is the one the entity checks
/// judge (by name).
pub fn same_entity(ctx: &Context, facts: &Facts) -> bool {
    let Some(client_id) = ctx.settings.client_id.as_deref() else {
        return true;
    };
    let Ok(rows) = facts.rows(&entities_query()) else {
        return false;
    };
    let profile = &ctx.settings.profile;
    match (
        connector_entity(Some(client_id), profile, rows),
        connector_entity(None, profile, rows),
    ) {
        (Ok(used), Ok(judged)) => same_record(used, judged),
        _ => false,
    }
}

/// Two rows of one table that are the same record: the same, known sys_id.
fn same_record(a: &Row, b: &Row) -> bool {
    !b.text("sys_id").is_empty() && a.text("sys_id") == b.text("sys_id")
}

/// The causes the configuration alone supports (entity, user, properties), in the order found. A
/// refusal is explained by them; a connect that works despite one of them contradicts it.
pub fn configuration_causes(ctx: &Context, facts: &Facts, connect: &ConnectOutcome) -> Vec<Cause> {
    let mut causes = Vec::new();
    let mut add = |likelihood, key, text: String, seen: String| {
        causes.push(Cause {
            likelihood,
            key,
            text,
            seen,
        });
    };
    let admin_view = !may_lack_admin(facts);
    if let Ok(Some(value)) = property(facts, OAUTH_ACTIVE)
        && value == "false"
    {
        add(
            Likelihood::High,
            "oauth-inactive",
            "OAuth is switched off on the instance".into(),
            format!("{OAUTH_ACTIVE}=false"),
        );
    }
    // The entity.
    let grant = connect.grant;
    if let Ok(rows) = facts.rows(&entities_query()) {
        match connector_entity(
            ctx.settings.client_id.as_deref(),
            &ctx.settings.profile,
            rows,
        ) {
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
                    );
                }
            }
            Err(why) if admin_view => add(
                Likelihood::High,
                "entity-missing",
                why,
                format!("oauth_entity: {} row(s), none matches", rows.len()),
            ),
            Err(_) => {}
        }
    }
    // The user the token is for.
    let user_row = match token_user(ctx, facts, connect) {
        Ok(row) => row,
        Err(name) => {
            if admin_view {
                add(
                    Likelihood::High,
                    "user-missing",
                    format!("the integration user {name:?} does not exist"),
                    "sys_user: 0 rows".into(),
                );
            }
            None
        }
    };
    if let Some(user) = &user_row {
        user_causes(user, grant, &mut add);
    }
    match grant {
        Grant::Password => {
            if let Ok(Some(value)) = property(facts, ROPC_DISABLED)
                && value == "true"
            {
                add(
                    Likelihood::High,
                    "ropc-disabled",
                    "the password grant is disabled on the instance".into(),
                    format!("{ROPC_DISABLED}=true"),
                );
            }
        }
        Grant::ClientCredentials => match property(facts, CC_ENABLED) {
            Ok(Some(value)) if value == "true" => {}
            Ok(found) if admin_view => add(
                Likelihood::High,
                "cc-disabled",
                "the client-credentials grant is not enabled on the instance".into(),
                match found {
                    Some(v) => format!("{CC_ENABLED}={v}"),
                    None => format!("{CC_ENABLED} is absent"),
                },
            ),
            _ => {}
        },
        Grant::RefreshToken => {}
    }
    causes
}

/// The causes the configuration supports, most likely first, then the secrets nobody can read back.
pub fn rank_causes(ctx: &Context, facts: &Facts, connect: &ConnectOutcome) -> Vec<Cause> {
    let mut causes = configuration_causes(ctx, facts, connect);
    let grant = connect.grant;
    let explained = causes.iter().any(|c| c.likelihood == Likelihood::High);
    let (secret, password) = match (explained, grant) {
        (true, _) => (Likelihood::Low, Likelihood::Low),
        // An unexplained refresh failure is most often the token itself.
        (false, Grant::RefreshToken) => (Likelihood::Medium, Likelihood::Low),
        (false, _) => (Likelihood::High, Likelihood::Medium),
    };
    if grant == Grant::RefreshToken {
        causes.push(Cause {
            likelihood: if explained {
                Likelihood::Low
            } else {
                Likelihood::High
            },
            key: "refresh-token-invalid",
            text: "the refresh token expired, was revoked, or was issued to another OAuth client"
                .into(),
            seen: String::new(),
        });
    }
    causes.push(Cause {
        likelihood: secret,
        key: "wrong-client-secret",
        text: "the client secret does not match the OAuth entity".into(),
        seen: if explained {
            String::new()
        } else {
            "nothing in the configuration explains the refusal".into()
        },
    });
    if grant == Grant::Password {
        causes.push(Cause {
            likelihood: password,
            key: "wrong-user-password",
            text: "the integration user's password is wrong".into(),
            seen: String::new(),
        });
    }
    causes.sort_by_key(|c| c.likelihood);
    causes
}

type Add<'a> = dyn FnMut(Likelihood, &'static str, String, String) + 'a;

fn entity_causes(entity: &Row, add: &mut Add) {
    let name = entity.text("name");
    if entity.flag("active") == Some(false) {
        add(
            Likelihood::High,
            "entity-inactive",
            format!("the OAuth entity {name:?} is inactive"),
            "oauth_entity.active=false".into(),
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
        );
    }
    if flag("locked_out") {
        add(
            Likelihood::High,
            "user-locked",
            format!("the user {name:?} is locked out"),
            "sys_user.locked_out=true".into(),
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
        );
    }
    if flag("password_needs_reset") {
        // The password grant signs the user in, which a pending reset refuses; a refresh token
        // already issued may still work.
        add(
            if grant == Grant::Password {
                Likelihood::High
            } else {
                Likelihood::Medium
            },
            "user-password-reset",
            format!("the user {name:?} must reset its password"),
            "sys_user.password_needs_reset=true".into(),
        );
    }
}
