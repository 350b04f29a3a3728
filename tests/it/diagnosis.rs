//! Full diagnoses through the binary against the emulator: `demo` (embedded) and `run` (in-process
//! emulator in the test, reached like any instance).

use secrecy::ExposeSecret;

use crate::support::{EmulatorRun, Finished, demo, snowdoctor, write};

#[test]
fn healthy_demo_passes_every_engine_check() {
    let out = demo("healthy", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.report();
    for id in [
        "connectivity",
        "diagnosing-account",
        "instance-version",
        "ip-allowlist",
    ] {
        report.assert_status(id, "pass");
    }
    assert!(report.summary("instance-version").contains("Brazil"));
    assert_eq!(report.0["verdict"]["status"], "pass");
}

#[test]
fn old_release_fails_with_the_kingston_remedy() {
    let out = demo("old-release", &["--only", "instance-version"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("instance-version", "fail");
    assert!(report.summary("instance-version").contains("Jakarta"));
    assert!(
        report
            .remediation("instance-version")
            .contains("Upgrade the instance to Kingston")
    );
    assert_eq!(report.root_causes(), vec!["instance-version".to_string()]);
}

#[test]
fn version_is_found_through_stats_pages_and_unknown_newer_families_pass() {
    let out = demo("version-stats-only", &["--only", "instance-version"]);
    let report = out.report();
    report.assert_status("instance-version", "pass");
    let evidence = report.check("instance-version")["evidence"].to_string();
    assert!(evidence.contains("stats.do"), "{evidence}");
    assert!(
        evidence.contains("none with a usable build tag"),
        "the properties were tried first: {evidence}"
    );
    let out = demo("version-unknown-family", &["--only", "instance-version"]);
    let report = out.report();
    report.assert_status("instance-version", "pass");
    assert!(
        report
            .summary("instance-version")
            .contains("newer than every family")
    );
}

#[test]
fn hibernating_and_interstitial_instances_cannot_be_assessed() {
    for (scenario, words) in [
        ("hibernating", "hibernating"),
        ("interstitial", "interstitial"),
    ] {
        let out = demo(scenario, &[]);
        assert_eq!(out.code, 3, "{scenario}: {}", out.stderr);
        let report = out.report();
        report.assert_status("connectivity", "fail");
        assert!(
            report.summary("connectivity").contains(words),
            "{}",
            report.summary("connectivity")
        );
        // Every dependant is blocked and names its blocker.
        report.assert_status("diagnosing-account", "blocked");
        report.assert_status("instance-version", "blocked");
        assert_eq!(
            report.check("instance-version")["blocked_by"][0],
            "diagnosing-account"
        );
        assert_eq!(report.root_causes(), vec!["connectivity".to_string()]);
    }
}

#[test]
fn a_blocked_caller_is_told_apart_from_an_acl_problem() {
    let out = demo("caller-blocked", &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let report = out.report();
    report.assert_status("connectivity", "fail");
    assert!(
        report
            .summary("connectivity")
            .contains("IP Address Access Control")
    );
    assert!(
        report
            .remediation("connectivity")
            .contains("not an ACL problem")
    );
}

#[test]
fn run_against_a_separately_started_emulator_and_a_wrong_password() {
    let lab = EmulatorRun::start("healthy");
    let emulator = &lab.emulator;
    let ok = lab.run_json(&["--only", "version"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    ok.report().assert_status("instance-version", "pass");
    let wrong = Finished::from(
        lab.command()
            .args(["--format", "json", "--only", "version"])
            .env("SNOWDOCTOR_PASSWORD", "definitely-wrong-password")
            .output()
            .expect("runs"),
    );
    assert_eq!(wrong.code, 3, "{}", wrong.stderr);
    let report = wrong.report();
    report.assert_status("diagnosing-account", "fail");
    assert!(
        report
            .summary("diagnosing-account")
            .contains("authentication failed")
    );
    report.assert_status("instance-version", "blocked");
    // The emulator saw no write at all: diagnosing only reads.
    assert!(
        emulator.audit_log().is_empty(),
        "{:?}",
        emulator.audit_log().len()
    );
}

#[test]
fn untrusted_certificates_are_refused_without_a_ca() {
    let lab = EmulatorRun::start("healthy");
    let emulator = &lab.emulator;
    let out = Finished::from(
        snowdoctor()
            .args([
                "run",
                "--instance",
                &emulator.base_url(),
                "--user",
                "admin",
                "--format",
                "json",
                "--only",
                "connectivity",
            ])
            .env("SNOWDOCTOR_PASSWORD", "whatever-pass")
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    let report = out.report();
    report.assert_status("connectivity", "fail");
    assert!(
        report.remediation("connectivity").contains("--ca-cert"),
        "{}",
        report.remediation("connectivity")
    );
}

#[test]
fn ip_allowlist_scenarios_and_the_csv_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No filtering at all.
    let report = demo("ip-no-filtering", &["--only", "ip-allowlist"]).report();
    report.assert_status("ip-allowlist", "pass");
    assert!(report.summary("ip-allowlist").contains("no IP filtering"));
    // Deny-all with a corporate allow: every Azure prefix blocked, repair exported.
    let csv = dir.path().join("deny-all.csv");
    let out = demo(
        "ip-deny-all",
        &[
            "--only",
            "ip-allowlist",
            "--export-allow-rules",
            csv.to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("ip-allowlist", "fail");
    assert!(report.remediation("ip-allowlist").contains("Allow rules"));
    let text = std::fs::read_to_string(&csv).expect("CSV written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "type,flow,active,range_start,range_end,description"
    );
    // The sample's nine merged IPv4 ranges minus nothing allowed: all are exported, IPv6 untouched.
    assert!(lines.contains(&"allow,inbound,true,52.149.128.0,52.149.255.255,snowdoctor: Azure range for Microsoft 365 security center ServiceNow ticket connector (x_mioms_m365ticket)"), "{text}");
    assert_eq!(lines.len(), 1 + 8, "{text}");
    // Partial allows: only the missing ranges are exported.
    let csv = dir.path().join("partial.csv");
    let report = demo(
        "ip-partial-allow",
        &[
            "--only",
            "ip-allowlist",
            "--export-allow-rules",
            csv.to_str().expect("utf8"),
        ],
    )
    .report();
    report.assert_status("ip-allowlist", "fail");
    let text = std::fs::read_to_string(&csv).expect("CSV written");
    assert!(
        !text.contains("52.149.128.0"),
        "already allowed ranges are not exported: {text}"
    );
    assert!(text.contains("40.83."), "{text}");
    // Allows covering everything (with malformed, inactive and outbound-only rows ignored).
    let report = demo("ip-azure-allowed", &["--only", "ip-allowlist"]).report();
    report.assert_status("ip-allowlist", "pass");
    let evidence = report.check("ip-allowlist")["evidence"].to_string();
    assert!(
        evidence.contains("ignored"),
        "malformed or ignored rules are listed: {evidence}"
    );
    // Without --service-tags the embedded Public snapshot decides (tests/it/ip_allowlist.rs); with
    // an unreadable file the check cannot decide, but still reports the deny rule.
    let absent = dir.path().join("absent.json");
    let out = EmulatorRun::start("ip-deny-all").run_json(&[
        "--only",
        "ip-allowlist",
        "--service-tags",
        absent.to_str().expect("utf8"),
    ]);
    let report = out.report();
    report.assert_status("ip-allowlist", "inconclusive");
    assert!(report.summary("ip-allowlist").contains("Deny rule"));
    assert!(
        report.check("ip-allowlist")["evidence"]
            .to_string()
            .contains("absent.json")
    );
    assert!(
        report
            .remediation("ip-allowlist")
            .contains("details.aspx?id=56519")
    );
}

#[test]
fn a_non_admin_account_makes_restricted_checks_inconclusive_not_failed() {
    let report = demo("non-admin", &["--only", "ip-allowlist"]).report();
    report.assert_status("ip-allowlist", "inconclusive");
    assert!(report.summary("ip-allowlist").contains("admin"));
}

#[test]
fn a_profile_from_a_config_file_changes_what_the_checks_expect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "snowdoctor.toml",
        r#"
[defaults]
profile = "other-integration"

[profiles.other-integration]
description = "A generic inbound integration run as another user"
app_scope = ""
integration_user = "itil.viewer"
expected_roles = ["x_mioms_m365ticket.user"]
"#,
    );
    let config = config.to_str().expect("utf8");
    // The demo fills in the emulator's integration user unless told otherwise, so name it explicitly.
    let out = demo(
        "healthy",
        &[
            "--config",
            config,
            "--integration-user",
            "itil.viewer",
            "--only",
            "integration-user,connector-app",
        ],
    );
    let report = out.report();
    assert_eq!(report.0["profile"], "other-integration");
    report.assert_status("connector-app", "skipped");
    report.assert_status("integration-user", "fail");
    assert!(
        report
            .summary("integration-user")
            .contains("x_mioms_m365ticket.user"),
        "{}",
        report.summary("integration-user")
    );
    // An unknown profile is a usage error naming the known ones.
    let out = demo("healthy", &["--profile", "nope"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("m365-security-center"),
        "{}",
        out.stderr
    );
}

/// The platform applies `sysparm_limit` before ACLs: a page can come back short or empty while more
/// readable rows follow. The client must keep paging up to `X-Total-Count`, not stop at a short page.
#[test]
fn acl_filtered_short_pages_do_not_end_a_read_early() {
    use snowdoctor::secrets::SecretRegistry;
    use snowdoctor::servicenow::{Auth, Client, ClientOptions, TableQuery};

    let lab = EmulatorRun::start("non-admin");
    let emulator = &lab.emulator;
    let creds = emulator.credentials();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let read = |page_size: usize, order: &str| {
        let mut options = ClientOptions::new(emulator.base_url());
        options.ca_cert_pem = emulator.ca_pem().map(String::into_bytes);
        options.page_size = page_size;
        let client = Client::new(options).expect("client");
        let auth = Auth::basic(&creds.user, creds.password.clone(), &SecretRegistry::new());
        let query = TableQuery::new("sys_user_has_role")
            .query(order)
            .fields(["user", "role"]);
        runtime
            .block_on(client.table_list(&auth, &query))
            .expect("readable")
    };
    // One big page sees every row the account may read (its own role grants).
    let whole = read(10_000, "ORDERBYuser");
    assert!(!whole.rows.is_empty(), "the account sees its own role rows");
    let total = whole.total.expect("X-Total-Count");
    assert!(
        total > whole.rows.len() as u64,
        "ACLs hide most rows: {total} vs {}",
        whole.rows.len()
    );
    // One-row pages, most of them empty after ACL filtering, find the same rows — whether the
    // readable rows sort first or last (the account's own rows are contiguous when ordered by user).
    for order in ["ORDERBYuser", "ORDERBYDESCuser"] {
        let paged = read(1, order);
        assert_eq!(paged.rows.len(), whole.rows.len(), "{order}");
    }
}

/// A client secret that is not the entity's: the token request is refused, and `oauth-connect` fails
/// naming the wrong client secret (a code no scenario reaches, since a scenario cannot make the
/// operator's input wrong), while every configuration check still passes.
#[test]
fn a_wrong_client_secret_fails_the_connect_with_its_own_code() {
    let lab = EmulatorRun::start("healthy");
    let creds = lab.emulator.credentials();
    let run = |secret: &str| {
        Finished::from(
            lab.command()
                .args(["--format", "json", "--read-only", "--no-progress"])
                .args(["--integration-user", &creds.integration_user])
                .args(["--oauth-entity", &creds.oauth_entity])
                .args(["--client-id", &creds.client_id])
                .env(
                    "SNOWDOCTOR_INTEGRATION_PASSWORD",
                    creds.integration_password.expose_secret(),
                )
                .env("SNOWDOCTOR_CLIENT_SECRET", secret)
                .output()
                .expect("runs"),
        )
    };
    let right = run(creds.client_secret.expose_secret());
    right.report().assert_status("oauth-connect", "pass");
    let wrong = run("not-the-entity-secret-9Zq");
    assert_eq!(wrong.code, 1, "{}", wrong.stderr);
    let report = wrong.report();
    report.assert_status("oauth-connect", "fail");
    report.assert_status("oauth-entity", "pass");
    report.assert_status("integration-user", "pass");
    let codes = report.check("oauth-connect")["codes"].to_string();
    assert!(
        codes.contains("oauth-connect/wrong-client-secret"),
        "codes: {codes}"
    );
    assert!(
        !wrong.stdout.contains("not-the-entity-secret-9Zq"),
        "the wrong secret is still a secret"
    );
}

/// A profile whose ticket table the instance does not have: the round trip's create is refused, and
/// `ticket-round-trip` fails with its own code (no scenario removes a table, so only a profile reaches it).
#[test]
fn a_ticket_table_the_instance_lacks_fails_the_round_trip_with_its_own_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "snowdoctor.toml",
        r#"
[profiles.missing-table]
description = "The connector, writing to a table this instance does not have"
app_scope = "x_mioms_m365ticket"
ticket_table = "u_no_such_ticket_table"
"#,
    );
    let config = config.to_str().expect("utf8");
    let out = demo(
        "healthy",
        &["--config", config, "--profile", "missing-table"],
    );
    let report = out.report();
    assert_eq!(report.0["profile"], "missing-table", "{}", out.stderr);
    report.assert_status("oauth-connect", "pass");
    report.assert_status("ticket-round-trip", "fail");
    let codes = report.check("ticket-round-trip")["codes"].to_string();
    assert!(
        codes.contains("ticket-round-trip/no-table"),
        "codes: {codes}"
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
}
