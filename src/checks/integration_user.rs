//! `integration-user`: the account the connector acts as (`--integration-user`, or found through the
//! roles of the app's scope). It must exist, be active, not locked out, not "web service access only"
//! (it signs in interactively once to select Allow on the authorization page), not awaiting a password
//! reset, and hold the expected roles. No email or many failed logins warn. `internal_integration_user`
//! is not a login blocker and never fails the check (docs/reference/servicenow-platform.md §7.2).

use super::findings::{Findings, may_lack_admin, shown};
use super::{Check, Code, Context, Outcome};
use crate::config::Profile;
use crate::connector::user::{
    USER_FIELDS, discovery_query, holders, named, role_names, roles_query, user_query,
};
use crate::runner::facts::{FactKey, Facts};
use crate::servicenow::Row;

/// See the module docs.
pub struct IntegrationUser;

const NOT_FOUND: Code = Code::fail("not-found");
const NO_USER: Code = Code::inconclusive("no-user");
const NO_HOLDER: Code = Code::fail("no-role-holder");
const INACTIVE: Code = Code::fail("inactive");
const LOCKED_OUT: Code = Code::fail("locked-out");
const WEB_SERVICE_ONLY: Code = Code::fail("web-service-only");
const PASSWORD_RESET: Code = Code::fail("password-needs-reset");
const NO_EMAIL: Code = Code::warn("no-email");
const FAILED_LOGINS: Code = Code::warn("failed-logins");
const MISSING_ROLES: Code = Code::fail("missing-roles");
const NO_APP_ROLE: Code = Code::warn("no-app-role");
const ROLES_UNKNOWN: Code = Code::inconclusive("roles-unknown");

/// Failed logins from which the account is close to a lockout.
pub const MANY_FAILED_ATTEMPTS: i64 = 5;

/// Fields that decide whether the user can sign in; admins only may read most of them.
const LOGIN_FIELDS: [&str; 4] = [
    "active",
    "locked_out",
    "password_needs_reset",
    "web_service_access_only",
];

impl Check for IntegrationUser {
    fn name(&self) -> &'static str {
        "integration-user"
    }

    fn codes(&self) -> &'static [Code] {
        &[
            NOT_FOUND,
            NO_USER,
            NO_HOLDER,
            INACTIVE,
            LOCKED_OUT,
            WEB_SERVICE_ONLY,
            PASSWORD_RESET,
            NO_EMAIL,
            FAILED_LOGINS,
            MISSING_ROLES,
            NO_APP_ROLE,
            ROLES_UNKNOWN,
        ]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let profile = &ctx.settings.profile;
        match (named(profile), profile.app_scope.as_str()) {
            (Some(name), _) => vec![
                FactKey::WhoAmI,
                FactKey::Table(user_query(name)),
                FactKey::Table(roles_query(name)),
            ],
            (None, "") => Vec::new(),
            (None, scope) => vec![FactKey::WhoAmI, FactKey::Table(discovery_query(scope))],
        }
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        let mut f = Findings::default();
        match (named(profile), profile.app_scope.as_str()) {
            (Some(name), _) => {
                let Some(users) = f.rows(facts, &user_query(name)) else {
                    return f.outcome("");
                };
                let Some(user) = users.first() else {
                    f.fail(
                        NOT_FOUND.arg("user", name),
                        format!("the integration user {name:?} does not exist"),
                    );
                    return f.outcome("");
                };
                let roles = f.rows(facts, &roles_query(name)).map(role_names);
                judge(profile, user, roles, true, facts, &mut f);
                f.outcome(pass_summary(user))
            }
            (None, "") => Outcome::inconclusive(
                "no integration user was named and the profile has no application whose roles would find it",
            )
            .code(NO_USER),
            (None, scope) => {
                let Some(rows) = f.rows(facts, &discovery_query(scope)) else {
                    return f.outcome("");
                };
                let holders = holders(rows);
                let Some((name, (user, roles))) = holders.iter().next() else {
                    f.fail(
                        NO_HOLDER.arg("scope", scope),
                        format!("no integration user was named and no user holds a role of {scope}"),
                    );
                    return f.outcome("");
                };
                let others: Vec<&String> = holders.keys().skip(1).collect();
                f.note(
                    "found through the app",
                    format!("{name} holds a role of {scope} (no --integration-user given)"),
                );
                if !others.is_empty() {
                    f.note(
                        "other users with roles of the app",
                        others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                    );
                }
                judge(profile, user, Some(roles.clone()), false, facts, &mut f);
                f.outcome(format!(
                    "{} (found through its {scope} role)",
                    pass_summary(user)
                ))
            }
        }
    }
}

fn pass_summary(user: &Row) -> String {
    format!(
        "{} can sign in: active, not locked out, interactive, no pending password reset, has an email and the expected roles",
        user.text("user_name")
    )
}

