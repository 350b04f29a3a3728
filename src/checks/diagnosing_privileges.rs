//! `diagnosing-privileges`: does the account running the diagnosis hold `admin`? The configuration
//! checks read tables only admins may read; without admin they answer `inconclusive`, and this check
//! says why up front.

use super::{Check, Code, Context, Outcome, code};
use crate::runner::facts::{FactKey, Facts};

/// See the module docs.
pub struct DiagnosingPrivileges;

impl Check for DiagnosingPrivileges {
    fn name(&self) -> &'static str {
        "diagnosing-privileges"
    }

    /// Lacking admin is the one finding, and its fix is the shared `needs-admin`.
    fn codes(&self) -> &'static [Code] {
        &[]
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        vec![FactKey::WhoAmI]
    }

    fn evaluate(&self, _ctx: &Context, facts: &Facts) -> Outcome {
        let identity = match facts.identity() {
            Ok(identity) => identity,
            Err(error) => return Outcome::from_fact_error(&error, "the diagnosing account"),
        };
        let user = identity.user_name.clone();
        match &identity.roles {
            Some(roles) if identity.is_admin() => {
                Outcome::pass(format!("{user} has the admin role"))
                    .with("user", user)
                    .with("roles", roles.join(", "))
            }
            Some(roles) => Outcome::warn(format!(
                "{user} does not have the admin role (roles: {}); configuration checks that need admin-only tables will be inconclusive",
                roles.join(", ")
            ))
            .with("user", user)
            .with("roles", roles.join(", "))
            .code(code::NEEDS_ADMIN),
            None => Outcome::warn(format!(
                "the roles of {user} could not be read (an admin can always read its own roles, so it probably lacks admin); configuration checks may be inconclusive"
            ))
            .with("user", user)
            .with("roles", "(not readable)")
            .code(code::NEEDS_ADMIN),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{context, forbidden, who};
    use crate::model::Status;

    fn run(roles: Option<&[&str]>) -> Outcome {
        DiagnosingPrivileges.evaluate(&context(), &Facts::from_pairs([who(roles)]))
    }

    #[test]
    fn admin_passes() {
        assert_eq!(run(Some(&["admin", "itil"])).status, Status::Pass);
    }

    #[test]
    fn roles_without_admin_warn_with_the_fix() {
        let outcome = run(Some(&["itil"]));
        assert_eq!(outcome.status, Status::Warn);
        assert!(outcome.summary.contains("itil"));
        assert_eq!(
            outcome.codes,
            vec![crate::checks::Found::from(code::NEEDS_ADMIN)]
        );
    }

    #[test]
    fn unreadable_roles_warn() {
        let outcome = run(None);
        assert_eq!(outcome.status, Status::Warn);
        assert!(outcome.summary.contains("could not be read"));
    }

    #[test]
    fn identity_error_is_inconclusive() {
        let facts = Facts::from_pairs([forbidden(FactKey::WhoAmI)]);
        let outcome = DiagnosingPrivileges.evaluate(&context(), &facts);
        assert_eq!(outcome.status, Status::Inconclusive);
    }
}
