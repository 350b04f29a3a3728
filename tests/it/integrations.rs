//! The built-in integration profiles end to end: each profile's healthy scenario passes through
//! `snowdoctor demo --profile NAME`, and each documented failure mode is diagnosed by the right check.

use crate::support::{Finished, Report, snowdoctor};

/// `snowdoctor demo --profile PROFILE [--scenario SCENARIO] --format json`.
fn demo(profile: &str, scenario: Option<&str>) -> (Finished, Report) {
    let mut cmd = snowdoctor();
    cmd.args(["demo", "--profile", profile, "--format", "json"]);
    if let Some(scenario) = scenario {
        cmd.args(["--scenario", scenario]);
    }
    let out = Finished::from(cmd.output().expect("snowdoctor runs"));
    let report = out.report();
    (out, report)
}

#[test]
fn every_profile_healthy_scenario_passes_end_to_end() {
    // (profile, checks that must pass on its healthy scenario, checks that do not apply to it)
    let cases: [(&str, &[&str], &[&str]); 6] = [
        (
            "azure-monitor-itsmc",
            &[
                "connector-app",
                "integration-user",
                "supported-release",
                "refresh-token-lifespan",
                "table-read-access",
                "ticket-round-trip",
            ],
            &[
                "redirect-url",
                "forbidden-roles",
                "plugins-active",
                "probe-endpoint",
            ],
        ),
        (
            "copilot-servicenow-knowledge",
            &[
                "redirect-url",
                "forbidden-roles",
                "table-read-access",
                "refresh-token-lifespan",
                "integration-user",
            ],
            &[
                "ticket-round-trip",
                "connector-app",
                "probe-endpoint",
                "plugins-active",
                "supported-release",
            ],
        ),
        (
            "copilot-servicenow-catalog",
            &["redirect-url", "forbidden-roles", "table-read-access"],
            &["ticket-round-trip"],
        ),
        (
            "copilot-servicenow-tickets",
            &["redirect-url", "forbidden-roles", "table-read-access"],
            &["ticket-round-trip"],
        ),
        (
            "azure-pipelines-change",
            &[
                "connector-app",
                "plugins-active",
                "redirect-url",
                "probe-endpoint",
                "supported-release",
                "table-read-access",
                "ticket-round-trip",
            ],
            &["forbidden-roles", "refresh-token-lifespan"],
        ),
        (
            "power-platform-servicenow",
            &["redirect-url", "table-read-access", "ticket-round-trip"],
            &["connector-app", "probe-endpoint", "plugins-active"],
        ),
    ];
    for (profile, pass, skipped) in cases {
        let (out, report) = demo(profile, None);
        assert_eq!(
            out.code, 0,
            "{profile}: {}\n{}",
            report.0["verdict"], out.stderr
        );
        assert_eq!(report.0["profile"], profile);
        for id in pass {
            report.assert_status(id, "pass");
        }
        for id in skipped {
            report.assert_status(id, "skipped");
            assert!(
                report.summary(id).contains("not applicable"),
                "{profile} {id}: {}",
                report.summary(id)
            );
        }
        let notes = report.0["notes"].to_string();
        assert!(
            notes.contains(&format!("scenario \\\"{profile}\\\"")),
            "{notes}"
        );
    }
}

#[test]
fn the_default_profile_skips_the_new_checks_and_stays_green() {
    let (out, report) = demo("m365-security-center", None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for id in [
        "redirect-url",
        "forbidden-roles",
        "table-read-access",
        "plugins-active",
        "probe-endpoint",
        "refresh-token-lifespan",
        "supported-release",
    ] {
        report.assert_status(id, "skipped");
    }
    report.assert_status("ticket-round-trip", "pass");
}

/// (profile, scenario, check, status, a word the summary must hold)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn assert_cases(cases: &[Case]) {
    for (profile, scenario, check, status, needle) in cases {
        let (out, report) = demo(profile, Some(scenario));
        report.assert_status(check, status);
        let summary = report.summary(check);
        assert!(summary.contains(needle), "{scenario} {check}: {summary}");
        assert!(
            !report.remediation(check).is_empty(),
            "{scenario} {check}: no remediation"
        );
        let expected_code = if *status == "fail" { 1 } else { 0 };
        assert_eq!(out.code, expected_code, "{scenario}: {}", out.stderr);
    }
}

#[test]
fn itsmc_failure_modes() {
    assert_cases(&[
        (
            "azure-monitor-itsmc",
            "azure-monitor-itsmc-refresh-short",
            "refresh-token-lifespan",
            "warn",
            "7776000",
        ),
        (
            "azure-monitor-itsmc",
            "azure-monitor-itsmc-role-missing",
            "integration-user",
            "fail",
            "template_editor",
        ),
        (
            "azure-monitor-itsmc",
            "azure-monitor-itsmc-newer-release",
            "supported-release",
            "warn",
            "not known broken",
        ),
        (
            "azure-monitor-itsmc",
            "azure-monitor-itsmc-ip-blocked",
            "ip-allowlist",
            "fail",
            "blocks",
        ),
    ]);
}

