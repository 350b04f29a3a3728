//! Configuration checks through the real binary against the embedded emulator: each fails on its own
//! scenario with its remediation, passes on the healthy instance, and is inconclusive (never failed)
//! when the diagnosing account lacks admin.

use serde_json::Value;

use crate::support::{self, EmulatorRun, Finished, Report, snowdoctor};

/// Every check this module covers.
const CONFIG_CHECKS: [&str; 8] = [
    "diagnosing-privileges",
    "connector-app",
    "oauth-entity-cross-scope",
    "oauth-entity",
    "oauth-platform",
    "oauth-grant",
    "integration-user",
    "sso-interference",
];

/// A finished demo run, for fluent assertions: `demo("x").check("id").status("fail")`.
struct Run {
    scenario: String,
    finished: Finished,
    report: Report,
}

fn demo(scenario: &str) -> Run {
    demo_with(scenario, &[])
}

fn demo_with(scenario: &str, args: &[&str]) -> Run {
    let finished = support::demo(scenario, args);
    let report = finished.report();
    Run {
        scenario: scenario.to_string(),
        finished,
        report,
    }
}

impl Run {
    fn check(&self, id: &str) -> CheckView<'_> {
        CheckView {
            run: self,
            id: id.to_string(),
            value: self.report.check(id),
        }
    }

    fn exit_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.finished.code, code,
            "{}: exit code; stderr {}",
            self.scenario, self.finished.stderr
        );
        self
    }

    fn root_causes(&self) -> Vec<String> {
        self.report.root_causes()
    }

    fn checks(&self) -> Vec<&Value> {
        self.report.0["checks"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }
}

/// One check of a run.
struct CheckView<'r> {
    run: &'r Run,
    id: String,
    value: &'r Value,
}

impl CheckView<'_> {
    fn text(&self, field: &str) -> &str {
        self.value[field].as_str().unwrap_or("")
    }

    fn context(&self) -> String {
        format!(
            "{} / {}: status {:?}, summary {:?}, remediation {:?}, evidence {}",
            self.run.scenario,
            self.id,
            self.text("status"),
            self.text("summary"),
            self.text("remediation"),
            self.value["evidence"]
        )
    }

    fn status(self, expected: &str) -> Self {
        assert_eq!(self.text("status"), expected, "{}", self.context());
        self
    }

    fn summary_contains(self, needle: &str) -> Self {
        assert!(
            self.text("summary").contains(needle),
            "{needle:?} not in summary: {}",
            self.context()
        );
        self
    }

    fn remediation_contains(self, needle: &str) -> Self {
        assert!(
            self.text("remediation").contains(needle),
            "{needle:?} not in remediation: {}",
            self.context()
        );
        self
    }

    /// The check's first finding code (the one its fix opens with).
    fn code(self, expected: &str) -> Self {
        assert_eq!(
            self.value["codes"][0].as_str(),
            Some(expected),
            "code: {}",
            self.context()
        );
        self
    }

    fn remediation_starts_with(self, prefix: &str) -> Self {
        assert!(
            self.text("remediation").starts_with(prefix),
            "remediation does not start with {prefix:?}: {}",
            self.context()
        );
        self
    }

    fn blocked_by(self, prerequisite: &str) -> Self {
        let blockers = self.value["blocked_by"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            self.text("status") == "blocked" && blockers.iter().any(|b| b == prerequisite),
            "expected blocked by {prerequisite}: {} (blocked_by {blockers:?})",
            self.context()
        );
        self
    }

    fn root_cause(self, expected: bool) -> Self {
        assert_eq!(self.value["root_cause"], expected, "{}", self.context());
        self
    }
}

/// Microsoft's item-1 error message, as the cross-scope remediation quotes it.
const CROSS_SCOPE_ERROR: &str = "Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused due to the table's cross-scope access policy";
/// Microsoft's item-2 remedy.
const ENTITY_REMEDY: &str = "No usable OAuth entity was found for the connector. In ServiceNow open System OAuth > Application Registry";
/// Microsoft's item-4 remedy.

#[test]
fn healthy_instance_passes_every_configuration_check() {
    let run = demo("healthy");
    run.exit_code(0);
    for id in CONFIG_CHECKS {
        run.check(id).status("pass");
    }
    run.check("connector-app").summary_contains("version 1.2.0");
    run.check("sso-interference")
        .summary_contains("local sign-in");
    // The flag that looks alarming is not a blocker.
    demo("user-internal-integration")
        .check("integration-user")
        .status("pass");
}