/// Judges one user; `roles` is `None` when unreadable, `complete` false when only the app's roles are known.
fn judge(
    profile: &Profile,
    user: &Row,
    roles: Option<Vec<String>>,
    complete: bool,
    facts: &Facts,
    f: &mut Findings,
) {
    let name = user.text("user_name").to_string();
    for field in USER_FIELDS.iter().skip(2) {
        if user.value(field).is_some() {
            f.note(format!("sys_user[{name}].{field}"), shown(user, field));
        }
    }
    let hidden: Vec<&str> = LOGIN_FIELDS
        .iter()
        .copied()
        .filter(|field| user.value(field).is_none())
        .collect();
    if !hidden.is_empty() {
        if may_lack_admin(facts) {
            f.hidden(format!(
                "sys_user fields {} of {name} are hidden from an account without admin",
                hidden.join(", ")
            ));
        } else {
            f.note("fields absent on this release", hidden.join(", "));
        }
    }
    let on = |field: &str| user.flag(field) == Some(true);
    if user.value("active").is_some() && user.flag("active") != Some(true) {
        f.fail(INACTIVE.arg("user", &*name), format!("{name} is inactive"));
    }
    if on("locked_out") {
        f.fail(
            LOCKED_OUT.arg("user", &*name),
            format!("{name} is locked out"),
        );
    }
    if on("web_service_access_only") {
        f.fail(
            WEB_SERVICE_ONLY.arg("user", &*name),
            format!("{name} is Web service access only, so it cannot sign in interactively to select Allow on the authorization page"),
        );
    }
    if on("password_needs_reset") {
        f.fail(
            PASSWORD_RESET.arg("user", &*name),
            format!("{name} must reset its password before it can sign in"),
        );
    }
    if user.text("email").trim().is_empty() && user.value("email").is_some() {
        f.warn(
            NO_EMAIL.arg("user", &*name),
            format!("{name} has no email: Microsoft's SSO workaround (an Azure AD user with the same name and email) needs one"),
        );
    }
    let failed = user
        .text("failed_attempts")
        .trim()
        .parse::<i64>()
        .unwrap_or(0);
    if failed >= MANY_FAILED_ATTEMPTS && !on("locked_out") {
        f.warn(
            FAILED_LOGINS.arg("user", &*name),
            format!("{name} has {failed} failed login attempts and may soon be locked out"),
        );
    }
    if on("internal_integration_user") {
        f.note(
            "internal integration user",
            "true: marks a service account for ServiceNow-internal integrations; it does not prevent an interactive sign-in",
        );
    }
    if let Some(roles) = roles {
        judge_roles(profile, &name, &roles, complete, f);
    }
}

