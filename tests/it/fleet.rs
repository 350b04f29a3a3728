//! `run --targets FILE`: several in-process emulators with different scenarios, an unreachable
//! instance and a target whose secret variable is unset, through the real binary.

use std::path::Path;

use secrecy::ExposeSecret;
use serde_json::Value;

use crate::support::{EmulatorRun, Finished, snowdoctor, write};

/// A `[[target]]` for an emulator, its secrets in variables prefixed `prefix`.
fn target(name: &str, run: &EmulatorRun, prefix: &str) -> String {
    let creds = run.emulator.credentials();
    format!(
        "[[target]]\nname = \"{name}\"\ninstance = \"{}\"\nuser = \"{}\"\nca_cert = {:?}\nintegration_user = \"{}\"\n\
         password_env = \"{prefix}_PASSWORD\"\nintegration_password_env = \"{prefix}_INTEGRATION_PASSWORD\"\n\
         client_secret_env = \"{prefix}_CLIENT_SECRET\"\n\n",
        run.emulator.base_url(),
        creds.user,
        run.ca.display().to_string(),
        creds.integration_user,
    )
}

/// The variables `target(…, prefix)` names, set to the emulator's secrets.
fn secrets(run: &EmulatorRun, prefix: &str) -> Vec<(String, String)> {
    let creds = run.emulator.credentials();
    vec![
        (
            format!("{prefix}_PASSWORD"),
            creds.password.expose_secret().to_string(),
        ),
        (
            format!("{prefix}_INTEGRATION_PASSWORD"),
            creds.integration_password.expose_secret().to_string(),
        ),
        (
            format!("{prefix}_CLIENT_SECRET"),
            creds.client_secret.expose_secret().to_string(),
        ),
    ]
}

/// A loopback URL nothing listens on.
fn unreachable_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("https://127.0.0.1:{port}")
}

fn run_fleet(file: &Path, env: &[(String, String)], args: &[&str]) -> Finished {
    let mut cmd = snowdoctor();
    cmd.arg("run").arg("--targets").arg(file).args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    Finished::from(cmd.output().expect("snowdoctor runs"))
}

fn summary_of<'a>(fleet: &'a Value, name: &str) -> &'a Value {
    fleet["summary"]["targets"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no target {name} in {fleet:#}"))
}

#[test]
fn mixed_fleet_reports_every_target_and_exits_with_the_worst() {
    let healthy = EmulatorRun::start("healthy");
    let broken = EmulatorRun::start("cross-scope-off");
    let dir = tempfile::tempdir().expect("tempdir");
    let unreachable = format!(
        "[[target]]\nname = \"gone\"\ninstance = \"{}\"\nuser = \"admin\"\npassword_env = \"GONE_PASSWORD\"\n",
        unreachable_url()
    );
    let file = write(
        dir.path(),
        "targets.toml",
        &format!(
            "{}{}{unreachable}",
            target("healthy", &healthy, "HEALTHY"),
            target("broken", &broken, "BROKEN")
        ),
    );
    let mut env = secrets(&healthy, "HEALTHY");
    env.extend(secrets(&broken, "BROKEN"));
    env.push(("GONE_PASSWORD".into(), "not-a-real-password".into()));
    let reports = dir.path().join("out");
    let finished = run_fleet(
        &file,
        &env,
        &[
            "--format",
            "json",
            "--parallel-targets",
            "3",
            "--report-dir",
            reports.to_str().expect("utf-8 path"),
        ],
    );
    let fleet: Value = serde_json::from_str(&finished.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", finished.stdout, finished.stderr));

    // The unreachable instance could not be assessed (3): the worst of pass (0), findings (1) and 3.
    assert_eq!(finished.code, 3, "{}", finished.stderr);
    assert_eq!(fleet["summary"]["exit_code"], 3);
    assert_eq!(summary_of(&fleet, "healthy")["verdict"], "pass");
    assert_eq!(summary_of(&fleet, "healthy")["exit_code"], 0);
    let broken_line = summary_of(&fleet, "broken");
    assert_eq!(broken_line["verdict"], "fail");
    assert_eq!(broken_line["exit_code"], 1);
    assert!(
        broken_line["root_causes"]
            .as_array()
            .is_some_and(|r| r.iter().any(|c| c == "oauth-entity-cross-scope")),
        "{broken_line}"
    );
    assert_eq!(summary_of(&fleet, "gone")["exit_code"], 3);

    // Every target ran, in file order, each report naming its target and its own instance.
    let runs = fleet["runs"].as_array().expect("runs");
    let names: Vec<&str> = runs.iter().filter_map(|r| r["target"].as_str()).collect();
    assert_eq!(names, ["healthy", "broken", "gone"]);
    assert_eq!(runs[0]["instance"], healthy.emulator.base_url());
    assert_eq!(runs[1]["instance"], broken.emulator.base_url());

    // Each target cleaned up its own round trip on its own instance.
    for run in [&healthy, &broken] {
        let writes = run
            .emulator
            .audit_log()
            .iter()
            .filter(|e| e.method == "POST")
            .count();
        let deletes = run
            .emulator
            .audit_log()
            .iter()
            .filter(|e| e.method == "DELETE")
            .count();
        assert_eq!(writes, deletes, "every created record deleted");
    }

    // --report-dir: every format per target, and the fleet's JSON and JUnit.
    for name in ["healthy", "broken", "gone"] {
        for file in [
            "report.json",
            "junit.xml",
            "report.sarif",
            "report.md",
            "report.html",
            "transcript.har",
            "report.txt",
        ] {
            let path = reports.join(name).join(file);
            assert!(path.is_file(), "{} missing", path.display());
        }
        let single: Value = serde_json::from_str(
            &std::fs::read_to_string(reports.join(name).join("report.json")).expect("read"),
        )
        .expect("per-target JSON");
        assert_eq!(single["target"], name);
    }
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("fleet.json")).expect("fleet.json"),
    )
    .expect("fleet JSON");
    assert_eq!(saved["summary"], fleet["summary"]);

    // The fleet report matches its published schema.
    let schema_out = snowdoctor()
        .args(["schema", "--targets"])
        .output()
        .expect("schema");
    let schema: Value = serde_json::from_slice(&schema_out.stdout).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&fleet)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // No secret of any target in any output.
    let everything = format!(
        "{}{}{}",
        finished.stdout,
        finished.stderr,
        std::fs::read_to_string(reports.join("healthy").join("transcript.har")).expect("har")
    );
    for (_, secret) in &env {
        assert!(!everything.contains(secret.as_str()), "a secret leaked");
    }
}

