//! The final output scan through the binary: a short secret that is also an ordinary word is named
//! and explained instead of withholding the report; a real leak withholds every output, and still
//! names the test record left on the instance (exit 1, not 2).

use secrecy::{ExposeSecret, SecretString};
use snowdoctor::emulator::{EmulatorOptions, Fault, FaultKind, SecretOverrides};

use crate::support::{EmulatorRun, Finished};

#[test]
fn a_short_secret_that_is_a_word_is_named_not_silently_withheld() {
    let out = crate::support::snowdoctor()
        .args(["demo", "--scenario", "healthy", "--format", "json"])
        .env("SNOWDOCTOR_INTEGRATION_PASSWORD", "pass")
        .output()
        .expect("runs");
    let out = Finished::from(out);
    assert_ne!(out.code, 2, "the report was withheld:\n{}", out.stderr);
    out.report();
    assert!(
        out.stderr.contains("SNOWDOCTOR_INTEGRATION_PASSWORD"),
        "the variable is named:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("8 characters"), "{}", out.stderr);
}

#[test]
fn a_withheld_output_still_names_the_record_left_behind() {
    // A client secret that is also a check id: it shows up in every report, so every output is
    // withheld; the DELETE fault leaves the test ticket on the instance.
    let secret = "ticket-round-trip";
    let run = EmulatorRun::with(EmulatorOptions {
        scenario: "healthy".into(),
        secrets: SecretOverrides {
            client_secret: Some(SecretString::from(secret.to_string())),
            ..SecretOverrides::default()
        },
        ..EmulatorOptions::default()
    });
    run.emulator.add_fault(Fault {
        method: Some(http::Method::DELETE),
        path_prefix: "/api/now/table/incident".into(),
        kind: FaultKind::Status(500),
        times: None,
    });
    let creds = run.emulator.credentials();
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("r.json");
    let out = run
        .command()
        .env(
            "SNOWDOCTOR_INTEGRATION_PASSWORD",
            creds.integration_password.expose_secret(),
        )
        .env("SNOWDOCTOR_CLIENT_SECRET", secret)
        .args(["--integration-user", &creds.integration_user])
        .args(["--client-id", &creds.client_id])
        .args(["--oauth-entity", &creds.oauth_entity])
        .args(["--only", "oauth-connect,ticket-round-trip"])
        .args(["--format", "json", "--no-progress", "--report"])
        .arg(format!("json={}", report.display()))
        .output()
        .expect("runs");
    let out = Finished::from(out);
    run.emulator.clear_faults();
    let left: Vec<String> = run
        .emulator
        .rows("incident")
        .iter()
        .filter(|r| {
            serde_json::Value::Object((*r).clone())
                .to_string()
                .contains("snowdoctor")
        })
        .filter_map(|r| r.get("sys_id").and_then(|v| v.as_str()).map(String::from))
        .collect();
    assert_eq!(left.len(), 1, "one test ticket stays: {}", out.stderr);
    assert!(out.stderr.contains("withheld"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "stdout withheld: {}", out.stdout);
    assert!(!report.exists(), "the report is withheld too");
    assert!(
        out.stderr.contains(&left[0]),
        "the leftover's sys_id reaches stderr:\n{}",
        out.stderr
    );
    assert_eq!(out.code, 1, "a leftover keeps exit 1:\n{}", out.stderr);
}
