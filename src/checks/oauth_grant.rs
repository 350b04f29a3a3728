//! `oauth-grant`: the grant snowdoctor's connect test uses (`--grant`) is enabled on the instance. The
//! password grant is switched off by `glide.oauth.inbound.ropc.grant_type.disabled=true`; the
//! client-credentials grant needs `glide.oauth.inbound.client.credential.grant_type.enabled=true` and
//! an OAuth Application User on the entity; the refresh-token grant needs no switch.

use super::findings::Findings;
use super::{Check, Code, Context, Outcome};
use crate::connector::entity::{Selection, entities_query, select};
use crate::connector::grant::{CC_ENABLED, ROPC_DISABLED, properties_query, property};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::Row;
use crate::servicenow::oauth::Grant;

/// See the module docs.
pub struct OauthGrant;

const ROPC_OFF: Code = Code::inconclusive("password-grant-off");
const CC_OFF: Code = Code::inconclusive("client-credentials-off");
const NO_APP_USER: Code = Code::inconclusive("no-application-user");

impl Check for OauthGrant {
    fn name(&self) -> &'static str {
        "oauth-grant"
    }

    fn codes(&self) -> &'static [Code] {
        &[ROPC_OFF, CC_OFF, NO_APP_USER]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        match ctx.settings.grant {
            Grant::RefreshToken => Vec::new(),
            Grant::Password => vec![FactKey::WhoAmI, FactKey::Table(properties_query())],
            Grant::ClientCredentials => vec![
                FactKey::WhoAmI,
                FactKey::Table(properties_query()),
                FactKey::Table(entities_query()),
            ],
        }
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let grant = ctx.settings.grant;
        if grant == Grant::RefreshToken {
            return Outcome::skipped(
                "the refresh_token grant needs no platform switch: nothing to check",
            );
        }
        let mut f = Findings::default();
        let query = properties_query();
        // An absent property means its default; a 403, or nothing returned to a non-admin, is unknown.
        let rows = f.rows(facts, &query);
        if let Some(rows) = rows {
            match grant {
                Grant::Password => password(rows, &mut f),
                Grant::ClientCredentials => client_credentials(ctx, facts, rows, &mut f),
                Grant::RefreshToken => {}
            }
        }
        let pass = match grant {
            Grant::Password => {
                format!("the password grant is allowed ({ROPC_DISABLED} is not true)")
            }
            _ => format!(
                "the client_credentials grant is enabled ({CC_ENABLED}=true) and the entity has an OAuth Application User"
            ),
        };
        f.outcome(pass)
    }
}

fn password(rows: &[Row], f: &mut Findings) {
    let row = property(rows, ROPC_DISABLED);
    f.note(
        ROPC_DISABLED,
        row.map_or("(absent: default false)", |r| r.text("value")),
    );
    if row.and_then(|r| r.flag("value")) == Some(true) {
        f.undecided(
            ROPC_OFF,
            format!("the password (ROPC) grant the connect test uses is disabled ({ROPC_DISABLED}=true), a hardening setting the connector (authorization code) does not need"),
        );
    }
}

fn client_credentials(ctx: &Context, facts: &Facts, rows: &[Row], f: &mut Findings) {
    let row = property(rows, CC_ENABLED);
    f.note(CC_ENABLED, row.map_or("(absent)", |r| r.text("value")));
    if row.and_then(|r| r.flag("value")) != Some(true) {
        f.undecided(
            CC_OFF,
            format!("the client_credentials grant the connect test uses is not enabled ({CC_ENABLED} is not true); the connector (authorization code) does not need it"),
        );
    }
    let Some(entities) = f.rows(facts, &entities_query()) else {
        return;
    };
    if let Selection::Found { row, .. } = select(&ctx.settings.profile, entities) {
        let name = row.text("name");
        if row.text("user").trim().is_empty() {
            f.undecided(
                NO_APP_USER.arg("entity", format!("{name:?}")),
                format!("the OAuth entity {name:?} has no OAuth Application User, which the client_credentials grant runs as (the connector does not use that grant)"),
            );
        } else {
            f.note(
                format!("oauth_entity[{name}].user"),
                row.display("user").unwrap_or(""),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::Status;
    use serde_json::json;

    fn eval(grant: Grant, props: Vec<serde_json::Value>, entity_user: &str) -> Outcome {
        let ctx = context_with(|s| s.grant = grant);
        let entity = json!({"name": "Microsoft 365 Security Center Connector", "type": "client",
                            "client_id": "x", "user": dv(entity_user, entity_user)});
        let facts = Facts::from_pairs([
            admin(),
            rows(FactKey::Table(properties_query()), props),
            rows(FactKey::Table(entities_query()), vec![entity]),
        ]);
        OauthGrant.evaluate(&ctx, &facts)
    }

    #[test]
    fn password_grant_passes_by_default_and_is_undecided_when_disabled() {
        assert_eq!(eval(Grant::Password, vec![], "").status, Status::Pass);
        let off = json!({"name": ROPC_DISABLED, "value": "false"});
        assert_eq!(eval(Grant::Password, vec![off], "").status, Status::Pass);
        let on = json!({"name": ROPC_DISABLED, "value": "true"});
        // A hardening setting the connector (authorization code) does not need: never a failure.
        let outcome = eval(Grant::Password, vec![on], "");
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(
            outcome
                .rendered_fix("oauth-grant")
                .contains("Keep the setting")
        );
        assert!(
            outcome
                .rendered_fix("oauth-grant")
                .contains("--grant refresh-token")
        );
    }

    #[test]
    fn client_credentials_needs_the_property_and_an_application_user() {
        let outcome = eval(Grant::ClientCredentials, vec![], "");
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("not enabled"));
        assert!(outcome.summary.contains("OAuth Application User"));
        let on = json!({"name": CC_ENABLED, "value": "true"});
        assert_eq!(
            eval(Grant::ClientCredentials, vec![on], "m365.integration").status,
            Status::Pass
        );
    }

    #[test]
    fn refresh_token_grant_is_not_applicable() {
        let ctx = context_with(|s| s.grant = Grant::RefreshToken);
        assert!(OauthGrant.needs(&ctx).is_empty());
        assert_eq!(
            OauthGrant.evaluate(&ctx, &Facts::default()).status,
            Status::Skipped
        );
    }

    #[test]
    fn forbidden_properties_are_inconclusive() {
        let facts = Facts::from_pairs([non_admin(), forbidden(FactKey::Table(properties_query()))]);
        let outcome = OauthGrant.evaluate(&context(), &facts);
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("run with an admin account"));
        let hidden = Facts::from_pairs([
            non_admin(),
            rows(FactKey::Table(properties_query()), vec![]),
        ]);
        assert_eq!(
            OauthGrant.evaluate(&context(), &hidden).status,
            Status::Inconclusive
        );
    }
}
