//! The version check's fallback chain through the binary: properties, then /xmlstats.do, then /stats.do.

use snowdoctor::emulator::{Fault, FaultKind};

use crate::support::EmulatorRun;

#[test]
fn version_found_only_through_stats_do() {
    let lab = EmulatorRun::start("version-stats-only");
    let emulator = &lab.emulator;
    // No version rows in sys_properties (the scenario) and /xmlstats.do failing: only /stats.do is left.
    emulator.add_fault(Fault {
        method: None,
        path_prefix: "/xmlstats.do".into(),
        kind: FaultKind::Status(500),
        times: None,
    });
    let out = lab.run_json(&["--only", "instance-version"]);
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
    let out = lab.run_json(&["--only", "instance-version"]);
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