#[test]
fn connector_app_missing_or_inactive_fails_and_blocks_nothing() {
    let missing = demo("app-missing");
    missing
        .check("connector-app")
        .status("fail")
        .root_cause(true)
        .summary_contains("is not installed")
        .remediation_contains("Install the Microsoft 365 Ticketing Connector App")
        .remediation_contains("Installation Checklist");
    // The cross-scope policy is readable without the app (the scope comes from the profile).
    missing.check("oauth-entity-cross-scope").status("pass");
    assert_eq!(missing.root_causes(), ["connector-app"]);
    // Checks that can still answer are not blocked.
    missing.check("oauth-entity").status("pass");
    missing.check("integration-user").status("pass");
    demo("app-inactive")
        .check("connector-app")
        .status("fail")
        .summary_contains("inactive")
        .remediation_contains("Activate Microsoft 365 Ticketing Connector App");
}

#[test]
fn cross_scope_policy_failures_name_the_fields_and_quote_the_error() {
    demo("cross-scope-off")
        .check("oauth-entity-cross-scope")
        .status("fail")
        .summary_contains("Accessible from = This application scope only")
        .remediation_contains("set *Accessible from* to *All application scopes* (access = public)")
        .remediation_contains("select *Can read* (read_access = true)")
        .remediation_contains(CROSS_SCOPE_ERROR)
        .remediation_contains(
            "rerun the connector's Installation Checklist from the OAuth creation step",
        );
    demo("cross-scope-no-read")
        .check("oauth-entity-cross-scope")
        .status("fail")
        .summary_contains("Can read is off")
        .remediation_contains("currently: Can read is off")
        .remediation_contains(CROSS_SCOPE_ERROR);
    demo("scope-privilege-denied")
        .check("oauth-entity-cross-scope")
        .status("fail")
        .summary_contains("privilege Read on oauth_entity from x_mioms_m365ticket is Denied")
        .remediation_contains("Application Cross-Scope Access")
        .remediation_contains("set its Status to Allowed");
    demo("caller-restricted")
        .check("oauth-entity-cross-scope")
        .status("fail")
        .summary_contains("restricted caller access record denies x_mioms_m365ticket")
        .remediation_contains("Application Restricted Caller Access Privileges");
}

#[test]
fn oauth_entity_failures_carry_microsofts_remedy() {
    demo("entity-missing")
        .check("oauth-entity")
        .status("fail")
        .summary_contains("no OAuth entity is named")
        .remediation_starts_with(ENTITY_REMEDY);
    demo("entity-inactive")
        .check("oauth-entity")
        .status("fail")
        .summary_contains("is inactive")
        .remediation_contains("select Active");
    // The entity exists: the fix is for an inactive entity, not "no usable entity was found".
    let inactive = demo("entity-inactive");
    let entity = inactive.check("oauth-entity");
    let fix = entity.text("remediation");
    assert!(!fix.contains("No usable OAuth entity"), "{fix}");
    // The proof ran anyway; its refusal is explained by oauth-entity, the one root cause.
    inactive
        .check("oauth-connect")
        .status("fail")
        .root_cause(false)
        .summary_contains("is inactive");
    assert_eq!(inactive.root_causes(), ["oauth-entity"]);
    demo("entity-provider-only")
        .check("oauth-entity")
        .status("fail")
        .summary_contains("only 1 third-party provider record(s)")
        .remediation_contains("Create an OAuth API endpoint for external clients");
    demo("refresh-lifespan-short")
        .check("oauth-entity")
        .status("warn")
        .summary_contains("only 1 hour (under 30 days)")
        .remediation_contains("Refresh Token Lifespan");
}

/// An access token lifespan of 0: the instance issues a token (expires_in 0) and then refuses it.
/// The real connect proves the failure; the entity's setting explains it, the one root cause.
#[test]
fn access_tokens_that_expire_at_once() {
    let run = demo("access-lifespan-zero");
    run.exit_code(1);
    run.check("oauth-entity")
        .status("fail")
        .code("oauth-entity/access-token-lifespan")
        .summary_contains("lifespan of 0 s")
        .root_cause(true);
    run.check("oauth-connect")
        .status("fail")
        .code("oauth-connect/token-expired")
        .summary_contains("expires_in 0 s and had expired")
        .remediation_contains("Access Token Lifespan")
        .root_cause(false);
    assert_eq!(run.root_causes(), ["oauth-entity"]);
}

/// The client id of the second (staging copy) entity in `second-entity-inactive`.
const STAGING_CLIENT_ID: &str = "5e1d9c7b3a2f4e6d8c0b1a2f3e4d5c6b";

