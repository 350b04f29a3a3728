//! `forbidden-roles`: the integration user holds none of the roles its profile forbids. Microsoft's
//! Copilot connector pages say not to apply `snc_read_only` to the service account, which needs write
//! access to `oauth_credential` to authenticate.

use super::findings::Findings;
use super::{Check, Code, Context, Outcome};
use crate::connector::user::{role_names, roles_query};
use crate::runner::facts::{FactKey, Facts};

/// See the module docs.
pub struct ForbiddenRoles;

const NO_USER: Code = Code::inconclusive("no-user");
const HOLDS_FORBIDDEN: Code = Code::fail("holds-forbidden-role");

impl Check for ForbiddenRoles {
    fn name(&self) -> &'static str {
        "forbidden-roles"
    }

    fn codes(&self) -> &'static [Code] {
        &[NO_USER, HOLDS_FORBIDDEN]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let profile = &ctx.settings.profile;
        match (
            &profile.integration_user,
            profile.forbidden_roles.is_empty(),
        ) {
            (Some(name), false) => vec![FactKey::WhoAmI, FactKey::Table(roles_query(name))],
            _ => Vec::new(),
        }
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        if profile.forbidden_roles.is_empty() {
            return Outcome::skipped(format!(
                "not applicable: the {} profile forbids no role",
                profile.name
            ));
        }
        let Some(name) = profile.integration_user.as_deref() else {
            return Outcome::inconclusive(
                "no integration user was named, so its roles cannot be read",
            )
            .code(NO_USER);
        };
        let mut f = Findings::default();
        let Some(rows) = f.rows(facts, &roles_query(name)) else {
            return f.outcome("");
        };
        let held = role_names(rows);
        f.note(format!("roles of {name}"), held.join(", "));
        for role in &profile.forbidden_roles {
            if held.iter().any(|h| h == role) {
                f.fail(
                    HOLDS_FORBIDDEN.arg("role", role).arg("name", name),
                    format!(
                        "the integration user {name} holds {role}, which the {} must not have",
                        profile.integration
                    ),
                );
            }
        }
        f.outcome(format!(
            "{name} holds none of {}",
            profile.forbidden_roles.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{admin, context_with, rows};
    use crate::model::Status;

    fn run(roles: &[&str]) -> Outcome {
        let ctx = context_with(|s| {
            s.profile.integration_user = Some("svc".into());
            s.profile.forbidden_roles = vec!["snc_read_only".into()];
        });
        let held = roles
            .iter()
            .map(|r| serde_json::json!({"role.name": r, "state": "active"}))
            .collect();
        let facts = Facts::from_pairs([admin(), rows(FactKey::Table(roles_query("svc")), held)]);
        ForbiddenRoles.evaluate(&ctx, &facts)
    }

    #[test]
    fn a_forbidden_role_fails() {
        assert_eq!(run(&["knowledge"]).status, Status::Pass);
        let outcome = run(&["knowledge", "snc_read_only"]);
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("snc_read_only"));
    }
}
