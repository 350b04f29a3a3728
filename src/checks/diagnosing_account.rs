//! `diagnosing-account`: the account running the diagnosis authenticates (Basic auth on the REST API).

use super::{Check, Context, Outcome};
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::ClientError;

/// See the module docs.
pub struct DiagnosingAccount;

impl Check for DiagnosingAccount {
    fn name(&self) -> &'static str {
        "diagnosing-account"
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        vec![FactKey::WhoAmI]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        match facts.identity() {
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
            .fix("Check the user name (--user) and the password (SNOWDOCTOR_PASSWORD or --password-file). The account must be active, not locked out, and allowed to use REST with basic authentication (with MFA on basic auth, a 401 with X-MFA_TOKEN: invalid is sent)."),
            Err(FactError::Client(error)) if error.is_unreachable() => {
                Outcome::fail(format!("cannot sign in: {error}"))
            }
            Err(error) => Outcome::from_fact_error(&error, "the diagnosing account"),
        }
    }
}