fn judge_roles(profile: &Profile, name: &str, roles: &[String], complete: bool, f: &mut Findings) {
    f.note(
        format!("roles of {name}"),
        if roles.is_empty() {
            "none".to_string()
        } else {
            roles.join(", ")
        },
    );
    let scope = profile.app_scope.as_str();
    if !profile.expected_roles.is_empty() {
        let missing: Vec<&String> = profile
            .expected_roles
            .iter()
            .filter(|r| !roles.contains(r))
            .collect();
        if missing.is_empty() {
            return;
        }
        let missing = missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if complete {
            f.fail(
                MISSING_ROLES.arg("missing", &*missing).arg("user", name),
                format!("{name} lacks the expected role(s) {missing}"),
            );
        } else {
            f.undecided(
                ROLES_UNKNOWN.arg("user", name),
                format!(
                    "only the {scope} roles of {name} are known, not whether it holds {missing}: pass --integration-user {name} to check all its roles"
                ),
            );
        }
    } else if !scope.is_empty() && !roles.iter().any(|r| r.starts_with(&format!("{scope}."))) {
        // The app's role names are unpublished (docs/reference/servicenow-platform.md §15.13): a missing app role warns.
        f.warn(
            NO_APP_ROLE.arg("user", name).arg("scope", scope),
            format!("{name} holds no role of the application scope {scope}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::*;
    use crate::model::Status;
    use serde_json::{Value, json};

    const USER: &str = "m365.integration";
    const SCOPE: &str = "x_mioms_m365ticket";

    fn user(edit: impl FnOnce(&mut Value)) -> Value {
        let mut u = json!({"sys_id": "u1", "user_name": USER, "name": "M365 Integration",
            "email": "m365.integration@example.com", "active": "true", "locked_out": "false",
            "failed_attempts": "0", "password_needs_reset": "false",
            "web_service_access_only": "false", "internal_integration_user": "false",
            "identity_type": dv("human", "Human")});
        edit(&mut u);
        u
    }

    fn role(name: &str) -> Value {
        json!({"role": dv("r", name), "role.name": name, "state": "active"})
    }

    fn eval_with(ctx: &Context, users: Vec<Value>, roles: Vec<Value>) -> Outcome {
        let facts = Facts::from_pairs([
            admin(),
            rows(FactKey::Table(user_query(USER)), users),
            rows(FactKey::Table(roles_query(USER)), roles),
        ]);
        IntegrationUser.evaluate(ctx, &facts)
    }

    fn eval(users: Vec<Value>) -> Outcome {
        let ctx = context_with(|s| s.profile.integration_user = Some(USER.into()));
        eval_with(
            &ctx,
            users,
            vec![role("x_mioms_m365ticket.user"), role("itil")],
        )
    }

    #[test]
    fn healthy_user_passes() {
        let outcome = eval(vec![user(|_| {})]);
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
    }

    #[test]
    fn internal_integration_user_does_not_fail() {
        let outcome = eval(vec![user(|u| {
            u["internal_integration_user"] = json!("true")
        })]);
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
        assert!(
            outcome
                .evidence
                .iter()
                .any(|e| e.label == "internal integration user")
        );
    }

    #[test]
    fn each_login_blocker_fails_with_microsofts_remedy_and_the_field() {
        let cases = [
            ("active", "false", "select Active"),
            ("locked_out", "true", "clear Locked out"),
            (
                "web_service_access_only",
                "true",
                "clear *Web service access only*",
            ),
            (
                "password_needs_reset",
                "true",
                "Clear *Password needs reset*",
            ),
        ];
        for (field, value, fix) in cases {
            let outcome = eval(vec![user(|u| u[field] = json!(value))]);
            assert_eq!(outcome.status, Status::Fail, "{field}");
            let remediation = outcome.rendered_fix("integration-user");
            assert!(remediation.contains(fix), "{field}: {remediation}");
        }
    }

    #[test]
    fn missing_user_fails() {
        let outcome = eval(vec![]);
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("does not exist"));
    }

    #[test]
    fn no_email_and_many_failed_logins_warn() {
        let outcome = eval(vec![user(|u| u["email"] = json!(""))]);
        assert_eq!(outcome.status, Status::Warn);
        assert!(outcome.summary.contains("no email"));
        let outcome = eval(vec![user(|u| u["failed_attempts"] = json!("7"))]);
        assert_eq!(outcome.status, Status::Warn);
        assert!(outcome.summary.contains("7 failed login attempts"));
    }

    #[test]
    fn roles_default_to_an_app_role_and_expected_roles_are_enforced() {
        let ctx = context_with(|s| s.profile.integration_user = Some(USER.into()));
        let outcome = eval_with(&ctx, vec![user(|_| {})], vec![role("itil")]);
        assert_eq!(outcome.status, Status::Warn);
        assert!(outcome.summary.contains("no role of the application scope"));
        let ctx = context_with(|s| {
            s.profile.integration_user = Some(USER.into());
            s.profile.expected_roles = vec!["itil".into(), "x_mioms_m365ticket.admin".into()];
        });
        let outcome = eval_with(&ctx, vec![user(|_| {})], vec![role("itil")]);
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.summary.contains("x_mioms_m365ticket.admin"));
    }

    #[test]
    fn hidden_fields_for_a_non_admin_are_inconclusive() {
        let ctx = context_with(|s| s.profile.integration_user = Some(USER.into()));
        let visible = json!({"sys_id": "u1", "user_name": USER, "name": "M365", "email": "a@b", "active": "true"});
        let facts = Facts::from_pairs([
            non_admin(),
            rows(FactKey::Table(user_query(USER)), vec![visible]),
            rows(FactKey::Table(roles_query(USER)), vec![]),
        ]);
        let outcome = IntegrationUser.evaluate(&ctx, &facts);
        assert_eq!(outcome.status, Status::Inconclusive, "{outcome:?}");
        assert!(outcome.summary.contains("run with an admin account"));
    }

    #[test]
    fn user_found_through_the_app_roles() {
        let ctx = context();
        let mut row = json!({"role": dv("r", "x_mioms_m365ticket.user"), "role.name": "x_mioms_m365ticket.user"});
        for (k, v) in user(|_| {}).as_object().cloned().unwrap_or_default() {
            row[format!("user.{k}")] = v;
        }
        let facts = Facts::from_pairs([
            admin(),
            rows(FactKey::Table(discovery_query(SCOPE)), vec![row]),
        ]);
        let outcome = IntegrationUser.evaluate(&ctx, &facts);
        assert_eq!(outcome.status, Status::Pass, "{outcome:?}");
        assert!(
            outcome
                .summary
                .contains("found through its x_mioms_m365ticket role")
        );
        let none = Facts::from_pairs([
            admin(),
            rows(FactKey::Table(discovery_query(SCOPE)), vec![]),
        ]);
        assert_eq!(IntegrationUser.evaluate(&ctx, &none).status, Status::Fail);
    }
}
