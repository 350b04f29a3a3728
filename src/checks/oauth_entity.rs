//! `oauth-entity`: the OAuth application registry entity the connector authenticates with (named with
//! `--oauth-entity`, or found through the app: its scope, then its name). It must exist, be active, be
//! an inbound OAuth client (an "OAuth Provider" record is for outbound calls), have a client id and a
//! redirect URL, and issue tokens that live long enough for a standing integration.

use super::findings::{Findings, shown};
use super::{Check, Code, Context, Outcome};
use crate::connector::entity::{Selection, entities_query, is_inbound_client, select};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::Row;

/// See the module docs.
pub struct OauthEntity;

const NOT_FOUND: Code = Code::fail("not-found");
const AMBIGUOUS: Code = Code::warn("ambiguous");
const INACTIVE: Code = Code::fail("inactive");
const NOT_INBOUND: Code = Code::fail("not-inbound-client");
const NO_CLIENT_ID: Code = Code::fail("no-client-id");
const NO_REDIRECT: Code = Code::fail("no-redirect-url");
const ACCESS_LIFESPAN: Code = Code::fail("access-token-lifespan");
const SHORT_REFRESH: Code = Code::warn("short-refresh-lifespan");

/// A refresh token shorter-lived than this forces the admin to reconnect the integration often.
pub const MIN_REFRESH_LIFESPAN_S: i64 = 30 * 24 * 3600;

impl Check for OauthEntity {
    fn name(&self) -> &'static str {
        "oauth-entity"
    }

    fn codes(&self) -> &'static [Code] {
        &[
            NOT_FOUND,
            AMBIGUOUS,
            INACTIVE,
            NOT_INBOUND,
            NO_CLIENT_ID,
            NO_REDIRECT,
            ACCESS_LIFESPAN,
            SHORT_REFRESH,
        ]
    }

    fn needs(&self, _ctx: &Context) -> Vec<FactKey> {
        vec![FactKey::WhoAmI, FactKey::Table(entities_query())]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let mut f = Findings::default();
        let Some(rows) = f.rows(facts, &entities_query()) else {
            return f.outcome("");
        };
        let pass = match select(&ctx.settings.profile, rows) {
            Selection::NotFound { why } => {
                // Microsoft's wording (in the `not-found` fix) fits only when no entity was found;
                // an inactive or misconfigured one gets the fix for what is wrong with it.
                let clients: Vec<&str> = rows
                    .iter()
                    .filter(|r| is_inbound_client(r))
                    .map(|r| r.text("name"))
                    .take(10)
                    .collect();
                f.note(
                    "inbound OAuth clients on the instance",
                    if clients.is_empty() {
                        "none".to_string()
                    } else {
                        clients.join(", ")
                    },
                );
                let providers: Vec<&str> = rows
                    .iter()
                    .filter(|r| !is_inbound_client(r))
                    .map(|r| r.text("name"))
                    .take(10)
                    .collect();
                let why = if clients.is_empty() && !providers.is_empty() {
                    f.note(
                        "other OAuth records (not inbound clients)",
                        providers.join(", "),
                    );
                    format!(
                        "{why}; the instance has no inbound OAuth client at all, only {} third-party provider record(s), which serve outbound calls",
                        providers.len()
                    )
                } else {
                    why
                };
                f.fail(NOT_FOUND, why);
                String::new()
            }
            Selection::Found { row, how, others } => {
                judge(row, &how, &others, &mut f);
                format!(
                    "{:?} is an active inbound OAuth client with a client id and a redirect URL ({how})",
                    row.text("name")
                )
            }
        };
        f.outcome(pass)
    }
}

