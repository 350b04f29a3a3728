//! `connector-app`: the profile's application (`x_mioms_m365ticket` for the Microsoft 365 connector) is
//! installed and active. Store apps live in `sys_store_app`; apps built or imported on the instance in
//! `sys_app`; every scope also has a `sys_scope` row — so the three are read, in that order of trust.

use super::findings::{Findings, may_lack_admin, shown};
use super::{Check, Code, Context, Outcome};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::{Row, TableQuery};

/// See the module docs.
pub struct ConnectorApp;

const NOT_INSTALLED: Code = Code::fail("not-installed");
const INACTIVE: Code = Code::fail("inactive");
const ACTIVE_UNKNOWN: Code = Code::warn("active-unknown");

/// The app's rows, in the order they are trusted.
pub fn queries(scope: &str) -> [TableQuery; 3] {
    [
        TableQuery::new("sys_store_app").eq("scope", scope).fields([
            "sys_id",
            "name",
            "scope",
            "version",
            "latest_version",
            "active",
            "update_available",
            "install_date",
        ]),
        TableQuery::new("sys_scope")
            .eq("scope", scope)
            .fields(["sys_id", "name", "scope", "version", "active"]),
        TableQuery::new("sys_app")
            .eq("scope", scope)
            .fields(["sys_id", "name", "scope", "version", "active"]),
    ]
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
        let mut keys = vec![FactKey::WhoAmI];
        keys.extend(queries(scope).into_iter().map(FactKey::Table));
        keys
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
        let mut findings = Findings::default();
        for query in queries(scope) {
            match facts.rows(&query) {
                Ok(rows) => match rows.first() {
                    Some(row) => return judge(&app, &query.table, row),
                    None => findings.note(query.describe(), "0 rows"),
                },
                Err(error) => findings.cannot_read(&query.table, &error),
            }
        }
        if !findings.has_unreadable() && may_lack_admin(facts) {
            findings.hidden(format!(
                "{app} was found in none of sys_store_app, sys_scope, sys_app, which hide rows from an account without admin"
            ));
        }
        if !findings.has_unreadable() {
            findings.fail(
                NOT_INSTALLED.arg("app", &*app),
                format!("{app} is not installed (scope {scope} is in none of sys_store_app, sys_scope, sys_app)"),
            );
        }
        findings.outcome("")
    }
}

fn app_label(name: &str, scope: &str) -> String {
    if name.is_empty() {
        format!("the application {scope}")
    } else {
        format!("{name} ({scope})")
    }
}

fn judge(app: &str, table: &str, row: &Row) -> Outcome {
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
    for field in ["latest_version", "update_available", "install_date"] {
        if row.value(field).is_some_and(|v| !v.is_empty()) {
            findings.note(field, shown(row, field));
        }
    }
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

    fn facts(store: Vec<serde_json::Value>, scope_rows: Vec<serde_json::Value>) -> Facts {
        let [store_q, scope_q, app_q] = queries(SCOPE);
        Facts::from_pairs([
            admin(),
            rows(FactKey::Table(store_q), store),
            rows(FactKey::Table(scope_q), scope_rows),
            rows(FactKey::Table(app_q), vec![]),
        ])
    }

    fn app(active: &str) -> serde_json::Value {
        json!({"sys_id": "a", "name": "Microsoft 365 Ticketing Connector App", "scope": SCOPE,
               "version": "1.2.0", "active": dv(active, active)})
    }

    #[test]
    fn installed_active_store_app_passes_with_version() {
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![app("true")], vec![]));
        assert_eq!(outcome.status, Status::Pass);
        assert!(
            outcome.summary.contains("version 1.2.0"),
            "{}",
            outcome.summary
        );
        assert!(outcome.summary.contains("sys_store_app"));
    }

    #[test]
    fn falls_back_to_sys_scope() {
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![], vec![app("true")]));
        assert_eq!(outcome.status, Status::Pass);
        assert!(outcome.summary.contains("sys_scope"));
    }

    #[test]
    fn inactive_app_fails() {
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![app("false")], vec![]));
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.rendered_fix("connector-app").contains("Activate"));
    }

    #[test]
    fn missing_app_fails_for_an_admin() {
        let outcome = ConnectorApp.evaluate(&context(), &facts(vec![], vec![]));
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
        let [store_q, scope_q, app_q] = queries(SCOPE);
        let hidden = Facts::from_pairs([
            non_admin(),
            rows(FactKey::Table(store_q.clone()), vec![]),
            rows(FactKey::Table(scope_q.clone()), vec![]),
            rows(FactKey::Table(app_q.clone()), vec![]),
        ]);
        let outcome = ConnectorApp.evaluate(&context(), &hidden);
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("run with an admin account"));
        let denied = Facts::from_pairs([
            admin(),
            forbidden(FactKey::Table(store_q)),
            rows(FactKey::Table(scope_q), vec![]),
            rows(FactKey::Table(app_q), vec![]),
        ]);
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
