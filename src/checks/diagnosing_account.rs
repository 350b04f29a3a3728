//! `diagnosing-account`: the account running the diagnosis authenticates (Basic auth on the REST API).

use super::{Check, Code, Context, Outcome};
use crate::model::Status;
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::ClientError;

/// See the module docs.
pub struct DiagnosingAccount;

const UNCONFIRMED: Code = Code::fail("unconfirmed");
const UNAUTHORIZED: Code = Code::fail("unauthorized");
const UNREACHABLE: Code = Code::fail("unreachable");

impl Check for DiagnosingAccount {
    fn name(&self) -> &'static str {
        "diagnosing-account"
    }

    fn codes(&self) -> &'static [Code] {
        &[UNCONFIRMED, UNAUTHORIZED, UNREACHABLE]
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        vec![FactKey::WhoAmI]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        match facts.identity() {
            // Neither the account's record nor current_user named it: whatever answered did not
            // confirm the sign-in (a server answering `{"result":42}` must not pass).
            Ok(identity) if identity.sys_id.is_empty() => Outcome::fail(format!(
                "cannot confirm that {:?} signed in: the instance answered without the account's record",
                ctx.user
            ))
            .with("user", ctx.user.clone())
            .code(UNCONFIRMED),
            Ok(identity) => {
                let roles = match &identity.roles {
                    Some(roles) => roles.join(", "),
                    None => "(not readable)".into(),
                };
                Outcome::pass(format!("{} authenticates on the REST API", identity.user_name))
                    .with("user", identity.user_name.clone())
                    .with("sys_id", identity.sys_id.clone())
                    .with("roles", roles)
            }
            Err(FactError::Client(ClientError::Unauthorized { message })) => Outcome::fail(format!(
                "authentication failed for {:?}: the instance answered 401 {message}",
                ctx.user
            ))
            .with("user", ctx.user.clone())
            .code(UNAUTHORIZED),
            Err(FactError::Client(error)) if error.is_unreachable() => {
                Outcome::fail(format!("cannot sign in: {error}")).code(UNREACHABLE)
            }
            // A gate that cannot decide fails (exit 3, "could not assess"): "inconclusive" would block
            // every other check and still exit 0. The specific summary and fix are kept.
            Err(error) => {
                let mut outcome = Outcome::from_fact_error(&error, "the diagnosing account");
                outcome.status = Status::Fail;
                outcome
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::facts::{FactValue, Identity};

    fn evaluate(fact: crate::runner::facts::Fact) -> Outcome {
        let facts = Facts::from_pairs([(FactKey::WhoAmI, fact)]);
        DiagnosingAccount.evaluate(&crate::checks::test_support::context(), &facts)
    }

    #[test]
    fn an_answer_without_the_account_is_not_a_sign_in() {
        let nobody = evaluate(Ok(FactValue::Identity(Identity {
            user_name: "admin".into(),
            ..Identity::default()
        })));
        assert_eq!(nobody.status, Status::Fail);
        assert!(
            nobody.summary.contains("cannot confirm"),
            "{}",
            nobody.summary
        );
        let someone = evaluate(Ok(FactValue::Identity(Identity {
            user_name: "admin".into(),
            sys_id: "6816f79cc0a8016401c5a33be04be441".into(),
            ..Identity::default()
        })));
        assert_eq!(someone.status, Status::Pass);
    }

    #[test]
    fn errors_fail_the_gate_with_their_specific_message() {
        let denied = evaluate(Err(FactError::Client(ClientError::Forbidden {
            message: "Operation Failed".into(),
            detail: "ACL".into(),
        })));
        assert_eq!(denied.status, Status::Fail);
        assert!(
            denied.summary.contains("access denied"),
            "{}",
            denied.summary
        );
        let unauthorized = evaluate(Err(FactError::Client(ClientError::Unauthorized {
            message: "User Not Authenticated".into(),
        })));
        assert!(unauthorized.summary.contains("authentication failed"));
    }
}
