//! The import-set round trip of the profiles that write through one (Azure Monitor ITSMC into
//! `x_mioms_microsoft_oms_incident`, Azure Pipelines into `x_mioms_azpipeline_change_request_import`):
//! insert into the staging table, read the transform result and the target record, verify, remove the
//! target record, and say what the platform keeps. Healthy and failing transforms per profile, through
//! the binary against the emulator's Import Set API.

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::support::{EmulatorRun, Finished, Report, snowdoctor};

/// `snowdoctor demo --profile PROFILE --scenario SCENARIO --only ticket-round-trip --format json`.
fn demo(profile: &str, scenario: &str) -> (Finished, Report) {
    let out = Finished::from(
        snowdoctor()
            .args([
                "demo",
                "--profile",
                profile,
                "--scenario",
                scenario,
                "--only",
                "ticket-round-trip",
                "--format",
                "json",
            ])
            .output()
            .expect("snowdoctor runs"),
    );
    let report = out.report();
    (out, report)
}

fn steps(report: &Report) -> Vec<(String, String)> {
    report.check("ticket-round-trip")["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or("").to_string(),
                s["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn evidence(report: &Report, label: &str) -> String {
    report.check("ticket-round-trip")["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["label"] == label)
        .and_then(|e| e["value"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn writes(report: &Report) -> Vec<Value> {
    report.0["writes"].as_array().cloned().unwrap_or_default()
}

#[test]
fn each_import_set_profile_round_trips_through_its_transform_and_cleans_up() {
    // (profile, staging table, transform map, target table, number prefix)
    let cases = [
        (
            "azure-monitor-itsmc",
            "x_mioms_microsoft_oms_incident",
            "OMS Incident",
            "incident",
            "INC",
        ),
        (
            "azure-pipelines-change",
            "x_mioms_azpipeline_change_request_import",
            "change_request_imports",
            "change_request",
            "CHG",
        ),
    ];
    for (profile, staging, map, target, prefix) in cases {
        let (out, report) = demo(profile, profile);
        assert_eq!(out.code, 0, "{profile}: {}", out.stderr);
        report.assert_status("ticket-round-trip", "pass");
        let summary = report.summary("ticket-round-trip");
        assert!(
            summary.contains(staging) && summary.contains(map) && summary.contains(target),
            "{summary}"
        );
        let names: Vec<String> = steps(&report).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["import", "transform", "read back", "delete", "verify gone"],
            "{profile}"
        );
        assert!(steps(&report).iter().all(|(_, s)| s == "pass"));
        assert!(evidence(&report, "import set").starts_with(staging));
        assert!(evidence(&report, "import set").contains("ISET"));
        assert!(evidence(&report, "transform").contains("inserted"));
        let kept = evidence(&report, "kept by the platform");
        assert!(
            kept.contains("staging row stays") && kept.contains("scheduled"),
            "{kept}"
        );
        // the target record the transform created is the run's only write, and it is gone
        let writes = writes(&report);
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0]["table"], target);
        assert_eq!(writes[0]["state"], "deleted");
        assert!(
            writes[0]["number"]
                .as_str()
                .is_some_and(|n| n.starts_with(prefix)),
            "{writes:?}"
        );
    }
}

#[test]
fn transform_failures_are_diagnosed_with_their_fix_and_leave_nothing() {
    // (profile, scenario, transform status, words of the summary, words of the fix)
    let cases = [
        (
            "azure-monitor-itsmc",
            "azure-monitor-itsmc-transform-error",
            "error",
            "Target record not found",
            "onBefore",
        ),
        (
            "azure-monitor-itsmc",
            "azure-monitor-itsmc-no-transform-map",
            "error",
            "no active transform map",
            "activate the map",
        ),
        (
            "azure-pipelines-change",
            "azure-pipelines-change-transform-ignored",
            "ignored",
            "ignored the row",
            "ignore = true",
        ),
    ];
    for (profile, scenario, status, said, fix) in cases {
        let (out, report) = demo(profile, scenario);
        assert_eq!(out.code, 1, "{scenario}: {}", out.stderr);
        report.assert_status("ticket-round-trip", "fail");
        let summary = report.summary("ticket-round-trip");
        assert!(summary.contains("transform step failed"), "{summary}");
        assert!(summary.contains(said), "{scenario}: {summary}");
        let remediation = report.remediation("ticket-round-trip");
        assert!(remediation.contains(fix), "{scenario}: {remediation}");
        assert!(
            evidence(&report, "transform").contains(status),
            "{scenario}: {}",
            evidence(&report, "transform")
        );
        // the row stays staged, no target record was written, and the marker sweep found nothing
        assert!(evidence(&report, "kept by the platform").contains("staging row stays"));
        assert!(
            writes(&report).is_empty(),
            "{scenario}: {:?}",
            writes(&report)
        );
        assert!(
            steps(&report).contains(&("cleanup".to_string(), "pass".to_string())),
            "{scenario}: {:?}",
            steps(&report)
        );
    }
}

#[test]
fn a_denied_staging_insert_names_the_roles_the_profile_expects() {
    let (out, report) = demo("azure-monitor-itsmc", "azure-monitor-itsmc-staging-denied");
    assert_eq!(out.code, 1, "{}", out.stderr);
    report.assert_status("ticket-round-trip", "fail");
    assert!(
        report
            .summary("ticket-round-trip")
            .contains("import step failed (HTTP 403"),
        "{}",
        report.summary("ticket-round-trip")
    );
    let fix = report.remediation("ticket-round-trip");
    assert!(
        fix.contains("import_transformer") && fix.contains("x_mioms_microsoft_oms_incident"),
        "{fix}"
    );
    assert!(writes(&report).is_empty());
}

/// `snowdoctor run --profile azure-monitor-itsmc --only ticket-round-trip` against an in-process
/// emulator serving `scenario`, whose tables the test then reads.
fn run_itsmc(run: &EmulatorRun) -> Finished {
    let creds = run.emulator.credentials();
    Finished::from(
        run.command()
            .args([
                "--format",
                "json",
                "--profile",
                "azure-monitor-itsmc",
                "--integration-user",
                &creds.integration_user,
                "--oauth-entity",
                &creds.oauth_entity,
                "--client-id",
                &creds.client_id,
                "--only",
                "ticket-round-trip",
            ])
            .env(
                "SNOWDOCTOR_INTEGRATION_PASSWORD",
                creds.integration_password.expose_secret(),
            )
            .env(
                "SNOWDOCTOR_CLIENT_SECRET",
                creds.client_secret.expose_secret(),
            )
            .output()
            .expect("snowdoctor runs"),
    )
}

#[test]
fn the_staging_row_stays_and_the_target_record_is_removed_on_the_instance() {
    let run = EmulatorRun::start("azure-monitor-itsmc");
    let incidents_before = run.emulator.rows("incident").len();
    let out = run_itsmc(&run);
    let report = out.report();
    assert_eq!(out.code, 0, "{}", out.stderr);
    report.assert_status("ticket-round-trip", "pass");
    let staged = run.emulator.rows("x_mioms_microsoft_oms_incident");
    assert_eq!(staged.len(), 1, "{staged:?}");
    let row = &staged[0];
    assert_eq!(row["sys_import_state"], "inserted");
    assert_eq!(row["sys_target_table"], "incident");
    let marker = report.check("ticket-round-trip")["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["label"] == "marker")
        .and_then(|e| e["value"].as_str())
        .expect("marker evidence")
        .to_string();
    assert!(
        row["short_description"]
            .as_str()
            .is_some_and(|s| s.contains(&marker))
            || row["description"]
                .as_str()
                .is_some_and(|s| s.contains(&marker)),
        "{row:?}"
    );
    // the incident the transform created is gone again
    let target = row["sys_target_sys_id"].as_str().unwrap_or_default();
    assert!(!target.is_empty());
    let incidents = run.emulator.rows("incident");
    assert_eq!(incidents.len(), incidents_before);
    assert!(!incidents.iter().any(|r| r["sys_id"] == target));
}

#[test]
fn a_transform_that_updates_an_existing_record_fails_and_leaves_that_record_alone() {
    let run = EmulatorRun::start("azure-monitor-itsmc-coalesce");
    let before = run.emulator.rows("incident");
    let out = run_itsmc(&run);
    let report = out.report();
    assert_eq!(out.code, 1, "{}", out.stderr);
    report.assert_status("ticket-round-trip", "fail");
    let summary = report.summary("ticket-round-trip");
    assert!(
        summary.contains("updated an existing incident record"),
        "{summary}"
    );
    let fix = report.remediation("ticket-round-trip");
    assert!(
        fix.contains("coalesce") && fix.contains("did not delete"),
        "{fix}"
    );
    // the updated record was not the run's: it is still there, nothing was deleted, no marker sweep ran
    let after = run.emulator.rows("incident");
    assert_eq!(after.len(), before.len());
    let staged = run.emulator.rows("x_mioms_microsoft_oms_incident");
    let target = staged[0]["sys_target_sys_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(after.iter().any(|r| r["sys_id"] == target.as_str()));
    assert!(before.iter().any(|r| r["sys_id"] == target.as_str()));
    assert!(
        !run.emulator
            .audit_log()
            .iter()
            .any(|e| e.method == "DELETE"),
        "{:?}",
        run.emulator.audit_log()
    );
    assert!(writes(&report).is_empty());
    assert!(!steps(&report).iter().any(|(name, _)| name == "cleanup"));
}
