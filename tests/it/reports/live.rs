//! Reports of live runs through the binary: snapshots of every machine format on a healthy and a broken
//! scenario, re-rendering from the saved JSON, and the secret canaries.

use std::path::{Path, PathBuf};

use crate::support::canary::{self, Canary};
use crate::support::{Finished, snowdoctor};

use super::redacted_settings;

/// Formats written by file in these tests, with their file names.
const FILES: [(&str, &str); 7] = [
    ("json", "report.json"),
    ("html", "report.html"),
    ("md", "report.md"),
    ("junit", "junit.xml"),
    ("sarif", "report.sarif"),
    ("har", "transcript.har"),
    ("terminal", "report.txt"),
];

/// Runs the demo writing every format to `dir`; `extra` adds flags; `env` adds variables.
fn demo_with_reports(scenario: &str, dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Finished {
    let mut cmd = snowdoctor();
    cmd.args(["demo", "--scenario", scenario, "--format", "json"]);
    for (format, file) in FILES {
        cmd.arg("--report")
            .arg(format!("{format}={}", dir.join(file).display()));
    }
    cmd.args(extra);
    for (key, value) in env {
        cmd.env(key, value);
    }
    Finished::from(cmd.output().expect("snowdoctor runs"))
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn live_reports_are_pinned_for_a_healthy_and_a_broken_instance() {
    let mut settings = redacted_settings();
    // Run markers and generated ids differ between runs.
    settings.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[uuid]",
    );
    settings.add_filter(r"INC\d{7}", "[number]");
    settings.add_filter(r"\b[0-9a-f]{32}\b", "[sys_id]");
    settings.add_filter(
        r#""(duration_ms|execution_time)":\s*\d+"#,
        r#""$1": "[ms]""#,
    );
    for scenario in ["healthy", "multi-fault"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = demo_with_reports(scenario, dir.path(), &["--read-only"], &[]);
        assert!(out.code == 0 || out.code == 1, "{scenario}: {}", out.stderr);
        for (format, file) in [
            ("json", "report.json"),
            ("md", "report.md"),
            ("junit", "junit.xml"),
            ("sarif", "report.sarif"),
        ] {
            let text = read(dir.path().join(file));
            settings.bind(|| insta::assert_snapshot!(format!("live-{scenario}.{format}"), text));
        }
    }
}

#[test]
fn report_render_reproduces_what_the_live_run_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = demo_with_reports("multi-fault", dir.path(), &[], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // The JSON on stdout is the same report as the file.
    assert_eq!(
        out.stdout.trim_end(),
        read(dir.path().join("report.json")).trim_end()
    );
    let json = dir.path().join("report.json");
    for (format, file) in [
        ("html", "report.html"),
        ("md", "report.md"),
        ("junit", "junit.xml"),
        ("sarif", "report.sarif"),
    ] {
        let rendered = Finished::from(
            snowdoctor()
                .args(["report", "render"])
                .arg(&json)
                .args(["--format", format])
                .output()
                .expect("runs"),
        );
        assert_eq!(rendered.code, 0, "{format}: {}", rendered.stderr);
        assert_eq!(
            rendered.stdout.trim_end(),
            read(dir.path().join(file)).trim_end(),
            "report render --format {format} differs from the live run's file"
        );
    }
}

fn assert_clean(what: &str, text: &str, canaries: &[String]) {
    canary::assert_clean(what, text, canaries);
}

#[test]
fn distinctive_secrets_never_appear_in_any_output_at_any_verbosity() {
    let secrets = [
        ("SNOWDOCTOR_PASSWORD", "admin", "Canary-Admin-Pw-7781x"),
        (
            "SNOWDOCTOR_INTEGRATION_PASSWORD",
            "m365.integration",
            "Canary-Integ-Pw-3319y",
        ),
        (
            "SNOWDOCTOR_CLIENT_SECRET",
            "8f2e4a6c1b3d4e5f9a0b2c4d6e8f1a3b",
            "Canary-Client-Secret-5521z",
        ),
    ];
    let canaries = canary::forms(
        &secrets
            .iter()
            .map(|(_, user, secret)| Canary {
                user: Some(user),
                secret,
            })
            .collect::<Vec<_>>(),
    );
    let env: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(key, _, secret)| (*key, *secret))
        .collect();
    for scenario in [
        "healthy",
        "multi-fault",
        "sso-auto-redirect",
        "user-locked",
        "insert-denied",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let bundle = dir.path().join("support.zip");
        let bundle_arg = bundle.to_str().expect("utf8").to_string();
        let out = demo_with_reports(
            scenario,
            dir.path(),
            &["-vvv", "--bundle", &bundle_arg, "--pseudonymize"],
            &env,
        );
        assert!(
            out.code == 0 || out.code == 1,
            "{scenario}: exit {} {}",
            out.code,
            out.stderr
        );
        assert!(!out.stderr.is_empty(), "-vvv logs something");
        assert_clean(&format!("{scenario} stdout"), &out.stdout, &canaries);
        assert_clean(&format!("{scenario} stderr"), &out.stderr, &canaries);
        for (_, file) in FILES {
            assert_clean(
                &format!("{scenario} {file}"),
                &read(dir.path().join(file)),
                &canaries,
            );
        }
        let mapping = dir.path().join("support.zip.mapping.json");
        assert_clean(&format!("{scenario} mapping"), &read(mapping), &canaries);
        let mut archive =
            zip::ZipArchive::new(std::fs::File::open(&bundle).expect("bundle written"))
                .expect("zip");
        assert!(archive.len() >= 4, "bundle has the JSON, HTML, HAR and log");
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).expect("entry");
            let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).expect("utf8 entry");
            assert_clean(&format!("{scenario} bundle {name}"), &text, &canaries);
        }
        // The HTTP transcript shows the requests but not their secrets.
        let har = read(dir.path().join("transcript.har"));
        assert!(
            har.contains("Authorization"),
            "the HAR records the (redacted) Authorization header"
        );
        assert!(har.contains("[REDACTED]"));
    }
}

#[test]
fn a_fact_two_checks_need_is_fetched_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = demo_with_reports("healthy", dir.path(), &["--read-only"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let har: serde_json::Value =
        serde_json::from_str(&read(dir.path().join("transcript.har"))).expect("HAR is JSON");
    let entries = har["log"]["entries"].as_array().expect("entries");
    let mut seen = std::collections::HashMap::new();
    for entry in entries {
        let key = format!("{} {}", entry["request"]["method"], entry["request"]["url"]);
        *seen.entry(key).or_insert(0) += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "requests sent more than once: {repeated:?}"
    );
    // Several checks share reads (oauth_entity, sys_user, sys_properties): far fewer requests than reads.
    assert!(
        entries.len() > 10,
        "the run made its requests: {}",
        entries.len()
    );
}