#[test]
fn unset_secret_variable_is_that_targets_usage_error_and_the_others_still_run() {
    let healthy = EmulatorRun::start("healthy");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "targets.toml",
        &format!(
            "{}{}",
            target("first", &healthy, "FIRST"),
            target("no-secret", &healthy, "UNSET_IN_THIS_TEST")
        ),
    );
    let finished = run_fleet(
        &file,
        &secrets(&healthy, "FIRST"),
        &["--format", "junit", "--parallel-targets", "1"],
    );
    assert_eq!(
        finished.code, 2,
        "a usage error is the worst: {}",
        finished.stderr
    );
    assert!(
        finished
            .stderr
            .contains("target no-secret: the environment variable UNSET_IN_THIS_TEST_PASSWORD"),
        "{}",
        finished.stderr
    );
    // JUnit: one suite per target; the healthy one has every check, the other one errored case.
    let xml = &finished.stdout;
    assert!(xml.contains("<testsuite name=\"first\""), "{xml}");
    assert!(xml.contains("<testsuite name=\"no-secret\""), "{xml}");
    assert!(xml.contains("UNSET_IN_THIS_TEST_PASSWORD"), "{xml}");
    let first = xml
        .split("<testsuite name=\"first\"")
        .nth(1)
        .and_then(|s| s.split("</testsuite>").next())
        .expect("first suite");
    assert!(first.contains("connectivity::"), "{first}");
    assert!(
        !first.contains("<failure") && !first.contains("<error"),
        "{first}"
    );
}

#[test]
fn terminal_output_is_a_summary_table_then_each_target() {
    let healthy = EmulatorRun::start("healthy");
    let locked = EmulatorRun::start("user-locked");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "targets.toml",
        &format!(
            "{}{}",
            target("alpha", &healthy, "ALPHA"),
            target("beta", &locked, "BETA")
        ),
    );
    let mut env = secrets(&healthy, "ALPHA");
    env.extend(secrets(&locked, "BETA"));
    let finished = run_fleet(&file, &env, &["--read-only"]);
    assert_eq!(finished.code, 1, "{}", finished.stderr);
    let out = &finished.stdout;
    let table_end = out.find("══ alpha").expect("alpha section");
    let table = &out[..table_end];
    for column in [
        "target",
        "verdict",
        "root cause",
        "duration",
        "alpha",
        "beta",
    ] {
        assert!(
            table.contains(column),
            "{column} not in the summary:\n{table}"
        );
    }
    assert!(
        out.find("══ beta").is_some_and(|beta| beta > table_end),
        "{out}"
    );
    // --read-only applies to every target: nothing was written anywhere.
    assert!(healthy.emulator.audit_log().is_empty());
    assert!(locked.emulator.audit_log().is_empty());
}

#[test]
fn the_example_targets_file_is_valid_and_one_instance_flags_are_refused() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/targets.toml");
    let finished = run_fleet(&example, &[], &["--bundle", "x.zip"]);
    assert_eq!(finished.code, 2);
    assert!(finished.stderr.contains("--bundle"), "{}", finished.stderr);
    let finished = run_fleet(&example, &[], &["--format", "html"]);
    assert_eq!(finished.code, 2);
    assert!(
        finished.stderr.contains("--report-dir"),
        "{}",
        finished.stderr
    );
    // Parsed and valid: without the variables, every target is a usage error of its own.
    let finished = run_fleet(&example, &[], &["--format", "json"]);
    assert_eq!(finished.code, 2, "{}", finished.stderr);
    let fleet: Value = serde_json::from_str(&finished.stdout).expect("fleet JSON");
    assert_eq!(
        fleet["summary"]["targets"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(fleet["runs"].as_array().map(Vec::len), Some(0));
}
