//! The version check's fallback chain through the binary: properties, then /xmlstats.do, then /stats.do.

use secrecy::ExposeSecret;
use snowdoctor::emulator::{Emulator, EmulatorOptions, Fault, FaultKind};

use crate::support::{Finished, snowdoctor, write};

fn run_version(emulator: &Emulator, ca: &std::path::Path) -> Finished {
    let creds = emulator.credentials();
    Finished::from(
        snowdoctor()
            .args([
                "run",
                "--instance",
                &emulator.base_url(),
                "--user",
                &creds.user,
            ])
            .args([
                "--format",
                "json",
                "--only",
                "instance-version",
                "--ca-cert",
            ])
            .arg(ca)
            .env("SNOWDOCTOR_PASSWORD", creds.password.expose_secret())
            .output()
            .expect("snowdoctor runs"),
    )
}

#[test]
fn version_found_only_through_stats_do() {
    let emulator = Emulator::start_blocking(EmulatorOptions {
        scenario: "version-stats-only".into(),
        ..EmulatorOptions::default()
    })
    .expect("emulator starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = write(dir.path(), "ca.pem", &emulator.ca_pem().expect("TLS CA"));
    // No version rows in sys_properties (the scenario) and /xmlstats.do failing: only /stats.do is left.
    emulator.add_fault(Fault {
        method: None,
        path_prefix: "/xmlstats.do".into(),
        kind: FaultKind::Status(500),
        times: None,
    });
    let out = run_version(&emulator, &ca);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.report();
    report.assert_status("instance-version", "pass");
    let evidence = report.check("instance-version")["evidence"].to_string();
    assert!(
        evidence.contains(r#""value":"/stats.do""#),
        "the source is /stats.do: {evidence}"
    );
    assert!(
        evidence.contains("/xmlstats.do (tried first)"),
        "{evidence}"
    );
    // With /stats.do failing too, the version is unknown: a warning naming every source, never "too old".
    emulator.add_fault(Fault {
        method: None,
        path_prefix: "/stats.do".into(),
        kind: FaultKind::Status(500),
        times: None,
    });
    let out = run_version(&emulator, &ca);
    let report = out.report();
    report.assert_status("instance-version", "warn");
    assert!(
        report
            .summary("instance-version")
            .contains("could not be determined")
    );
    let evidence = report.check("instance-version")["evidence"].to_string();
    for source in ["sys_properties", "/xmlstats.do", "/stats.do"] {
        assert!(
            evidence.contains(source),
            "{source} missing from {evidence}"
        );
    }
}