fn judge(row: &Row, how: &str, others: &[String], f: &mut Findings) {
    let name = row.text("name").to_string();
    f.note("entity", format!("{name} ({how})"));
    for field in [
        "type",
        "active",
        "client_id",
        "redirect_url",
        "access_token_lifespan",
        "refresh_token_lifespan",
        "client_type",
        "sys_scope",
    ] {
        f.note(format!("oauth_entity[{name}].{field}"), shown(row, field));
    }
    if !others.is_empty() {
        f.warn(
            AMBIGUOUS,
            format!(
                "several OAuth entities match ({name}, {}); checking {name}",
                others.join(", ")
            ),
        );
    }
    if row.flag("active") != Some(true) {
        f.fail(
            INACTIVE.arg("entity", format!("{name:?}")),
            format!("the OAuth entity {name:?} is inactive"),
        );
    }
    if !is_inbound_client(row) {
        let kind = row.display("type").unwrap_or("").to_string();
        let provider = row.is_one_of(
            "type",
            &[
                "consumer",
                "OAuth Provider",
                "oidc_provider",
                "External OIDC Provider",
            ],
        );
        let summary = if provider {
            format!(
                "{name:?} is a third-party {kind} record (outbound: ServiceNow calling another service), not an OAuth client that external applications use to call ServiceNow"
            )
        } else {
            format!(
                "{name:?} has type {:?}, not OAuth Client",
                shown(row, "type")
            )
        };
        f.fail(NOT_INBOUND, summary);
    }
    if row.text("client_id").trim().is_empty() {
        f.fail(
            NO_CLIENT_ID.arg("entity", format!("{name:?}")),
            format!("{name:?} has no client id"),
        );
    }
    if row.text("redirect_url").trim().is_empty() {
        f.fail(
            NO_REDIRECT.arg("entity", format!("{name:?}")),
            format!("{name:?} has no redirect URL, so the authorization code has nowhere to go"),
        );
    }
    lifespans(row, &name, f);
}

/// A lifespan field of an entity in seconds, as the form shows it (`1,800`) or stored; `None` when
/// it is not a number.
pub(crate) fn lifespan_seconds(row: &Row, field: &str) -> Option<i64> {
    row.text(field).trim().replace(',', "").parse().ok()
}

fn lifespans(row: &Row, name: &str, f: &mut Findings) {
    let seconds = |field: &str| lifespan_seconds(row, field);
    match seconds("access_token_lifespan") {
        Some(s) if s <= 0 => f.fail(
            ACCESS_LIFESPAN.arg("entity", format!("{name:?}")),
            format!("{name:?} issues access tokens with a lifespan of {s} s"),
        ),
        Some(_) => {}
        None => f.note("access token lifespan", "not readable as seconds"),
    }
    match seconds("refresh_token_lifespan") {
        Some(s) if s < MIN_REFRESH_LIFESPAN_S => f.warn(
            SHORT_REFRESH.arg("entity", format!("{name:?}")),
            format!("{name:?} issues refresh tokens valid for only {} (under 30 days): the connector is a standing integration and must be re-authorized whenever its refresh token expires", human(s)),
        ),
        Some(_) => {}
        None => f.note("refresh token lifespan", "not readable as seconds"),
    }
}

