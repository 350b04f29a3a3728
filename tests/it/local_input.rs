//! Local input files through the binary: the rules CSV is trimmed and validated (spaces after commas,
//! a duplicated column), every local file is capped and must be a regular file (no hang on a FIFO, no
//! memory exhaustion on `/dev/zero`), and `--ca-cert` must hold PEM certificates — all refused before
//! any request.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::hostile_server::{HostileServer, json};
use crate::support::{Finished, snowdoctor, write};

fn sample_tags() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/azure/ServiceTags_Sample.json")
}

fn ranges_json(rules: &Path) -> Finished {
    let out = snowdoctor()
        .arg("ranges")
        .arg("--service-tags")
        .arg(sample_tags())
        .arg("--rules")
        .arg(rules)
        .args(["--service-ip", "192.0.2.7", "--json"])
        .output()
        .expect("runs");
    Finished::from(out)
}

#[test]
fn a_csv_deny_rule_with_spaces_after_the_commas_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = write(
        dir.path(),
        "rules.csv",
        "range_start, range_end, type, flow, active\n0.0.0.0, 255.255.255.255, deny, inbound, true\n",
    );
    let out = ranges_json(&rules);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let body: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(body["addresses"][0]["status"], "blocked", "{}", out.stdout);
}

#[test]
fn a_duplicated_csv_column_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = write(
        dir.path(),
        "rules.csv",
        "range_start,range_end,type,flow,active,type\n0.0.0.0,255.255.255.255,deny,inbound,true,allow\n",
    );
    let out = ranges_json(&rules);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("\"type\" twice"), "{}", out.stderr);
}

/// `snowdoctor run` against a request counter with `args`; returns the run, its requests and time.
fn run_counted(args: &[&str]) -> (Finished, usize, Duration) {
    let server = HostileServer::start(|_, _| json(200, r#"{"result":[]}"#));
    let started = Instant::now();
    let out = snowdoctor()
        .args(["run", "--instance", &server.url(), "--user", "admin"])
        .args(["--format", "json", "--no-progress"])
        .args(args)
        .env("SNOWDOCTOR_PASSWORD", "canary-pw-Local1x")
        .timeout(Duration::from_secs(30))
        .output()
        .expect("runs");
    (
        Finished::from(out),
        server.requests().len(),
        started.elapsed(),
    )
}

fn assert_refused(args: &[&str], needle: &str) {
    let (out, requests, took) = run_counted(args);
    assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    assert_eq!(requests, 0, "{args:?}: a request was sent");
    assert!(took < Duration::from_secs(20), "{args:?} took {took:?}");
    assert!(
        out.stderr.contains(needle),
        "{args:?}: stderr lacks {needle:?}:\n{}",
        out.stderr
    );
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_huge_files_are_refused_without_hanging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let fifo = fifo.to_str().expect("utf-8").to_string();
    assert_refused(&["--config", &fifo], "not a regular file");
    assert_refused(&["--password-file", &fifo], "not a regular file");
    assert_refused(&["--config", "/dev/zero"], "not a regular file");
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).expect("mkdir");
    let made = std::process::Command::new("mkfifo")
        .arg(checks.join("probe.toml"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    assert_refused(
        &["--checks-dir", checks.to_str().expect("utf-8")],
        "not a regular file",
    );
    let huge = dir.path().join("huge.toml");
    std::fs::File::create(&huge)
        .expect("create")
        .set_len(17 * 1024 * 1024)
        .expect("sparse file");
    assert_refused(&["--config", huge.to_str().expect("utf-8")], "16 MB");

    let out = snowdoctor()
        .arg("ranges")
        .arg("--service-tags")
        .arg(sample_tags())
        .args(["--rules", &fifo])
        .timeout(Duration::from_secs(30))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_ca_cert_that_is_not_a_certificate_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = write(dir.path(), "empty.pem", "");
    let garbage = write(dir.path(), "garbage.pem", "this is not a certificate\n");
    let key = write(
        dir.path(),
        "key.pem",
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGZhbHNlIGtleSBmb3IgYSB0ZXN0IG9ubHkgISEhISE=\n-----END PRIVATE KEY-----\n",
    );
    let broken = write(
        dir.path(),
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    );
    for (path, needle) in [
        (&empty, "empty"),
        (&garbage, "no PEM certificate"),
        (&key, "private key"),
        (&broken, "not a usable X.509 certificate"),
    ] {
        assert_refused(&["--ca-cert", path.to_str().expect("utf-8")], needle);
    }
}
