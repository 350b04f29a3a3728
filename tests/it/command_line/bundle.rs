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
