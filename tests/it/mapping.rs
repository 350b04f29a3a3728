//! The round trip's configurable field mapping (`[profiles.NAME.field_mapping]`), through the binary
//! against the emulator: a mapping onto columns the incident table keeps round-trips; one onto a column
//! the table does not have, or one the platform recomputes, fails naming the column; a malformed
//! mapping is a usage error naming the file and line.

use std::path::{Path, PathBuf};

use crate::support::{Finished, Report, demo, write};

fn config(dir: &Path, text: &str) -> PathBuf {
    write(dir, "snowdoctor.toml", text)
}

/// `demo --config FILE --profile acme --only ticket-round-trip` (its prerequisites run too).
fn round_trip(config: &Path) -> Finished {
    let config = config.to_str().expect("utf-8 temp path");
    demo(
        "healthy",
        &[
            "--config",
            config,
            "--profile",
            "acme",
            "--only",
            "ticket-round-trip",
        ],
    )
}

/// The round trip under a config of `text`, which must exit `code` with the check at `status`.
fn round_trip_under(text: &str, code: i32, status: &str) -> Report {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = round_trip(&config(dir.path(), text));
    assert_eq!(run.code, code, "{}", run.stderr);
    let report = run.report();
    report.assert_status("ticket-round-trip", status);
    report
}

fn read_back(report: &Report) -> (String, String) {
    let check = report.check("ticket-round-trip");
    let steps = check["steps"].as_array().expect("steps");
    let step = steps
        .iter()
        .find(|s| s["name"] == "read back")
        .unwrap_or_else(|| panic!("no read-back step: {check}"));
    (
        step["status"].as_str().unwrap_or_default().to_string(),
        step["detail"].as_str().unwrap_or_default().to_string(),
    )
}

fn evidence(report: &Report) -> String {
    report.check("ticket-round-trip")["evidence"].to_string()
}

#[test]
fn the_default_mapping_is_unchanged() {
    // a profile without field_mapping: seven columns, as the built-in profile writes them
    let report = round_trip_under("[profiles.acme]\ndescription = \"defaults\"\n", 0, "pass");
    assert_eq!(
        read_back(&report),
        ("pass".into(), "7 fields read back as sent".into())
    );
}

#[test]
fn a_mapping_onto_kept_columns_round_trips() {
    let report = round_trip_under(
        r#"
[profiles.acme]
description = "recommendations in the close notes"

[profiles.acme.field_mapping]
task_name = "short_description"
task_description = "description"
priority = "impact_urgency"
due_date = "due_date"
initiating_user = "description"
recommendation_source = "close_notes"
recommendation_category = "close_notes"
"#,
        0,
        "pass",
    );
    // close_notes is the eighth column written and read back
    assert_eq!(
        read_back(&report),
        ("pass".into(), "8 fields read back as sent".into())
    );
    assert!(evidence(&report).contains("deleted by the integration user"));
}

#[test]
fn a_column_the_table_lacks_fails_naming_it() {
    let report = round_trip_under(
        "[profiles.acme.field_mapping]\nrecommendation_source = \"u_rec_source\"\n",
        1,
        "fail",
    );
    let summary = report.check("ticket-round-trip")["summary"].to_string();
    assert!(
        summary.contains("1 field(s) did not round-trip: u_rec_source"),
        "{summary}"
    );
    let (status, detail) = read_back(&report);
    assert_eq!(status, "fail");
    assert!(detail.starts_with("u_rec_source: sent"), "{detail}");
    let evidence = evidence(&report);
    assert!(
        evidence.contains(
            "(recommendation_source → u_rec_source): the table has no column u_rec_source"
        ),
        "{evidence}"
    );
    // the failed read-back still removes the record
    assert!(
        evidence.contains("deleted by the integration user"),
        "{evidence}"
    );
    // the fix follows the cause: a missing column is a mapping problem, not a business rule
    let fix = report.remediation("ticket-round-trip");
    assert!(fix.contains("field_mapping"), "{fix}");
    assert!(!fix.contains("Business Rules"), "{fix}");
}

#[test]
fn a_column_the_platform_recomputes_fails_naming_it() {
    // incident derives priority from impact and urgency, so a priority written directly is replaced
    let report = round_trip_under(
        "[profiles.acme.field_mapping]\npriority = \"priority\"\n",
        1,
        "fail",
    );
    let summary = report.check("ticket-round-trip")["summary"].to_string();
    assert!(
        summary.contains(r#"priority (sent \"3\", stored \"5\")"#),
        "{summary}"
    );
    assert!(
        evidence(&report).contains("rewrites priority (priority → priority)"),
        "{}",
        evidence(&report)
    );
}

#[test]
fn malformed_mappings_are_usage_errors_with_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "[profiles.acme]\ndescription = \"x\"\n\n[profiles.acme.field_mapping]\ntask_name = \"short_description\"\nrecomendation_source = \"close_notes\"\n",
            6,
            "unknown field `recomendation_source`",
        ),
        (
            "[profiles.acme.field_mapping]\ntask_name = \"short_description\"\ndue_date = \"\"\n",
            3,
            "empty column name",
        ),
        (
            "[profiles.acme.field_mapping]\n\ntask_name = \"short description\"\n",
            3,
            "is not a column name",
        ),
        (
            "[profiles.acme.field_mapping]\ndue_date = \"description\"\n",
            1,
            "puts due_date and task_description in the same column description",
        ),
    ];
    for (text, line, message) in cases {
        let path = config(dir.path(), text);
        let run = round_trip(&path);
        assert_eq!(run.code, 2, "{text}: {}", run.stderr);
        let at = format!("{}:{line}:", path.display());
        assert!(
            run.stderr.contains(&at) && run.stderr.contains(message),
            "{text}: expected {at} … {message}, got {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "no report on a usage error");
    }
}
