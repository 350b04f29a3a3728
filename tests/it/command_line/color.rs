//! `--color` and the environment conventions (NO_COLOR, CLICOLOR_FORCE, TERM=dumb), through the binary
//! on a pipe and, for `auto`, on a real terminal.

use std::time::Duration;

use super::tty::{Tmux, available, shell_line};
use crate::support::{Finished, snowdoctor};

const ESC: &str = "\u{1b}[";

/// Environment variables a case sets.
type Env = &'static [(&'static str, &'static str)];

/// A saved JSON report of the broken demo.
fn saved_report(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("report.json");
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "multi-fault", "--report"])
            .arg(format!("json={}", path.display()))
            .output()
            .expect("runs"),
    );
    assert!(path.exists(), "{}", out.stderr);
    path
}

#[test]
fn colour_matrix_on_a_pipe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = saved_report(dir.path());
    // (flag, environment, colour expected) — stdout is a pipe, so `auto` is off unless forced.
    let cases: &[(&str, Env, bool)] = &[
        ("auto", &[], false),
        ("auto", &[("CLICOLOR_FORCE", "1")], true),
        ("auto", &[("CLICOLOR_FORCE", "0")], false),
        ("auto", &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], false),
        ("always", &[], true),
        ("always", &[("NO_COLOR", "1"), ("TERM", "dumb")], true),
        ("never", &[("CLICOLOR_FORCE", "1")], false),
    ];
    for (flag, env, expected) in cases {
        let mut cmd = snowdoctor();
        cmd.env_remove("NO_COLOR").env("TERM", "xterm-256color");
        cmd.args(["report", "render", "--format", "terminal", "--color", flag])
            .arg(&report);
        for (key, value) in *env {
            cmd.env(key, value);
        }
        let out = Finished::from(cmd.output().expect("runs"));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stdout.contains(ESC),
            *expected,
            "--color {flag} with {env:?}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn run_honours_color_always() {
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "healthy", "--color", "always"])
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(ESC), "{}", out.stdout);
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "healthy"])
            .output()
            .expect("runs"),
    );
    assert!(!out.stdout.contains(ESC), "{}", out.stdout);
}

#[test]
fn auto_colours_a_terminal_unless_dumb_or_no_color() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let report = saved_report(dir.path());
    let binary = assert_cmd::cargo::cargo_bin("snowdoctor");
    let args = format!("report render --format terminal {}", report.display());
    let cases: &[(Env, bool)] = &[
        (&[], true),
        (&[("TERM", "dumb")], false),
        (&[("NO_COLOR", "1")], false),
    ];
    for (env, expected) in cases {
        let tmux = Tmux::start(100, 200, &shell_line(&binary, env, &args));
        let screen = tmux.capture_when("__END__", true, Duration::from_secs(120));
        assert!(screen.contains("__END__0"), "{screen}");
        let output = screen.split("__END__").next().unwrap_or_default();
        assert_eq!(output.contains(ESC), *expected, "{env:?}:\n{output}");
    }
}
