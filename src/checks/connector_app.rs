//! `connector-app`: the profile's application (`x_mioms_m365ticket` for the Microsoft 365 connector) is
//! installed and active. Every application scope is a `sys_scope` record; Store apps extend it in
//! `sys_store_app` and apps built or imported on the instance in `sys_app`. Reading the parent table
//! returns the records of both children, and `sys_class_name` says which table a record lives in, so
//! one query finds the app wherever it is installed (docs/reference/servicenow-platform.md §11).

use super::findings::{Findings, may_lack_admin, shown};
use super::{Check, Code, Context, Outcome};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::{Row, TableQuery};

/// See the module docs.
pub struct ConnectorApp;

const NOT_INSTALLED: Code = Code::fail("not-installed");
const INACTIVE: Code = Code::fail("inactive");
const ACTIVE_UNKNOWN: Code = Code::warn("active-unknown");

/// The order in which rows of the same scope are trusted, should an instance hold more than one.
const TRUST: [&str; 3] = ["sys_store_app", "sys_app", "sys_scope"];

/// The app's scope records, from every table of the `sys_scope` hierarchy.
pub fn query(scope: &str) -> TableQuery {
    TableQuery::new("sys_scope").eq("scope", scope).fields([
        "sys_id",
        "name",
        "scope",
        "version",
        "active",
        "sys_class_name",
    ])
}

impl Check for ConnectorApp {
    fn name(&self) -> &'static str {
        "connector-app"
    }

    fn codes(&self) -> &'static [Code] {
        &[NOT_INSTALLED, INACTIVE, ACTIVE_UNKNOWN]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let scope = &ctx.settings.profile.app_scope;
        if scope.is_empty() {
            return Vec::new();
        }
        vec![FactKey::WhoAmI, FactKey::Table(query(scope))]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        let scope = profile.app_scope.as_str();
        if scope.is_empty() {
            return Outcome::skipped(format!(
                "profile {:?} requires no application: not applicable",
                profile.name
            ));
        }
        let app = app_label(&profile.app_name, scope);
        let query = query(scope);
        let mut findings = Findings::default();
        match facts.rows(&query) {
            Ok(rows) => {
                if let Some(row) = rows.iter().min_by_key(|row| trust_rank(row)) {
                    return judge(&app, row);
                }
                findings.note(query.describe(), "0 rows");
            }
            Err(error) => findings.cannot_read(&query.table, &error),
        }
        if !findings.has_unreadable() && may_lack_admin(facts) {
            findings.hidden(format!(
                "{app} was not found in sys_scope (nor the sys_store_app and sys_app tables extending it), which hides rows from an account without admin"
            ));
        }
        if !findings.has_unreadable() {
            findings.fail(
                NOT_INSTALLED.arg("app", &*app),
                format!("{app} is not installed (no sys_scope record has scope {scope})"),
            );
        }
        findings.outcome("")
    }
}

/// The table a scope record lives in (`sys_scope` when the instance leaves the class out).
fn class_of(row: &Row) -> &str {
    match row.text("sys_class_name") {
        "" => "sys_scope",
        class => class,
    }
}

fn trust_rank(row: &Row) -> usize {
    let class = class_of(row);
    TRUST
        .iter()
        .position(|t| *t == class)
        .unwrap_or(TRUST.len())
}

fn app_label(name: &str, scope: &str) -> String {
    if name.is_empty() {
        format!("the application {scope}")
    } else {
        format!("{name} ({scope})")
    }
}

