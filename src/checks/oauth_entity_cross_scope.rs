//! `oauth-entity-cross-scope`: can the app's scope read `oauth_entity`? Microsoft's first
//! troubleshooting item: the Installation Checklist's OAuth creation step fails with "Read operation
//! against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused due to the table's
//! cross-scope access policy" when the table's Application Access was changed from its defaults. Also
//! read: cross-scope privileges and restricted-caller-access records of the app's scope on the table.
//! Choice fields are decided by label as well as value (several stored codes are unconfirmed).

use super::findings::{Findings, shown};
use super::{Check, Code, Context, Found, Outcome};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::{Row, TableQuery};

/// See the module docs.
pub struct OauthEntityCrossScope;

const NO_TABLE: Code = Code::fail("no-table-definition");
const POLICY_REFUSES: Code = Code::fail("policy-refuses-reads");
const CALLER_RESTRICTED: Code = Code::warn("caller-restricted");
const PRIVILEGE_DENIED: Code = Code::fail("privilege-denied");
const PRIVILEGE_REQUESTED: Code = Code::warn("privilege-requested");
const CALLER_DENIED: Code = Code::fail("caller-access-denied");
const CALLER_REQUESTED: Code = Code::warn("caller-access-requested");

const TABLE: &str = "oauth_entity";

/// The `sys_db_object` record of `oauth_entity` (docs/reference/servicenow-platform.md §2.4).
pub fn table_query() -> TableQuery {
    TableQuery::new("sys_db_object").eq("name", TABLE).fields([
        "name",
        "label",
        "access",
        "read_access",
        "create_access",
        "update_access",
        "delete_access",
        "ws_access",
        "caller_access",
        "sys_scope",
    ])
}

/// Cross-scope privileges requested by the app's scope (docs/reference/servicenow-platform.md §3).
pub fn privileges_query(scope: &str) -> TableQuery {
    TableQuery::new("sys_scope_privilege")
        .eq("source_scope.scope", scope)
        .fields([
            "sys_id",
            "source_scope",
            "target_scope",
            "target_name",
            "target_type",
            "operation",
            "status",
        ])
}

/// Restricted-caller-access records of the app's scope (docs/reference/servicenow-platform.md §4).
pub fn rca_query(scope: &str) -> TableQuery {
    TableQuery::new("sys_restricted_caller_access")
        .eq("source_scope.scope", scope)
        .fields([
            "sys_id",
            "source_scope",
            "source",
            "target_scope",
            "target_table",
            "target",
            "target_type",
            "operation",
            "status",
        ])
}

impl Check for OauthEntityCrossScope {
    fn name(&self) -> &'static str {
        "oauth-entity-cross-scope"
    }

    fn codes(&self) -> &'static [Code] {
        &[
            NO_TABLE,
            POLICY_REFUSES,
            CALLER_RESTRICTED,
            PRIVILEGE_DENIED,
            PRIVILEGE_REQUESTED,
            CALLER_DENIED,
            CALLER_REQUESTED,
        ]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let scope = &ctx.settings.profile.app_scope;
        if scope.is_empty() {
            return Vec::new();
        }
        vec![
            FactKey::WhoAmI,
            FactKey::Table(table_query()),
            FactKey::Table(privileges_query(scope)),
            FactKey::Table(rca_query(scope)),
        ]
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let scope = ctx.settings.profile.app_scope.as_str();
        if scope.is_empty() {
            return Outcome::skipped(format!(
                "profile {:?} has no application scope, so no cross-scope access applies",
                ctx.settings.profile.name
            ));
        }
        let mut f = Findings::default();
        let rca: Option<Vec<&Row>> = f
            .rows(facts, &rca_query(scope))
            .map(|rows| rows.iter().filter(|r| targets_table(r)).collect());
        if let Some(rows) = f.rows(facts, &table_query()) {
            match rows.first() {
                Some(row) => judge_table(scope, row, rca.as_deref(), &mut f),
                None => f.fail(
                    NO_TABLE,
                    "the table definition of oauth_entity (Application Registries) is missing from sys_db_object",
                ),
            }
        }
        if let Some(rows) = f.rows(facts, &privileges_query(scope)) {
            judge_privileges(scope, rows, &mut f);
        }
        if let Some(rows) = &rca {
            judge_rca(scope, rows, &mut f);
        }
        f.outcome(format!(
            "oauth_entity is readable from scope {scope}: Accessible from = All application scopes, Can read on, no denied privilege or caller-access record"
        ))
    }
}

