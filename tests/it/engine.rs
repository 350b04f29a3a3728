//! The diagnosis engine through the binary: catalogue, selection, exit codes, manifests.

use crate::support::{Finished, snowdoctor, write};

#[test]
fn list_and_explain_print_the_catalogue() {
    let out = Finished::from(snowdoctor().arg("list").output().expect("runs"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for id in ["connectivity", "diagnosing-account", "instance-version"] {
        assert!(out.stdout.contains(id), "list lacks {id}:\n{}", out.stdout);
    }
    let out = Finished::from(
        snowdoctor()
            .args(["explain", "instance-version"])
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Kingston"));
    assert!(out.stdout.contains("What it reads"));
    assert!(out.stdout.contains("How to fix a failure"));
}

#[test]
fn unknown_check_id_is_a_usage_error() {
    let out = Finished::from(
        snowdoctor()
            .args(["explain", "no-such-check"])
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown check id"), "{}", out.stderr);
    let out = run_as_admin(
        "https://127.0.0.1:9",
        Some("irrelevant-pass"),
        &["--only", "no-such-check"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown check or area"),
        "{}",
        out.stderr
    );
}

/// `snowdoctor run --instance INSTANCE --user admin ARGS…`, with `password` as SNOWDOCTOR_PASSWORD.
fn run_as_admin(instance: &str, password: Option<&str>, args: &[&str]) -> Finished {
    let mut cmd = snowdoctor();
    cmd.args(["run", "--instance", instance, "--user", "admin"])
        .args(args);
    if let Some(password) = password {
        cmd.env("SNOWDOCTOR_PASSWORD", password);
    }
    Finished::from(cmd.output().expect("runs"))
}

/// A builtin-probe check manifest whose line 7 is `line7` (the line the errors must point at).
fn manifest(id: &str, line7: &str) -> String {
    format!(
        "id = \"{id}\"\ntitle = \"t\"\narea = \"app\"\nseverity = \"error\"\ndescription = \"d\"\nremediation = \"r\"\n{line7}\n[probe]\nbuiltin = \"connectivity\"\n"
    )
}

/// `snowdoctor list --checks-dir DIR`.
fn list_checks_dir(dir: &std::path::Path) -> Finished {
    Finished::from(
        snowdoctor()
            .args(["list", "--checks-dir"])
            .arg(dir)
            .output()
            .expect("runs"),
    )
}

#[test]
fn invalid_manifests_are_rejected_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "unknown-key.toml",
            manifest("x-check", "bogus = 1"),
            "unknown-key.toml:7",
        ),
        (
            "bad-dep.toml",
            manifest("y-check", "depends_on = [\"nope\"]"),
            "bad-dep.toml:7",
        ),
    ];
    for (name, text, expected) in cases {
        let case_dir = dir.path().join(name.trim_end_matches(".toml"));
        std::fs::create_dir_all(&case_dir).expect("mkdir");
        write(&case_dir, name, &text);
        let out = list_checks_dir(&case_dir);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "{name}: expected {expected:?} in {}",
            out.stderr
        );
    }
    // A cycle between two checks.
    let cycle = dir.path().join("cycle");
    std::fs::create_dir_all(&cycle).expect("mkdir");
    for (id, dep) in [("a-check", "b-check"), ("b-check", "a-check")] {
        write(
            &cycle,
            &format!("{id}.toml"),
            &manifest(id, &format!("depends_on = [\"{dep}\"]")),
        );
    }
    let out = list_checks_dir(&cycle);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("dependency cycle") && out.stderr.contains(".toml:7"),
        "{}",
        out.stderr
    );
}

#[test]
fn checks_dir_adds_a_declarative_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "admin-exists.toml",
        r#"
id = "admin-exists"
title = "An admin account exists"
area = "privileges"
severity = "warning"
depends_on = ["diagnosing-account"]
description = "d"
remediation = "Create an admin."
[probe]
table = "sys_user"
query = "user_name=admin"
fields = ["user_name", "active"]
[[probe.assert]]
field = "active"
equals = "true"
message = "the admin account is inactive"
"#,
    );
    let out = Finished::from(
        snowdoctor()
            .args(["explain", "admin-exists", "--checks-dir"])
            .arg(dir.path())
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("sys_user where user_name=admin"),
        "{}",
        out.stdout
    );
}

#[test]
fn malformed_instance_urls_are_usage_errors_without_secrets() {
    for url in [
        "acme",
        "ftp://acme",
        "http://acme.example.com",
        "https://admin:hunter2x@acme.example.com",
    ] {
        let out = run_as_admin(url, Some("canary-pass-123"), &[]);
        assert_eq!(out.code, 2, "{url}: {}", out.stderr);
        assert!(
            out.stderr.contains("invalid instance URL"),
            "{url}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("hunter2x") && !out.stderr.contains("canary-pass-123"));
    }
}

#[test]
fn missing_password_is_a_clear_usage_error() {
    let out = run_as_admin("https://acme.service-now.com", None, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("SNOWDOCTOR_PASSWORD"), "{}", out.stderr);
}

#[test]
fn an_unreachable_instance_cannot_be_assessed() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    let out = run_as_admin(
        "https://127.0.0.1:9",
        Some("pass-1234"),
        &["--format", "json", "--connect-timeout", "2"],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    let report = out.report();
    report.assert_status("connectivity", "fail");
    report.assert_status("diagnosing-account", "blocked");
    assert_eq!(
        report.check("diagnosing-account")["blocked_by"][0],
        "connectivity"
    );
    assert_eq!(report.root_causes(), vec!["connectivity".to_string()]);
}

#[test]
fn a_wrong_probe_key_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = "id = \"p-check\"\ntitle = \"t\"\narea = \"app\"\nseverity = \"error\"\ndescription = \"d\"\nremediation = \"r\"\n[probe]\n";
    let cases = [
        (
            "builtin-extra",
            "builtin = \"connectivity\"\nquery = \"active=true\"\n",
            &["p-check.toml:9", "remove `query`"][..],
        ),
        (
            "neither",
            "tabel = \"sys_user\"\n",
            &["p-check.toml:7", "either `builtin", "tabel"][..],
        ),
        (
            "table-typo",
            "table = \"sys_user\"\nfieldz = [\"name\"]\n",
            &["p-check.toml:9", "unknown field `fieldz`"][..],
        ),
    ];
    for (case, probe, expected) in cases {
        let case_dir = dir.path().join(case);
        std::fs::create_dir_all(&case_dir).expect("mkdir");
        write(&case_dir, "p-check.toml", &format!("{head}{probe}"));
        let out = list_checks_dir(&case_dir);
        assert_eq!(out.code, 2, "{case}: {}", out.stderr);
        assert!(
            !out.stderr.contains("untagged enum"),
            "{case}: serde's generic message: {}",
            out.stderr
        );
        for part in expected {
            assert!(
                out.stderr.contains(part),
                "{case}: {part:?} in {}",
                out.stderr
            );
        }
    }
}

#[test]
fn a_missing_checks_dir_is_an_error_not_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = list_checks_dir(&dir.path().join("nodir"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("nodir"), "{}", out.stderr);
}