fn judge(app: &str, row: &Row) -> Outcome {
    let table = class_of(row);
    let version = row.text("version");
    let version_text = if version.is_empty() {
        "version unknown".to_string()
    } else {
        format!("version {version}")
    };
    let mut findings = Findings::default();
    findings.note("found in", table);
    findings.note("name", row.text("name"));
    findings.note("version", shown(row, "version"));
    findings.note("active", shown(row, "active"));
    match row.flag("active") {
        Some(true) => {}
        Some(false) => findings.fail(
            INACTIVE.arg("app", app),
            format!("{app} is installed ({version_text}, {table}) but inactive"),
        ),
        None => findings.warn(
            ACTIVE_UNKNOWN.arg("app", app),
            format!(
                "{app} is installed ({version_text}) but its active flag reads {:?}",
                row.text("active")
            ),
        ),
    }
    findings.outcome(format!(
        "{app} is installed and active, {version_text} ({table})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::Status;
    use serde_json::json;

    const SCOPE: &str = "x_mioms_m365ticket";

    fn facts(scope_rows: Vec<serde_json::Value>) -> Facts {
        Facts::from_pairs([admin(), rows(FactKey::Table(query(SCOPE)), scope_rows)])
    }

    fn app(active: &str, class: &str) -> serde_json::Value {
        json!({"sys_id": "a", "name": "Microsoft 365 Ticketing Connector App", "scope": SCOPE,
               "version": "1.2.0", "active": dv(active, active), "sys_class_name": dv(class, class)})
    }

    #[test]
    fn one_query_over_the_scope_hierarchy() {
        let needs = ConnectorApp.needs(&context());
        let tables: Vec<&FactKey> = needs
            .iter()
            .filter(|k| matches!(k, FactKey::Table(_)))
            .collect();
        assert_eq!(tables, [&FactKey::Table(query(SCOPE))]);
        assert!(query(SCOPE).describe().contains("sys_scope"));
    }

    #[test]
    fn installed_active_store_app_passes_with_version_and_table() {
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![app("true", "sys_store_app")]));
        assert_eq!(outcome.status, Status::Pass);
        assert!(
            outcome.summary.contains("version 1.2.0"),
            "{}",
            outcome.summary
        );
        assert!(outcome.summary.contains("sys_store_app"));
    }

    #[test]
    fn a_record_without_a_class_is_a_plain_scope() {
        let row = json!({"sys_id": "a", "name": "App", "scope": SCOPE, "version": "1.2.0",
                         "active": dv("true", "true")});
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![row]));
        assert_eq!(outcome.status, Status::Pass);
        assert!(
            outcome.summary.contains("(sys_scope)"),
            "{}",
            outcome.summary
        );
    }

    #[test]
    fn the_store_record_is_trusted_before_a_plain_scope() {
        let outcome = ConnectorApp.evaluate(
            &context(),
            &facts(vec![
                app("false", "sys_scope"),
                app("true", "sys_store_app"),
            ]),
        );
        assert_eq!(outcome.status, Status::Pass, "{}", outcome.summary);
    }

    #[test]
    fn inactive_app_fails() {
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![app("false", "sys_app")]));
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("sys_app"));
        assert!(outcome.rendered_fix("connector-app").contains("Activate"));
    }

    #[test]
    fn missing_app_fails_for_an_admin() {
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![]));
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("not installed"));
        assert!(
            outcome
                .rendered_fix("connector-app")
                .contains("Installation Checklist")
        );
    }

    #[test]
    fn no_rows_to_a_non_admin_or_403_is_inconclusive() {
        let hidden = Facts::from_pairs([non_admin(), rows(FactKey::Table(query(SCOPE)), vec![])]);
        let outcome = ConnectorApp.evaluate(&context(), &hidden);
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("run with an admin account"));
        let denied = Facts::from_pairs([admin(), forbidden(FactKey::Table(query(SCOPE)))]);
        assert_eq!(
            ConnectorApp.evaluate(&context(), &denied).status,
            Status::Inconclusive
        );
    }

    #[test]
    fn profile_without_app_is_skipped() {
        let ctx = context_with(|s| s.profile.app_scope.clear());
        assert!(ConnectorApp.needs(&ctx).is_empty());
        let outcome = ConnectorApp.evaluate(&ctx, &Facts::default());
        assert_eq!(outcome.status, Status::Skipped);
    }
}