/// Both client entities are inactive. Without `--client-id` the connect uses the named entity, whose
/// finding explains the refusal; with the staging copy's client id the refusal is about that entity,
/// which no check judged, so the named entity's finding explains nothing and both are root causes.
#[test]
fn a_refusal_is_explained_only_by_a_finding_about_the_entity_it_used() {
    let named = demo("second-entity-inactive");
    named.exit_code(1);
    named
        .check("oauth-connect")
        .status("fail")
        .code("oauth-connect/entity-inactive")
        .summary_contains("\"Microsoft 365 Security Center Connector\" is inactive")
        .root_cause(false);
    assert_eq!(named.root_causes(), ["oauth-entity"]);

    let other = demo_with(
        "second-entity-inactive",
        &["--client-id", STAGING_CLIENT_ID],
    );
    other.exit_code(1);
    other
        .check("oauth-entity")
        .status("fail")
        .code("oauth-entity/inactive")
        .root_cause(true);
    other
        .check("oauth-connect")
        .status("fail")
        .code("oauth-connect/entity-inactive")
        .summary_contains("\"M365 Connector (staging copy)\" is inactive")
        .root_cause(true);
    let mut roots = other.root_causes();
    roots.sort();
    assert_eq!(roots, ["oauth-connect", "oauth-entity"]);
}

#[test]
fn oauth_switch_and_password_grant() {
    let off = demo("oauth-disabled");
    off.check("oauth-platform")
        .status("fail")
        .summary_contains("OAuth is switched off")
        .remediation_contains("com.snc.platform.security.oauth.is.active to true");
    // The grant properties are readable with OAuth off: nothing blocks the grant check.
    off.check("oauth-grant").status("pass");
    // ROPC off is a hardening setting the connector (authorization code) does not need: the test
    // grant cannot prove the connection, which is undecided, never a failure, and the fix keeps it.
    let ropc = demo("ropc-disabled");
    ropc.exit_code(1);
    ropc.check("oauth-grant")
        .status("inconclusive")
        .summary_contains("glide.oauth.inbound.ropc.grant_type.disabled=true")
        .remediation_contains("Keep the setting")
        .remediation_contains("--grant refresh-token");
    ropc.check("oauth-connect")
        .status("inconclusive")
        .remediation_contains("--grant refresh-token");
    let headline = ropc.report.0["verdict"]["headline"].as_str().unwrap_or("");
    assert!(headline.starts_with("UNDECIDED"), "{headline}");
    assert!(headline.contains("--grant refresh-token"), "{headline}");
    // The refresh-token grant needs no switch.
    demo_with(
        "ropc-disabled",
        &["--only", "oauth-grant", "--grant", "refresh-token"],
    )
    .check("oauth-grant")
    .status("skipped");
}

#[test]
fn integration_user_blockers_fail_with_the_field_to_fix() {
    // Each blocker's fix is the one for that field, chosen by its code, not a generic opening.
    for (scenario, summary, code, fix) in [
        (
            "user-missing",
            "does not exist",
            "not-found",
            "If the checklist's integration-user step was skipped",
        ),
        (
            "user-inactive",
            "is inactive",
            "inactive",
            "Open m365.integration and select Active",
        ),
        (
            "user-locked",
            "is locked out",
            "locked-out",
            "Open m365.integration, clear Locked out",
        ),
        (
            "user-web-service-only",
            "cannot sign in interactively to select Allow",
            "web-service-only",
            "Open m365.integration and clear *Web service access only*",
        ),
        (
            "user-password-reset",
            "must reset its password",
            "password-needs-reset",
            "Clear *Password needs reset* on m365.integration",
        ),
    ] {
        demo(scenario)
            .check("integration-user")
            .status("fail")
            .summary_contains(summary)
            .code(&format!("integration-user/{code}"))
            .remediation_starts_with(fix);
    }
    demo("user-no-email")
        .check("integration-user")
        .status("warn")
        .summary_contains("has no email")
        .code("integration-user/no-email")
        .remediation_contains("Set Email on m365.integration");
    demo("user-many-failed-logins")
        .check("integration-user")
        .status("warn")
        .summary_contains("8 failed login attempts");
}

#[test]
fn sso_auto_redirect_fails_with_both_workarounds_and_local_login_warns() {
    let run = demo("sso-auto-redirect");
    let check = run
        .check("sso-interference")
        .status("fail")
        .summary_contains("redirects to")
        .remediation_contains("through *Not You*")
        .remediation_contains("/login.do")
        .remediation_contains("side_door.do")
        .remediation_contains("security admin rights and the same name and email")
        .remediation_contains("m365.integration (email m365.integration@example.com)");
    assert!(
        check.value["evidence"].to_string().contains("302"),
        "{}",
        check.context()
    );
    demo("sso-local-login")
        .check("sso-interference")
        .status("warn")
        .summary_contains("Multi-Provider SSO is enabled")
        .summary_contains("still offers a local sign-in")
        .remediation_contains("Not You");
}