#[test]
fn copilot_failure_modes() {
    assert_cases(&[
        (
            "copilot-servicenow-knowledge",
            "copilot-servicenow-knowledge-snc-read-only",
            "forbidden-roles",
            "fail",
            "snc_read_only",
        ),
        (
            "copilot-servicenow-knowledge",
            "copilot-servicenow-knowledge-no-table-access",
            "table-read-access",
            "fail",
            "403: no table access",
        ),
        (
            "copilot-servicenow-knowledge",
            "copilot-servicenow-knowledge-no-field-access",
            "table-read-access",
            "fail",
            "field-level access",
        ),
        (
            "copilot-servicenow-knowledge",
            "copilot-servicenow-knowledge-wrong-redirect",
            "redirect-url",
            "fail",
            "Invalid redirect_uri",
        ),
        (
            "copilot-servicenow-catalog",
            "copilot-servicenow-catalog-no-table-access",
            "table-read-access",
            "fail",
            "sc_cat_item",
        ),
        (
            "copilot-servicenow-tickets",
            "copilot-servicenow-tickets-snc-read-only",
            "forbidden-roles",
            "fail",
            "snc_read_only",
        ),
    ]);
}

#[test]
fn pipelines_and_power_platform_failure_modes() {
    assert_cases(&[
        (
            "azure-pipelines-change",
            "azure-pipelines-change-app-missing",
            "probe-endpoint",
            "fail",
            "answered 400",
        ),
        (
            "azure-pipelines-change",
            "azure-pipelines-change-role-missing",
            "probe-endpoint",
            "fail",
            "answered 403",
        ),
        (
            "azure-pipelines-change",
            "azure-pipelines-change-plugin-inactive",
            "plugins-active",
            "fail",
            "state_model",
        ),
        (
            "azure-pipelines-change",
            "azure-pipelines-change-wrong-redirect",
            "redirect-url",
            "fail",
            "_admin/oauth2/callback",
        ),
        (
            "power-platform-servicenow",
            "power-platform-servicenow-redirect-missing",
            "redirect-url",
            "fail",
            "has no Redirect URL",
        ),
    ]);
}

/// A failing verification probe is explained by what makes it fail, when a check reports that: the
/// app missing (400) or the user's role missing (403, which also denies the import). The verdict
/// leads with that one root cause.
#[test]
fn a_probe_failure_is_explained_by_the_missing_app_or_role() {
    for (scenario, cause) in [
        ("azure-pipelines-change-app-missing", "connector-app"),
        ("azure-pipelines-change-role-missing", "integration-user"),
    ] {
        let run = crate::support::demo(scenario, &["--profile", "azure-pipelines-change"]);
        let report = run.report();
        report.assert_status("probe-endpoint", "fail");
        assert_eq!(report.root_causes(), [cause], "{scenario}");
    }
}

#[test]
fn a_read_as_the_integration_user_needs_its_password() {
    // A real run without SNOWDOCTOR_INTEGRATION_PASSWORD cannot make the integration user's reads.
    let run = crate::support::EmulatorRun::start("copilot-servicenow-knowledge");
    let out = run.run_json(&[
        "--profile",
        "copilot-servicenow-knowledge",
        "--integration-user",
        "m365.integration",
        "--only",
        "table-read-access,forbidden-roles",
    ]);
    let report = out.report();
    report.assert_status("table-read-access", "inconclusive");
    assert!(
        report
            .summary("table-read-access")
            .contains("needs its password")
    );
    report.assert_status("forbidden-roles", "pass");
}

#[test]
fn copilot_demos_run_with_the_connectors_own_entity_and_user() {
    for profile in [
        "copilot-servicenow-knowledge",
        "copilot-servicenow-catalog",
        "copilot-servicenow-tickets",
    ] {
        let (out, report) = demo(profile, None);
        assert_eq!(out.code, 0, "{profile}: {}", out.stderr);
        let entity = report.summary("oauth-entity");
        assert!(
            entity.starts_with("\"Microsoft Search\""),
            "{profile}: {entity}"
        );
        assert!(entity.contains("built-in profile"), "{profile}: {entity}");
        for id in ["integration-user", "forbidden-roles", "table-read-access"] {
            assert!(
                report.summary(id).contains("microsoft.copilot"),
                "{profile} {id}: {}",
                report.summary(id)
            );
        }
        let notes = report.0["notes"].to_string();
        assert!(!notes.contains("used instead"), "{profile}: {notes}");
    }
    // a failure mode built on the healthy seed keeps the names
    let (_, report) = demo(
        "copilot-servicenow-knowledge",
        Some("copilot-servicenow-knowledge-wrong-redirect"),
    );
    assert!(
        report
            .summary("redirect-url")
            .contains("\"Microsoft Search\""),
        "{}",
        report.summary("redirect-url")
    );
}

#[test]
fn the_generic_profile_runs_green_with_the_emulators_names() {
    let (out, report) = demo("generic-inbound-oauth", None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(report.0["profile"], "generic-inbound-oauth");
    report.assert_status("ticket-round-trip", "pass");
    report.assert_status("oauth-connect", "pass");
    assert!(
        report
            .summary("oauth-entity")
            .contains("the demo emulator's entity"),
        "{}",
        report.summary("oauth-entity")
    );
}

#[test]
fn copilot_sso_logout_successful_is_diagnosed_with_the_connectors_workaround() {
    let (out, report) = demo(
        "copilot-servicenow-knowledge",
        Some("copilot-servicenow-knowledge-sso"),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    report.assert_status("sso-interference", "fail");
    let fix = report.remediation("sso-interference");
    assert!(
        fix.contains("microsoft.copilot") && fix.contains("/login.do"),
        "{fix}"
    );
    assert!(
        fix.contains("Logout successful") && fix.contains("private browser window"),
        "{fix}"
    );
    // the retired connector's Entra-user workaround is not offered for the Copilot connector
    assert!(!fix.contains("security center"), "{fix}");
}
