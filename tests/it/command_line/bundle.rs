//! The support bundle's `run.log` is at debug level even without `-v`, and still redacted.

use std::io::Read;

use crate::support::{Finished, snowdoctor};

#[test]
fn bundle_log_is_debug_level_and_redacted_without_verbose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("support.zip");
    let secret = "Canary-Password-7f3a9c";
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--scenario", "multi-fault", "--bundle"])
            .arg(&bundle)
            .env("SNOWDOCTOR_PASSWORD", secret)
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    // stderr stays at the default level: no request log there.
    assert!(!out.stderr.contains("exchange"), "{}", out.stderr);
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&bundle).expect("bundle")).expect("zip");
    let mut log = String::new();
    archive
        .by_name("run.log")
        .expect("run.log")
        .read_to_string(&mut log)
        .expect("utf-8");
    assert!(
        log.contains("exchange"),
        "run.log lacks the debug request log:\n{log}"
    );
    assert!(log.contains("/api/now/table/"), "{log}");
    assert!(!log.contains(secret));
}

#[test]
fn pseudonymized_bundle_keeps_the_instance_expressions_it_queried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("support.zip");
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--pseudonymize", "--bundle"])
            .arg(&bundle)
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&bundle).expect("bundle")).expect("zip");
    let mut har = String::new();
    archive
        .by_name("transcript.har")
        .expect("transcript.har")
        .read_to_string(&mut har)
        .expect("utf-8");
    // The identity query asks the instance who the caller is: it names no user to hide.
    assert!(
        har.contains("javascript%3Ags.getUserName%28%29"),
        "the identity expression was pseudonymised"
    );
    // The accounts themselves are still hidden, and nothing but real names got a pseudonym.
    assert!(!har.contains("m365.integration"), "integration user leaked");
    let mapping: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("support.zip.mapping.json")).expect("mapping"),
    )
    .expect("json");
    let originals: Vec<&str> = mapping["pseudonyms"]
        .as_object()
        .expect("pseudonyms")
        .values()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert!(originals.contains(&"m365.integration"), "{originals:?}");
    assert!(
        !originals
            .iter()
            .any(|o| o.starts_with("javascript:") || *o == "system"),
        "{originals:?}"
    );
}
