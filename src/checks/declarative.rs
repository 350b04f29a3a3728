//! Declarative table probes: a manifest names a table, a query and assertions; this evaluates them.

use super::findings::may_lack_admin;
use super::{Code, Context, Outcome, code};
use crate::catalogue::{Assertion, RowExpectation, TableProbe};
use crate::model::Status;
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::{Row, TableQuery};

/// The row count differs from `expect` (`<id>/rows`); the fix is `[findings.rows]` when the manifest
/// has one, else its remediation.
pub const ROWS: Code = Code::fail("rows");
/// An assertion on a field failed (`<id>/value`); the fix is `[findings.value]`, else the remediation.
pub const VALUE: Code = Code::fail("value");

/// The query a table probe runs, with profile placeholders filled in.
pub fn query(probe: &TableProbe, ctx: &Context) -> TableQuery {
    let profile = &ctx.settings.profile;
    let filled = probe
        .query
        .replace("{app_scope}", &profile.app_scope)
        .replace(
            "{integration_user}",
            profile.integration_user.as_deref().unwrap_or(""),
        )
        .replace(
            "{oauth_entity}",
            profile.oauth_entity.as_deref().unwrap_or(""),
        );
    TableQuery::new(probe.table.clone())
        .query(filled)
        .fields(probe.fields.iter().cloned())
}

/// The facts a table probe needs: its rows, and who is asking (to tell "none" from "hidden").
pub fn needs(probe: &TableProbe, ctx: &Context) -> Vec<FactKey> {
    vec![FactKey::Table(query(probe, ctx)), FactKey::WhoAmI]
}

/// Evaluates a table probe.
pub fn evaluate(probe: &TableProbe, ctx: &Context, facts: &Facts) -> Outcome {
    let query = query(probe, ctx);
    let rows = match facts.rows(&query) {
        Ok(rows) => rows,
        Err(e) => return Outcome::from_fact_error(&e, &query.table),
    };
    let described = query.describe();
    let count = rows.len();
    let expectation_met = match probe.expect {
        RowExpectation::AtLeastOne => count > 0,
        RowExpectation::None => count == 0,
        RowExpectation::Any => true,
    };
    if count == 0 && may_lack_admin(facts) {
        return Outcome::inconclusive(format!(
            "{described} returned no rows to a non-admin account: rows may be hidden by ACLs; run with an admin account"
        ))
        .with(described, "0 rows (caller lacks admin)")
        .code(code::NEEDS_ADMIN);
    }
    if !expectation_met {
        let message = if probe.expect_message.is_empty() {
            format!(
                "{described}: expected {:?}, found {count} row(s)",
                probe.expect
            )
        } else {
            probe.expect_message.clone()
        };
        return Outcome::new(probe.expect_status, message)
            .with(described, format!("{count} row(s)"))
            .code(Code {
                status: probe.expect_status,
                ..ROWS
            });
    }
    let mut worst: Option<(Status, String)> = None;
    let mut outcome = Outcome::pass("");
    for row in rows {
        for assertion in &probe.assertions {
            let shown = shown_value(row, &assertion.field);
            let label = format!("{}[{}].{}", query.table, row_name(row), assertion.field);
            outcome
                .evidence
                .push(crate::model::Evidence::new(label, shown));
            if !holds(assertion, row) && worst.as_ref().is_none_or(|(s, _)| assertion.status > *s) {
                worst = Some((assertion.status, assertion.message.clone()));
            }
        }
    }
    match worst {
        Some((status, message)) => {
            outcome.status = status;
            outcome.summary = message;
            outcome = outcome.code(Code { status, ..VALUE });
        }
        None => {
            outcome.summary = if probe.pass_message.is_empty() {
                format!("{described}: every assertion holds ({count} row(s))")
            } else {
                probe.pass_message.clone()
            };
        }
    }
    outcome
}

fn holds(assertion: &Assertion, row: &Row) -> bool {
    if let Some(expected) = &assertion.equals {
        return row.is_one_of(&assertion.field, &[expected.as_str()]);
    }
    if let Some(unwanted) = &assertion.not_equals {
        return !row.is_one_of(&assertion.field, &[unwanted.as_str()]);
    }
    if !assertion.one_of.is_empty() {
        let options: Vec<&str> = assertion.one_of.iter().map(String::as_str).collect();
        return row.is_one_of(&assertion.field, &options);
    }
    !row.text(&assertion.field).trim().is_empty()
}

fn shown_value(row: &Row, field: &str) -> String {
    let value = row.value(field).unwrap_or("(absent)");
    match row.display(field) {
        Some(label) if label != value => format!("{value} ({label})"),
        _ => value.to_string(),
    }
}

fn row_name(row: &Row) -> String {
    ["name", "user_name", "scope", "number"]
        .iter()
        .find_map(|f| row.value(f).filter(|v| !v.is_empty()))
        .unwrap_or(row.sys_id())
        .to_string()
}