#[test]
fn a_non_admin_makes_configuration_checks_inconclusive_never_failed() {
    let run = demo("non-admin");
    run.check("diagnosing-privileges")
        .status("warn")
        .summary_contains("does not have the admin role");
    for id in [
        "connector-app",
        "oauth-entity",
        "oauth-platform",
        "integration-user",
        "sso-interference",
        // An inconclusive prerequisite does not block: these run and answer for themselves.
        "oauth-entity-cross-scope",
        "oauth-grant",
    ] {
        run.check(id)
            .status("inconclusive")
            .summary_contains("run with an admin account")
            .remediation_contains("admin role");
    }
    // The same holds when their prerequisites are skipped.
    let unblocked = demo_with(
        "non-admin",
        &["--skip", "connector-app", "--skip", "oauth-platform"],
    );
    for id in ["oauth-entity-cross-scope", "oauth-grant"] {
        unblocked
            .check(id)
            .status("inconclusive")
            .summary_contains("run with an admin account");
    }
    for run in [&run, &unblocked] {
        for check in run.checks() {
            assert_ne!(check["status"], "fail", "{}: {check}", run.scenario);
        }
    }
}

#[test]
fn several_faults_show_the_root_causes_first_and_block_dependants() {
    let run = demo("multi-fault");
    run.exit_code(1);
    let mut roots = run.root_causes();
    roots.sort();
    assert_eq!(
        roots,
        [
            "integration-user",
            "oauth-entity",
            "oauth-entity-cross-scope"
        ]
    );
    run.check("oauth-entity-cross-scope")
        .status("fail")
        .root_cause(true)
        .remediation_contains(CROSS_SCOPE_ERROR);
    run.check("oauth-entity")
        .status("fail")
        .root_cause(true)
        .remediation_contains("select Active");
    run.check("integration-user")
        .status("fail")
        .root_cause(true)
        .remediation_contains("clear Locked out");
    let headline = run.report.0["verdict"]["headline"].as_str().unwrap_or("");
    assert!(headline.contains("root cause"), "{headline}");
    // Every check depending on a failed one is blocked and names it.
    let catalogue = snowdoctor::catalogue::Catalogue::load(None).expect("catalogue");
    for manifest in catalogue.checks() {
        let failed: Vec<&String> = manifest
            .depends_on
            .iter()
            .filter(|d| run.report.check(d)["status"] == "fail")
            .collect();
        if let Some(first) = failed.first() {
            run.check(&manifest.id).blocked_by(first);
        }
    }
    // The proof ran despite the configuration failures; they explain its refusal, so it is not a
    // fourth root cause.
    run.check("oauth-connect").status("fail").root_cause(false);
}

#[test]
fn without_names_the_entity_and_the_user_are_found_through_the_app() {
    let lab = EmulatorRun::start("sso-auto-redirect");
    let creds = lab.emulator.credentials();
    let finished = lab.run_json(&["--only", "oauth_entity,integration_user,sso"]);
    let run = Run {
        scenario: "run sso-auto-redirect (no names)".into(),
        report: finished.report(),
        finished,
    };
    run.check("oauth-entity")
        .status("pass")
        .summary_contains("Microsoft 365 Security Center Connector")
        .summary_contains("found by name");
    run.check("integration-user")
        .status("pass")
        .summary_contains("m365.integration")
        .summary_contains("found through its x_mioms_m365ticket role");
    // The probe used the client id found on the entity; the user found through the app is named.
    let sso = run
        .check("sso-interference")
        .status("fail")
        .remediation_contains("m365.integration (email m365.integration@example.com)");
    let evidence = sso.value["evidence"].to_string();
    assert!(evidence.contains(&creds.client_id), "{}", sso.context());
    lab.emulator.stop();
}

#[test]
fn explain_prints_what_each_configuration_check_reads_and_how_to_fix_it() {
    for id in CONFIG_CHECKS {
        let out = Finished::from(snowdoctor().args(["explain", id]).output().expect("runs"));
        assert_eq!(out.code, 0, "{id}: {}", out.stderr);
        assert!(out.stdout.contains("What it reads"), "{id}: {}", out.stdout);
        assert!(
            out.stdout.contains("How to fix a failure"),
            "{id}: {}",
            out.stdout
        );
        assert!(out.stdout.contains(&format!("checks/{id}.toml")), "{id}");
    }
}
