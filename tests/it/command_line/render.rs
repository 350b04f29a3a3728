//! `report render` through the binary: byte-identical to the live run's files, HAR and unknown schema
//! versions refused.

use crate::support::{Finished, snowdoctor};

#[test]
fn render_is_byte_identical_to_the_live_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let formats = ["json", "terminal", "junit", "sarif", "md", "html"];
    let mut cmd = snowdoctor();
    cmd.args(["demo", "--scenario", "multi-fault"]);
    for format in formats {
        cmd.arg("--report")
            .arg(format!("{format}={}", dir.path().join(format).display()));
    }
    let out = Finished::from(cmd.output().expect("runs"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json = dir.path().join("json");
    for format in formats {
        let live = std::fs::read(dir.path().join(format)).expect("live file");
        let rendered = snowdoctor()
            .args(["report", "render", "--format", format])
            .arg(&json)
            .output()
            .expect("runs");
        assert!(rendered.status.success(), "{format}");
        assert!(
            live == rendered.stdout,
            "{format}: render differs from the live file ({} vs {} bytes)",
            live.len(),
            rendered.stdout.len()
        );
    }
}

#[test]
fn render_refuses_har_and_unknown_schema_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("r.json");
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "healthy", "--report"])
            .arg(format!("json={}", json.display()))
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let har = Finished::from(
        snowdoctor()
            .args(["report", "render", "--format", "har"])
            .arg(&json)
            .output()
            .expect("runs"),
    );
    assert_eq!(har.code, 2);
    assert!(har.stdout.is_empty());
    assert!(har.stderr.contains("no HTTP transcript"), "{}", har.stderr);
    assert!(har.stderr.contains("--report har=PATH"), "{}", har.stderr);

    let text = std::fs::read_to_string(&json).expect("read");
    let future = dir.path().join("future.json");
    std::fs::write(
        &future,
        text.replacen(
            &format!(
                "\"schema_version\": \"{}\"",
                snowdoctor::model::REPORT_SCHEMA_VERSION
            ),
            "\"schema_version\": \"99.0\"",
            1,
        ),
    )
    .expect("write");
    let out = Finished::from(
        snowdoctor()
            .args(["report", "render", "--format", "md"])
            .arg(&future)
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("\"99.0\""), "{}", out.stderr);
    assert!(out.stderr.contains("reads schema 1.x"), "{}", out.stderr);
}
