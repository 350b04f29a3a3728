//! Pasted browser URLs and typos, through the binary.

use secrecy::ExposeSecret;

use crate::support::{EmulatorRun, Finished, snowdoctor};

#[test]
fn a_browser_url_is_reduced_to_the_instance_root_with_a_note() {
    let run = EmulatorRun::start("healthy");
    let base = run.emulator.base_url();
    for page in [
        "/now/nav/ui/home",
        "/nav_to.do?uri=%2Fincident_list.do",
        "/$pa_dashboard.do",
    ] {
        let out = Finished::from(
            snowdoctor()
                .args(["run", "--instance", &format!("{base}{page}")])
                .args(["--user", &run.emulator.credentials().user, "--ca-cert"])
                .arg(&run.ca)
                .env(
                    "SNOWDOCTOR_PASSWORD",
                    run.emulator.credentials().password.expose_secret(),
                )
                .args(["--format", "json", "--only", "diagnosing-account"])
                .output()
                .expect("runs"),
        );
        assert_eq!(out.code, 0, "{page}: {}", out.stderr);
        let report = out.report();
        report.assert_status("diagnosing-account", "pass");
        assert!(out.stderr.contains("not its root"), "{}", out.stderr);
        let notes = report.0["notes"].to_string();
        assert!(notes.contains("not its root"), "{notes}");
    }
}

/// The stderr of `snowdoctor ARGS…`, which must fail with the usage code.
fn usage_error(args: &[&str]) -> String {
    let out = Finished::from(snowdoctor().args(args).output().expect("runs"));
    assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    out.stderr
}

#[test]
fn typos_get_one_did_you_mean() {
    let cases: [(&[&str], &str); 6] = [
        (&["rn"], "did you mean 'run'?"),
        (&["explian", "connectivity"], "did you mean 'explain'?"),
        (
            &["demo", "--scenario", "multifault"],
            "did you mean \"multi-fault\"?",
        ),
        (
            &["explain", "oauth-entity-crossscope"],
            "did you mean \"oauth-entity-cross-scope\"?",
        ),
        (
            &["demo", "--only", "ip-allowlst"],
            "did you mean \"ip-allowlist\"?",
        ),
        (
            &["demo", "--profile", "m365-security-centre"],
            "did you mean \"m365-security-center\"?",
        ),
    ];
    for (args, expected) in cases {
        let stderr = usage_error(args);
        assert!(stderr.contains(expected), "{args:?}:\n{stderr}");
    }
    // Too far from anything: no guess (`rn` is not `ranges`).
    let stderr = usage_error(&["zzz"]);
    assert!(!stderr.contains("did you mean"), "{stderr}");
    assert!(!usage_error(&["rn"]).contains("ranges"));
}
