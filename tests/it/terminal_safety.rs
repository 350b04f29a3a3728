//! What reaches a terminal: escape sequences sent by the instance are shown, not obeyed, in the terminal
//! report and in Markdown; and a reader that closes the pipe early (`| head -1`) ends the command
//! quietly with status 0 (the documented choice), with no "Broken pipe" error.

use std::process::Stdio;

use crate::support::hostile_server::{HostileServer, envelope};
use crate::support::snowdoctor;

#[test]
fn escape_sequences_from_the_instance_are_made_visible() {
    let server = HostileServer::start(|_, _| {
        envelope(
            401,
            "User Not Authenticated \u{1b}[2J\u{1b}]0;pwned\u{7}",
            "Required \u{1b}[31mred",
        )
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("r.md");
    let out = snowdoctor()
        .args(["run", "--instance", &server.url(), "--user", "admin"])
        .args(["--connect-timeout", "2", "--request-timeout", "2"])
        .args(["--no-progress", "--report"])
        .arg(format!("md={}", md.display()))
        .env("SNOWDOCTOR_PASSWORD", "canary-pw-Term1x")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let markdown = std::fs::read_to_string(&md).expect("markdown written");
    for (name, text) in [
        ("terminal", stdout.as_ref()),
        ("markdown", markdown.as_str()),
    ] {
        assert!(
            !text.contains('\u{1b}'),
            "{name} carries a raw ESC:\n{text}"
        );
        assert!(!text.contains('\u{7}'), "{name} carries a raw BEL");
        assert!(text.contains("␛[2J"), "{name} shows the sequence:\n{text}");
    }
    // `--quiet` prints the verdict line alone; it names the instance's answer too.
    let quiet = snowdoctor()
        .args(["run", "--instance", &server.url(), "--user", "admin"])
        .args([
            "--connect-timeout",
            "2",
            "--request-timeout",
            "2",
            "--quiet",
        ])
        .env("SNOWDOCTOR_PASSWORD", "canary-pw-Term1x")
        .output()
        .expect("runs");
    let line = String::from_utf8_lossy(&quiet.stdout);
    assert!(
        !line.contains('\u{1b}'),
        "--quiet carries a raw ESC: {line:?}"
    );
    assert!(
        line.contains("␛[2J"),
        "--quiet shows the sequence: {line:?}"
    );
}

/// Spawns `snowdoctor ARGS`, closes its stdout at once, and returns (status, stderr).
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("snowdoctor"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let tags = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/azure/ServiceTags_Sample.json");
    let tags = tags.to_str().expect("utf-8 path").to_string();
    for args in [
        vec!["ranges", "--service-tags", tags.as_str()],
        vec!["list"],
    ] {
        let (code, stderr) = with_closed_stdout(&args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(
            !stderr.to_lowercase().contains("broken pipe"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}
