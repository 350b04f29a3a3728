//! `snowdoctor emulate` from an installed binary: the banner gives everything needed to diagnose the
//! emulator (accounts and test passwords, the CA file written to a default place, a ready-to-paste
//! `snowdoctor run` line that works as printed), and `--list-scenarios | head` ends quietly.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::Finished;

/// `snowdoctor emulate ARGS` with a clean environment (the runtime directory in `runtime_dir`).
fn emulate(args: &[&str], runtime_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("snowdoctor"));
    cmd.arg("emulate")
        .args(args)
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars() {
        if key.starts_with("SNOWDOCTOR_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The banner, up to "press Ctrl-C to stop" (or whatever came within 30 s).
fn banner(child: &mut Child) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let last = line.starts_with("press Ctrl-C");
            if tx.send(line).is_err() || last {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) {
        let last = line.starts_with("press Ctrl-C");
        lines.push(line);
        if last {
            break;
        }
    }
    lines
}

fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    for _ in 0..100 {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    child.wait().expect("emulator ends")
}

#[test]
fn banner_prints_credentials_the_ca_and_a_run_line_that_works_as_printed() {
    let runtime = tempfile::tempdir().expect("tempdir");
    let mut child = emulate(&["--port", "0"], runtime.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("emulate starts");
    let lines = banner(&mut child);
    let text = lines.join("\n");
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("listening on https://127.0.0.1:")),
        "{text}"
    );
    assert!(
        text.contains("diagnosing user:  admin (password "),
        "{text}"
    );
    assert!(
        !text.contains("fixtures/instances"),
        "points at a file a binary user lacks: {text}"
    );
    // The CA was written without --ca-out, to the per-user runtime directory.
    let ca_line = lines
        .iter()
        .find_map(|l| l.strip_prefix("CA certificate:"))
        .expect("CA path printed");
    let ca_path = std::path::PathBuf::from(ca_line.trim());
    assert!(ca_path.starts_with(runtime.path()), "{}", ca_path.display());
    let pem = std::fs::read_to_string(&ca_path).expect("CA written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // The two lines after "diagnose it:" are one shell command: run it as printed.
    let at = lines
        .iter()
        .position(|l| l == "diagnose it:")
        .expect("run line printed");
    let command = format!(
        "{}\n{}",
        lines[at + 1],
        lines[at + 2].replacen(
            "snowdoctor run",
            &format!(
                "'{}' run --format json",
                assert_cmd::cargo::cargo_bin("snowdoctor").display()
            ),
            1
        )
    );
    assert!(command.contains("--ca-cert"), "{command}");
    let out = Finished::from(
        Command::new("sh")
            .args(["-c", &command])
            .env("XDG_CONFIG_HOME", runtime.path().join("no-config"))
            .env("NO_COLOR", "1")
            .output()
            .expect("sh runs"),
    );
    interrupt(&mut child);
    assert_eq!(out.code, 0, "{command}\n{}\n{}", out.stdout, out.stderr);
    out.report().assert_status("oauth-connect", "pass");
    out.report().assert_status("ticket-round-trip", "pass");
}

#[test]
fn banner_names_the_profile_of_an_integration_scenario() {
    let runtime = tempfile::tempdir().expect("tempdir");
    let mut child = emulate(
        &[
            "--port",
            "0",
            "--scenario",
            "azure-monitor-itsmc",
            "--plain-http",
        ],
        runtime.path(),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("emulate starts");
    let text = banner(&mut child).join("\n");
    interrupt(&mut child);
    assert!(text.contains("--profile azure-monitor-itsmc"), "{text}");
    // Plain HTTP on loopback: no CA, and no --ca-cert in the command.
    assert!(
        !text.contains("CA certificate:") && !text.contains("--ca-cert"),
        "{text}"
    );
}

#[test]
fn list_scenarios_into_a_closed_pipe_ends_quietly() {
    let runtime = tempfile::tempdir().expect("tempdir");
    let mut child = emulate(&["--list-scenarios"], runtime.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Close the reading end at once, as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