/// How a `caller_access` value reads (docs/reference/servicenow-platform.md §15.1): by label or by the assumed codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallerAccess {
    None,
    Tracking,
    Restriction,
    Unknown,
}

fn caller_access(row: &Row) -> CallerAccess {
    if row.is_one_of("caller_access", &["", "none"]) {
        CallerAccess::None
    } else if row.is_one_of("caller_access", &["1", "tracking", "Caller Tracking"]) {
        CallerAccess::Tracking
    } else if row.is_one_of("caller_access", &["2", "restricted", "Caller Restriction"]) {
        CallerAccess::Restriction
    } else {
        CallerAccess::Unknown
    }
}

fn judge_table(scope: &str, row: &Row, rca: Option<&[&Row]>, f: &mut Findings) {
    for field in [
        "access",
        "read_access",
        "create_access",
        "update_access",
        "delete_access",
        "ws_access",
        "caller_access",
    ] {
        f.note(
            format!("sys_db_object[oauth_entity].{field}"),
            shown(row, field),
        );
    }
    let public = row.is_one_of("access", &["public", "All application scopes"]);
    let readable = row.flag("read_access") == Some(true);
    if !public || !readable {
        let mut wrong = Vec::new();
        if !public {
            wrong.push(format!(
                "Accessible from = {}",
                row.display("access").unwrap_or("(empty)")
            ));
        }
        if !readable {
            wrong.push("Can read is off".to_string());
        }
        f.fail(
            POLICY_REFUSES
                .arg("scope", scope)
                .arg("currently", wrong.join(", ")),
            format!(
                "oauth_entity refuses reads from other scopes ({}): the app's OAuth creation step fails with the cross-scope access policy error",
                wrong.join(", ")
            ),
        );
    }
    // Microsoft's prescribed fix restores the platform defaults (All application scopes, Can read);
    // Can create off is one of those defaults, so it is a note, never a status.
    if row.flag("create_access") != Some(true) {
        f.note(
            "note",
            "Can create is off on oauth_entity (the platform default, which Microsoft's fix restores); only if the checklist's OAuth creation step still fails after Can read is set would Can create matter",
        );
    }
    match caller_access(row) {
        CallerAccess::None | CallerAccess::Tracking => {}
        CallerAccess::Restriction => {
            let allowed =
                rca.is_some_and(|rows| rows.iter().any(|r| r.is_one_of("status", &["Allowed"])));
            if !allowed && rca.is_some() {
                f.warn(
                    CALLER_RESTRICTED.arg("scope", scope),
                    format!("oauth_entity has Caller Access = Caller Restriction and no Allowed restricted-caller-access record for {scope}: the app's first read is refused until an admin allows it"),
                );
            }
        }
        CallerAccess::Unknown => f.note(
            "note",
            format!(
                "unrecognised Caller Access {:?} on oauth_entity (None is the default)",
                shown(row, "caller_access")
            ),
        ),
    }
}

fn targets_table(row: &Row) -> bool {
    ["target_table", "target", "target_name"]
        .iter()
        .any(|field| row.is_one_of(field, &[TABLE]))
}