fn human(seconds: i64) -> String {
    let (n, unit) = if seconds >= 86_400 {
        (seconds / 86_400, "day")
    } else if seconds >= 3600 {
        (seconds / 3600, "hour")
    } else {
        (seconds, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::connector::entity::client_id_for;
    use crate::model::Status;
    use serde_json::{Value, json};

    fn entity(name: &str, kind: (&str, &str), active: &str, refresh: &str) -> Value {
        json!({"sys_id": name, "name": name, "type": dv(kind.0, kind.1), "client_id": "8f2e4a6c",
               "redirect_url": "https://security.microsoft.com/callback", "active": dv(active, active),
               "access_token_lifespan": "1800", "refresh_token_lifespan": refresh,
               "sys_scope": dv("global", "Global"), "sys_scope.scope": "global"})
    }

    const CONNECTOR: &str = "Microsoft 365 Security Center Connector";

    fn healthy() -> Vec<Value> {
        vec![
            entity(CONNECTOR, ("client", "OAuth Client"), "true", "8640000"),
            entity(
                "Microsoft Graph (outbound)",
                ("consumer", "OAuth Provider"),
                "true",
                "8640000",
            ),
        ]
    }

    fn eval_named(name: Option<&str>, entities: Vec<Value>) -> Outcome {
        let ctx = context_with(|s| s.profile.oauth_entity = name.map(str::to_string));
        let facts = Facts::from_pairs([admin(), rows(FactKey::Table(entities_query()), entities)]);
        OauthEntity.evaluate(&ctx, &facts)
    }

    #[test]
    fn named_healthy_entity_passes() {
        let outcome = eval_named(Some(CONNECTOR), healthy());
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
    }

    #[test]
    fn entity_found_through_the_app_name_when_not_named() {
        let outcome = eval_named(None, healthy());
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
        assert!(outcome.summary.contains(CONNECTOR));
        assert!(outcome.summary.contains("found by name"));
    }

    #[test]
    fn entity_in_the_app_scope_wins() {
        let mut scoped = entity(
            "Some Other Name",
            ("client", "OAuth Client"),
            "true",
            "8640000",
        );
        scoped["sys_scope.scope"] = json!("x_mioms_m365ticket");
        let mut entities = healthy();
        entities.push(scoped);
        let ctx = context();
        let rows: Vec<Row> = entities.into_iter().map(Row::from_value).collect();
        match select(&ctx.settings.profile, &rows) {
            Selection::Found { row, .. } => assert_eq!(row.text("name"), "Some Other Name"),
            other => panic!("expected a match, got {other:?}"),
        }
    }

    #[test]
    fn missing_entity_fails_with_microsofts_remedy() {
        let outcome = eval_named(Some("Nope"), healthy());
        assert_eq!(outcome.status, Status::Fail);
        let fix = outcome.rendered_fix("oauth-entity");
        assert!(fix.starts_with("No usable OAuth entity was found"), "{fix}");
        assert!(fix.contains("--oauth-entity"));
    }

    #[test]
    fn only_provider_records_say_so() {
        let providers = vec![entity(
            "Microsoft Graph (outbound)",
            ("consumer", "OAuth Provider"),
            "true",
            "8640000",
        )];
        let outcome = eval_named(None, providers);
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("no inbound OAuth client at all"),
            "{}",
            outcome.summary
        );
    }

    #[test]
    fn inactive_entity_fails() {
        let entities = vec![entity(
            CONNECTOR,
            ("client", "OAuth Client"),
            "false",
            "8640000",
        )];
        let outcome = eval_named(Some(CONNECTOR), entities);
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("inactive"));
    }

    #[test]
    fn provider_record_fails_by_label_or_value() {
        let by_label = vec![entity(
            CONNECTOR,
            ("weird", "OAuth Provider"),
            "true",
            "8640000",
        )];
        let outcome = eval_named(Some(CONNECTOR), by_label);
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("third-party"),
            "{}",
            outcome.summary
        );
        assert!(
            outcome
                .rendered_fix("oauth-entity")
                .contains("external clients")
        );
    }

    #[test]
    fn no_client_id_or_redirect_fails() {
        let mut e = entity(CONNECTOR, ("client", "OAuth Client"), "true", "8640000");
        e["client_id"] = json!("");
        e["redirect_url"] = json!("");
        let outcome = eval_named(Some(CONNECTOR), vec![e]);
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("no client id"));
        assert!(outcome.summary.contains("no redirect URL"));
    }

    #[test]
    fn short_refresh_lifespan_warns() {
        let entities = vec![entity(
            CONNECTOR,
            ("client", "OAuth Client"),
            "true",
            "86400",
        )];
        let outcome = eval_named(Some(CONNECTOR), entities);
        assert_eq!(outcome.status, Status::Warn);
        assert!(
            outcome.summary.contains("only 1 day (under 30 days)"),
            "{}",
            outcome.summary
        );
    }

    #[test]
    fn forbidden_or_hidden_is_inconclusive() {
        let ctx = context();
        let denied = Facts::from_pairs([non_admin(), forbidden(FactKey::Table(entities_query()))]);
        let outcome = OauthEntity.evaluate(&ctx, &denied);
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("run with an admin account"));
        let hidden =
            Facts::from_pairs([non_admin(), rows(FactKey::Table(entities_query()), vec![])]);
        assert_eq!(
            OauthEntity.evaluate(&ctx, &hidden).status,
            Status::Inconclusive
        );
    }

    #[test]
    fn client_id_for_the_probe() {
        let rows: Vec<Row> = healthy().into_iter().map(Row::from_value).collect();
        assert_eq!(
            client_id_for(&context().settings.profile, &rows).as_deref(),
            Some("8f2e4a6c")
        );
    }
}
