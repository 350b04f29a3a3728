//! Output paths are validated before the first request: a missing directory, a directory as target,
//! an existing file without `--force`, a symlink, or the bundle's mapping on a report fail at once with
//! exit 2 and no request sent; `-` is standard output; `--force` replaces a file or a symlink (never
//! writing through it).

use std::path::Path;

use crate::support::hostile_server::{HostileServer, json};
use crate::support::{Finished, demo, snowdoctor};

/// Runs `snowdoctor run` against a server that counts requests, from `cwd`.
fn run_against_counter(cwd: &Path, args: &[&str]) -> (Finished, usize) {
    let server = HostileServer::start(|_, _| json(200, r#"{"result":[]}"#));
    let out = snowdoctor()
        .current_dir(cwd)
        .args(["run", "--instance", &server.url(), "--user", "admin"])
        .args(["--format", "json", "--no-progress"])
        .args(args)
        .env("SNOWDOCTOR_PASSWORD", "canary-pw-Paths1x")
        .output()
        .expect("snowdoctor runs");
    (Finished::from(out), server.requests().len())
}

fn assert_refused_before_any_request(cwd: &Path, args: &[&str], needle: &str) {
    let (out, requests) = run_against_counter(cwd, args);
    assert_eq!(out.code, 2, "{args:?}: stderr:\n{}", out.stderr);
    assert_eq!(
        requests, 0,
        "{args:?}: a request was sent before the path was checked"
    );
    assert!(
        out.stderr.contains(needle),
        "{args:?}: stderr lacks {needle:?}:\n{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
}

#[test]
fn bad_output_paths_fail_before_the_first_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    std::fs::create_dir(cwd.join("out")).expect("mkdir");
    std::fs::write(cwd.join("old.json"), "keep me").expect("write");
    assert_refused_before_any_request(
        cwd,
        &["--report", "html=no-such-dir/r.html"],
        "does not exist",
    );
    assert_refused_before_any_request(cwd, &["--bundle", "out"], "is a directory");
    assert_refused_before_any_request(cwd, &["--report", "json=old.json"], "--force");
    assert_refused_before_any_request(
        cwd,
        &[
            "--bundle",
            "b.zip",
            "--pseudonymize",
            "--report",
            "json=b.zip.mapping.json",
        ],
        "same file",
    );
    assert_refused_before_any_request(
        cwd,
        &["--report", "json=-", "--report", "md=-"],
        "standard output",
    );
    assert_eq!(
        std::fs::read_to_string(cwd.join("old.json")).expect("kept"),
        "keep me"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_is_refused_and_with_force_replaced_never_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("outside");
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "precious").expect("write");
    let link = dir.path().join("report.json");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let report_arg = format!("json={}", link.display());
    let out = demo("healthy", &["--report", &report_arg]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("symlink"), "{}", out.stderr);
    let out = demo("healthy", &["--report", &report_arg, "--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious",
        "the symlink's target was written through"
    );
    let meta = std::fs::symlink_metadata(&link).expect("report");
    assert!(meta.is_file(), "the link was replaced by the report");
    let text = std::fs::read_to_string(&link).expect("report");
    assert!(text.contains("\"checks\""), "{text}");
}

#[test]
fn force_replaces_an_existing_report_and_dash_is_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.md");
    std::fs::write(&path, "old").expect("write");
    let arg = format!("md={}", path.display());
    let out = demo("healthy", &["--report", &arg, "--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_ne!(std::fs::read_to_string(&path).expect("md"), "old");

    let out = snowdoctor()
        .current_dir(dir.path())
        .args(["demo", "--scenario", "healthy", "--report", "json=-"])
        .output()
        .expect("runs");
    let out = Finished::from(out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.report().assert_status("connectivity", "pass");
    assert!(!dir.path().join("-").exists(), "no file named '-'");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("snowdoctor"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