/// `operation: status` of each record, for the evidence.
fn operations(rows: &[&Row]) -> String {
    rows.iter()
        .map(|r| format!("{}: {}", shown(r, "operation"), shown(r, "status")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn judge_privileges(scope: &str, rows: &[Row], f: &mut Findings) {
    let on_table: Vec<&Row> = rows.iter().filter(|r| targets_table(r)).collect();
    f.note(
        format!("sys_scope_privilege from {scope} on oauth_entity"),
        if on_table.is_empty() {
            "none".to_string()
        } else {
            operations(&on_table)
        },
    );
    judge_statuses(
        &on_table,
        f,
        |operation| {
            (
                format!(
                    "the cross-scope privilege {operation} on oauth_entity from {scope} is Denied"
                ),
                PRIVILEGE_DENIED
                    .arg("scope", scope)
                    .arg("operation", operation),
            )
        },
        |operation| {
            (
                format!(
                    "the cross-scope privilege {operation} on oauth_entity from {scope} is still Requested"
                ),
                PRIVILEGE_REQUESTED.arg("scope", scope),
            )
        },
    );
}

fn judge_rca(scope: &str, rows: &[&Row], f: &mut Findings) {
    if !rows.is_empty() {
        f.note(
            format!("sys_restricted_caller_access from {scope} on oauth_entity"),
            operations(rows),
        );
    }
    // Status codes are undocumented integers: decide by label only (docs/reference/servicenow-platform.md §15.2).
    judge_statuses(
        rows,
        f,
        |operation| {
            (
                format!(
                    "a restricted caller access record denies {scope} the {operation} operation on oauth_entity"
                ),
                CALLER_DENIED
                    .arg("scope", scope)
                    .arg("operation", operation),
            )
        },
        |operation| {
            (
                format!(
                    "a restricted caller access request of {scope} on oauth_entity ({operation}) awaits approval; the call is refused until then"
                ),
                CALLER_REQUESTED.arg("scope", scope),
            )
        },
    );
}

/// Fails each Denied record and warns on each Requested one; `denied` and `requested` give the
/// summary and code for an operation. Statuses are matched case-blind, so both the
/// sys_scope_privilege values (`denied`) and the caller-access labels (`Denied`) match.
fn judge_statuses(
    rows: &[&Row],
    f: &mut Findings,
    denied: impl Fn(&str) -> (String, Found),
    requested: impl Fn(&str) -> (String, Found),
) {
    for row in rows {
        let operation = row.display("operation").unwrap_or("?");
        if row.is_one_of("status", &["denied"]) {
            let (summary, code) = denied(operation);
            f.fail(code, summary);
        } else if row.is_one_of("status", &["requested"]) {
            let (summary, code) = requested(operation);
            f.warn(code, summary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::Status;
    use serde_json::{Value, json};

    const SCOPE: &str = "x_mioms_m365ticket";

    fn table_row(access: (&str, &str), read: &str, create: &str, caller: (&str, &str)) -> Value {
        json!({"name": "oauth_entity", "access": dv(access.0, access.1),
               "read_access": dv(read, read), "create_access": dv(create, create),
               "update_access": "false", "delete_access": "false", "ws_access": "true",
               "caller_access": dv(caller.0, caller.1)})
    }

    fn healthy_table() -> Value {
        table_row(
            ("public", "All application scopes"),
            "true",
            "true",
            ("", "None"),
        )
    }

    fn facts(table: Vec<Value>, privileges: Vec<Value>, rca: Vec<Value>) -> Facts {
        Facts::from_pairs([
            admin(),
            rows(FactKey::Table(table_query()), table),
            rows(FactKey::Table(privileges_query(SCOPE)), privileges),
            rows(FactKey::Table(rca_query(SCOPE)), rca),
        ])
    }

    fn eval(facts: &Facts) -> Outcome {
        OauthEntityCrossScope.evaluate(&context(), facts)
    }

    #[test]
    fn defaults_pass() {
        let privilege = json!({"target_name": "oauth_entity", "operation": dv("read", "Read"), "status": dv("allowed", "Allowed")});
        let outcome = eval(&facts(vec![healthy_table()], vec![privilege], vec![]));
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
    }

    #[test]
    fn private_table_fails_with_microsofts_remedy_and_the_error_text() {
        let row = table_row(
            ("package_private", "This application scope only"),
            "true",
            "true",
            ("", "None"),
        );
        let outcome = eval(&facts(vec![row], vec![], vec![]));
        assert_eq!(outcome.status, Status::Fail);
        let fix = outcome.rendered_fix("oauth-entity-cross-scope");
        assert!(
            fix.contains("*Accessible from* to *All application scopes*"),
            "{fix}"
        );
        assert!(fix.contains("select *Can read*"));
        assert!(fix.contains("Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused due to the table's cross-scope access policy"));
        assert!(fix.contains("currently: Accessible from = This application scope only"));
    }

    #[test]
    fn can_read_off_fails_and_label_alone_is_enough() {
        // A label without the assumed stored code still counts.
        let row = table_row(
            ("whatever", "All application scopes"),
            "false",
            "true",
            ("", "None"),
        );
        let outcome = eval(&facts(vec![row], vec![], vec![]));
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("Can read is off"));
    }

    #[test]
    fn create_off_is_the_platform_default_and_passes() {
        let row = table_row(
            ("public", "All application scopes"),
            "true",
            "false",
            ("", "None"),
        );
        let outcome = eval(&facts(vec![row], vec![], vec![]));
        assert_eq!(outcome.status, Status::Pass);
        assert!(outcome.codes.is_empty());
        assert!(
            outcome
                .evidence
                .iter()
                .any(|e| e.label == "note" && e.value.contains("Can create"))
        );
    }

    #[test]
    fn denied_privilege_fails() {
        let denied = json!({"target_name": dv("oauth_entity", "oauth_entity"), "operation": dv("read", "Read"), "status": dv("denied", "Denied")});
        let other = json!({"target_name": "incident", "operation": dv("read", "Read"), "status": dv("denied", "Denied")});
        let outcome = eval(&facts(vec![healthy_table()], vec![denied, other], vec![]));
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("Read on oauth_entity"),
            "{}",
            outcome.summary
        );
        assert!(
            outcome
                .rendered_fix("oauth-entity-cross-scope")
                .contains("set its Status to Allowed")
        );
    }

    #[test]
    fn denied_caller_access_fails_by_label_only() {
        let denied = json!({"target_table": "oauth_entity", "operation": dv("read", "Read"), "status": dv("3", "Denied")});
        let outcome = eval(&facts(vec![healthy_table()], vec![], vec![denied]));
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome
                .rendered_fix("oauth-entity-cross-scope")
                .contains("Restricted Caller Access")
        );
    }

    #[test]
    fn caller_restriction_without_allowed_record_warns() {
        let row = table_row(
            ("public", "All application scopes"),
            "true",
            "true",
            ("2", "Caller Restriction"),
        );
        assert_eq!(
            eval(&facts(vec![row.clone()], vec![], vec![])).status,
            Status::Warn
        );
        let allowed = json!({"target_table": "oauth_entity", "operation": dv("read", "Read"), "status": dv("2", "Allowed")});
        assert_eq!(
            eval(&facts(vec![row], vec![], vec![allowed])).status,
            Status::Pass
        );
    }

    #[test]
    fn unreadable_tables_are_inconclusive_never_pass() {
        let hidden = Facts::from_pairs([
            non_admin(),
            rows(FactKey::Table(table_query()), vec![]),
            rows(FactKey::Table(privileges_query(SCOPE)), vec![]),
            forbidden(FactKey::Table(rca_query(SCOPE))),
        ]);
        let outcome = eval(&hidden);
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.summary.contains("run with an admin account"));
        let partly = Facts::from_pairs([
            admin(),
            rows(FactKey::Table(table_query()), vec![healthy_table()]),
            rows(FactKey::Table(privileges_query(SCOPE)), vec![]),
            forbidden(FactKey::Table(rca_query(SCOPE))),
        ]);
        assert_eq!(eval(&partly).status, Status::Inconclusive);
    }
}
