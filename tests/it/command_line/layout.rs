//! Output sized to the terminal: `COLUMNS`, a real tty's width, 100 for files and pipes; words, ids
//! and URLs are never split; `--quiet`; help grouped by headings.

use std::time::Duration;

use super::tty::{Tmux, available, shell_line};
use crate::support::{Finished, snowdoctor};

/// Every line fits `width`, except a line made of one word too long to fit anywhere (a URL).
fn assert_fits(text: &str, width: usize) {
    for line in text.lines() {
        let len = line.chars().count();
        if len > width {
            let longest = line.split_whitespace().map(|w| w.chars().count()).max();
            assert!(
                longest.is_some_and(|l| l + 8 > width),
                "line of {len} columns in a {width}-column layout:\n{line}\n---\n{text}"
            );
        }
    }
}

/// Every check id of the catalogue appears whole (never split across lines).
fn assert_ids_whole(text: &str) {
    let list = Finished::from(
        snowdoctor()
            .args(["list", "--json"])
            .output()
            .expect("runs"),
    );
    let checks: serde_json::Value = serde_json::from_str(&list.stdout).expect("list --json");
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .collect();
    for check in checks.as_array().expect("array") {
        let id = check["id"].as_str().expect("id");
        assert!(words.contains(&id), "id {id} is not whole in:\n{text}");
    }
}

#[test]
fn columns_60_narrows_the_report_without_splitting_words() {
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "multi-fault"])
            .env("COLUMNS", "60")
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_fits(&out.stdout, 60);
    let report = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "multi-fault", "--format", "json"])
            .output()
            .expect("runs"),
    )
    .report();
    for check in report.0["checks"].as_array().expect("checks") {
        let id = check["id"].as_str().expect("id");
        assert!(
            out.stdout.lines().any(|l| l
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .any(|w| w == id)),
            "id {id} split or missing:\n{}",
            out.stdout
        );
    }
    // The summary's words stay whole: the property names the fixes cite.
    assert!(out.stdout.contains("Accessible from"), "{}", out.stdout);
}

#[test]
fn list_fits_columns_and_a_pipe_defaults_to_100() {
    for (columns, width) in [(Some("60"), 60), (Some("80"), 80), (None, 100)] {
        let mut cmd = snowdoctor();
        cmd.arg("list");
        if let Some(c) = columns {
            cmd.env("COLUMNS", c);
        }
        let out = Finished::from(cmd.output().expect("runs"));
        assert_eq!(out.code, 0);
        assert_fits(&out.stdout, width);
        assert_ids_whole(&out.stdout);
    }
}

#[test]
fn a_narrow_tty_gets_a_narrow_list_with_whole_ids() {
    if !available() {
        return;
    }
    let binary = assert_cmd::cargo::cargo_bin("snowdoctor");
    let tmux = Tmux::start(58, 200, &shell_line(&binary, &[], "list"));
    let screen = tmux.capture_when("__END__", false, Duration::from_secs(120));
    assert!(screen.contains("__END__0"), "{screen}");
    let output = screen.split("__END__").next().unwrap_or_default();
    assert_fits(output, 58);
    assert_ids_whole(output);
}

#[test]
fn quiet_prints_the_verdict_line_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "multi-fault", "-q", "--report"])
            .arg(format!("json={}", json.display()))
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(
        out.stdout.starts_with("✘ FAIL  NOT READY"),
        "{}",
        out.stdout
    );
    assert!(json.exists(), "--quiet still writes the reports");
}

#[test]
fn help_is_grouped_by_headings() {
    let out = Finished::from(snowdoctor().args(["run", "--help"]).output().expect("runs"));
    assert_eq!(out.code, 0);
    let position = |heading: &str| {
        out.stdout
            .find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("no {heading:?} heading in:\n{}", out.stdout))
    };
    let connection = position("Connection");
    assert!(out.stdout[connection..].contains("--instance"));
    for heading in [
        "Credentials",
        "Selection",
        "Output",
        "Round trip",
        "Integration",
    ] {
        position(heading);
    }
    let credentials = position("Credentials");
    let section = &out.stdout[credentials..];
    let section = &section[..section[1..].find("\n\n").map_or(section.len(), |i| i + 1)];
    assert!(section.contains("--password-file"), "{section}");
    assert!(section.contains("--client-secret-file"), "{section}");
}
