//! `snowdoctor profiles`: the built-in integration profiles, their sources, and user-defined ones.

use serde_json::Value;

use crate::support::{Finished, snowdoctor, write};

const BUILTIN: [&str; 8] = [
    "m365-security-center",
    "generic-inbound-oauth",
    "azure-monitor-itsmc",
    "copilot-servicenow-knowledge",
    "copilot-servicenow-catalog",
    "copilot-servicenow-tickets",
    "azure-pipelines-change",
    "power-platform-servicenow",
];

fn profiles(args: &[&str]) -> Finished {
    Finished::from(
        snowdoctor()
            .arg("profiles")
            .args(args)
            .output()
            .expect("runs"),
    )
}

#[test]
fn profiles_lists_every_builtin_with_direction_and_writes() {
    let out = profiles(&[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for name in BUILTIN {
        assert!(out.stdout.contains(name), "{name} missing:\n{}", out.stdout);
    }
    assert!(out.stdout.contains("m365-security-center (default)"));
    assert!(out.stdout.contains("retired"));
    assert!(out.stdout.contains("nothing (read-only)"));
    let out = profiles(&["--json"]);
    let value: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let list = value.as_array().expect("array");
    assert_eq!(list.len(), BUILTIN.len());
    let itsmc = list
        .iter()
        .find(|p| p["name"] == "azure-monitor-itsmc")
        .expect("itsmc");
    assert_eq!(itsmc["write"]["kind"], "import_set");
    assert_eq!(
        itsmc["write"]["staging_table"],
        "x_mioms_microsoft_oms_incident"
    );
    assert_eq!(itsmc["source_ranges"][0]["service_tags"][0], "ActionGroup");
    assert_eq!(itsmc["tokens"]["refresh_lifespan_min"], 7_776_000);
}

#[test]
fn show_prints_requirements_and_sources() {
    let out = profiles(&["show", "copilot-servicenow-knowledge"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "https://gcs.office.com/v1.0/admin/oauth/callback (public)",
        "https://gcsgcc.office.com/v1.0/admin/oauth/callback (gov)",
        "forbidden roles   snc_read_only",
        "52.250.92.252/30",
        "kb_knowledge",
        "Sources:\n  https://learn.microsoft.com/",
    ] {
        assert!(
            out.stdout.contains(needle),
            "{needle:?} missing:\n{}",
            out.stdout
        );
    }
    let out = profiles(&["show", "azure-pipelines-change"]);
    assert!(
        out.stdout
            .contains("GET /api/x_mioms_azpipeline/app_version?app_major_version=4 → 200"),
        "{}",
        out.stdout
    );
    let out = profiles(&["show", "m365-security-center"]);
    assert!(
        out.stdout.contains("status            retired — "),
        "{}",
        out.stdout
    );
    let out = profiles(&["show", "no-such-profile"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown profile"), "{}", out.stderr);
}

#[test]
fn a_user_defined_profile_gets_the_whole_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "snowdoctor.toml",
        r#"
[profiles.acme-sync]
integration = "ACME sync"
app_scope = "x_acme_sync"
expected_roles = ["x_acme_sync.user"]
forbidden_roles = ["snc_read_only"]
auth_kinds = ["authorization_code", "refresh_token"]
redirect_urls = [{ url = "https://acme.example/callback" }]
required_plugins = ["com.snc.change_management.core"]
read_tables = [{ table = "incident", fields = ["number"] }]
probes = [{ path = "/api/x_acme_sync/ping" }]
write = { kind = "import_set", staging_table = "x_acme_sync_import", target_table = "change_request" }
tokens = { refresh_lifespan_min = 864000 }
releases = { min = "tokyo", max = "xanadu" }

[[profiles.acme-sync.source_ranges]]
service_tags = ["AzureConnectors"]
cidrs = ["203.0.113.0/24"]
"#,
    );
    let config = config.to_string_lossy().to_string();
    let out = profiles(&["--config", &config, "show", "acme-sync", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let value: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(value["ticket_table"], "change_request");
    assert_eq!(
        value["writes"],
        "change_request via import set x_acme_sync_import"
    );
    assert_eq!(value["source_ranges"][0]["cidrs"][0], "203.0.113.0/24");
    assert_eq!(value["source_ranges"][0]["cloud"], "public");
    let out = profiles(&["--config", &config]);
    assert!(out.stdout.contains("acme-sync"), "{}", out.stdout);
    // An unknown key or a malformed range is rejected with its line.
    let bad = write(
        dir.path(),
        "bad.toml",
        "[profiles.x]\nsource_ranges = [{ cidrs = [\"300.0.0.0/8\"] }]\n",
    );
    let out = profiles(&["--config", &bad.to_string_lossy(), "show", "x"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("bad.toml:2"), "{}", out.stderr);
}
