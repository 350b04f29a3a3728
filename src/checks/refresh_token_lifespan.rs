//! `refresh-token-lifespan`: the registry entry's refresh tokens live at least as long as the
//! integration's vendor recommends. A shorter lifespan is a documented risk, not an outage: the
//! connection breaks when the token expires and someone must sign in (ITSMC: "Sync") again.

use super::findings::{Findings, connector_entity};
use super::{Check, Code, Context, Outcome};
use crate::connector::entity::entities_query;
use crate::runner::facts::{FactKey, Facts};

/// See the module docs.
pub struct RefreshTokenLifespan;

const NO_ENTITY: Code = Code::inconclusive("no-entity");
const SHORT: Code = Code::warn("too-short");
const NOT_A_NUMBER: Code = Code::warn("not-a-number");

impl Check for RefreshTokenLifespan {
    fn name(&self) -> &'static str {
        "refresh-token-lifespan"
    }

    fn codes(&self) -> &'static [Code] {
        &[NO_ENTITY, SHORT, NOT_A_NUMBER]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        if ctx.settings.profile.tokens.refresh_lifespan_min.is_none() {
            return Vec::new();
        }
        vec![FactKey::WhoAmI, FactKey::Table(entities_query())]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        let Some(min) = profile.tokens.refresh_lifespan_min else {
            return Outcome::skipped(format!(
                "not applicable: the {} profile recommends no refresh-token lifespan",
                profile.name
            ));
        };
        let (mut f, row) =
            match connector_entity(Findings::default(), facts, profile, "read", NO_ENTITY) {
                Ok(found) => found,
                Err(outcome) => return *outcome,
            };
        let name = row.text("name");
        let raw = row.text("refresh_token_lifespan");
        f.note(format!("oauth_entity[{name}].refresh_token_lifespan"), raw);
        f.note(
            "recommended minimum",
            format!("{min} s ({} days)", min / 86_400),
        );
        match raw.trim().parse::<i64>() {
            Ok(secs) if secs >= 0 && (secs as u64) < min => f.warn(
                SHORT
                    .arg("entity", format!("{name:?}"))
                    .arg("min", min.to_string())
                    .arg("note", profile.tokens.note.clone()),
                format!(
                    "refresh tokens of {name:?} live {secs} s ({} days), less than the {} s ({} days) the {} recommends: the connection breaks when they expire",
                    secs / 86_400,
                    min,
                    min / 86_400,
                    profile.integration
                ),
            ),
            Ok(_) => {}
            Err(_) => f.warn(
                NOT_A_NUMBER
                    .arg("entity", format!("{name:?}"))
                    .arg("min", min.to_string()),
                format!("the refresh-token lifespan of {name:?} is not a number ({raw:?})"),
            ),
        }
        f.outcome(format!(
            "refresh tokens of {name:?} live {raw} s, at least the recommended {min} s"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{admin, context_with, rows};
    use crate::model::Status;

    #[test]
    fn a_short_lifespan_warns() {
        let ctx = context_with(|s| {
            s.profile.oauth_entity = Some("E".into());
            s.profile.tokens.refresh_lifespan_min = Some(7_776_000);
        });
        let run = |lifespan: &str| {
            let facts = Facts::from_pairs([
                admin(),
                rows(
                    FactKey::Table(entities_query()),
                    vec![
                        serde_json::json!({"name": "E", "type": "client", "active": "true", "refresh_token_lifespan": lifespan}),
                    ],
                ),
            ]);
            RefreshTokenLifespan.evaluate(&ctx, &facts)
        };
        assert_eq!(run("7776000").status, Status::Pass);
        assert_eq!(run("8640000").status, Status::Pass);
        assert_eq!(run("3600").status, Status::Warn);
        assert_eq!(
            RefreshTokenLifespan
                .evaluate(&context_with(|_| {}), &Facts::default())
                .status,
            Status::Skipped
        );
    }
}
