//! The real OAuth connect and the ticket round trip, through the binary against an emulator in the test
//! process: diagnoses per scenario, a fault matrix on every write step, an interrupt after the create,
//! `snowdoctor cleanup`, and the audit log proving the run writes nothing but its own test records.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use snowdoctor::emulator::{Emulator, Fault, FaultKind};

use crate::support::{EmulatorRun, Finished, Report, round_trip_command, write};

const INCIDENT: &str = "/api/now/table/incident";

/// An emulator, its CA file, and how to run the binary against it.
struct Lab {
    emu: Emulator,
    _dir: tempfile::TempDir,
    ca: PathBuf,
}

impl Lab {
    fn start(scenario: &str) -> Lab {
        let EmulatorRun { emulator, ca, dir } = EmulatorRun::start(scenario);
        Lab {
            emu: emulator,
            _dir: dir,
            ca,
        }
    }

    /// `--instance URL --user USER --ca-cert CA` for this emulator.
    fn target(&self) -> [OsString; 6] {
        [
            "--instance".into(),
            self.emu.base_url().into(),
            "--user".into(),
            self.emu.credentials().user.into(),
            "--ca-cert".into(),
            self.ca.clone().into(),
        ]
    }

    /// `snowdoctor run … --only oauth-connect,ticket-round-trip --format json EXTRA…` as a std Command.
    fn command(&self, extra: &[&str], client_secret: Option<&str>) -> Command {
        round_trip_command(
            &self.emu.credentials(),
            client_secret,
            &self.target(),
            extra,
        )
    }

    fn run(&self, extra: &[&str]) -> Finished {
        self.run_with_secret(extra, None)
    }

    fn run_with_secret(&self, extra: &[&str], client_secret: Option<&str>) -> Finished {
        let output = self
            .command(extra, client_secret)
            .stdin(Stdio::null())
            .output()
            .expect("snowdoctor runs");
        Finished::from(output)
    }

    /// `snowdoctor cleanup` against this emulator.
    fn cleanup(&self, extra: &[&str]) -> Finished {
        let creds = self.emu.credentials();
        let output = crate::support::snowdoctor()
            .env("SNOWDOCTOR_PASSWORD", creds.password.expose_secret())
            .arg("cleanup")
            .args(self.target())
            .args(extra)
            .output()
            .expect("snowdoctor cleanup runs");
        Finished::from(output)
    }

    /// Incident rows carrying a snowdoctor marker.
    fn marked(&self) -> Vec<Map<String, Value>> {
        self.emu
            .rows("incident")
            .into_iter()
            .filter(|r| {
                let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                text("short_description").contains("[snowdoctor:")
                    || text("description").contains("[snowdoctor:")
                    || text("correlation_id").starts_with("snowdoctor-")
            })
            .collect()
    }

    /// Every write must touch a record the run itself created (a POST in the same log).
    fn assert_only_own_writes(&self) {
        let log = self.emu.audit_log();
        let created: HashSet<&str> = log
            .iter()
            .filter(|e| e.method == "POST")
            .map(|e| e.sys_id.as_str())
            .collect();
        for entry in &log {
            assert_eq!(
                entry.table, "incident",
                "write outside the ticket table: {entry:?}"
            );
            assert!(
                created.contains(entry.sys_id.as_str()),
                "write to a record the run did not create: {entry:?}"
            );
        }
    }
}

fn steps(report: &Report, id: &str) -> Vec<(String, String)> {
    report.check(id)["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap_or("").to_string(),
                        s["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn evidence(report: &Report, id: &str) -> String {
    report.check(id)["evidence"].to_string()
}

#[test]
fn healthy_instance_connects_and_round_trips() {
    let lab = Lab::start("healthy");
    let out = lab.run(&[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = out.report();
    report.assert_status("oauth-connect", "pass");
    report.assert_status("ticket-round-trip", "pass");
    let connect = steps(&report, "oauth-connect");
    assert_eq!(
        connect,
        [
            ("token request".to_string(), "pass".to_string()),
            ("token use".into(), "pass".into()),
            ("identity".into(), "pass".into()),
        ]
    );
    let names: Vec<String> = steps(&report, "ticket-round-trip")
        .into_iter()
        .map(|(n, s)| {
            assert_eq!(s, "pass", "step {n}");
            n
        })
        .collect();
    assert_eq!(
        names,
        ["create", "read back", "update", "delete", "verify gone"]
    );
    let ev = evidence(&report, "oauth-connect");
    assert!(ev.contains("m365.integration"), "{ev}");
    assert!(ev.contains("login page is reachable"), "{ev}");
    let writes = report.0["writes"].as_array().expect("writes");
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0]["state"], "deleted");
    assert!(lab.marked().is_empty());
    let log = lab.emu.audit_log();
    let methods: Vec<&str> = log.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PATCH", "DELETE"]);
    assert!(log.iter().all(|e| e.user == "m365.integration"), "{log:?}");
    lab.assert_only_own_writes();
    // No token or secret reaches the output.
    let creds = lab.emu.credentials();
    for secret in [
        creds.client_secret.expose_secret(),
        creds.integration_password.expose_secret(),
    ] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    }
}

#[test]
fn read_only_makes_no_write() {
    let lab = Lab::start("healthy");
    let out = lab.run(&["--read-only"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.report();
    report.assert_status("oauth-connect", "pass");
    report.assert_status("ticket-round-trip", "skipped");
    assert!(
        report
            .summary("ticket-round-trip")
            .contains("no ticket was written")
    );
    assert!(lab.emu.audit_log().is_empty());
}

/// The configuration checks oauth-connect depends on; skipping them runs the connect regardless.
const CONFIG_PREREQUISITES: &str = "oauth-platform,oauth-entity,oauth-grant,integration-user";

#[test]
fn token_refusals_are_explained_by_their_likely_cause() {
    // (scenario, wrong secret?, configuration check that finds it, phrase of the first ranked cause)
    let cases: [(&str, bool, Option<&str>, &str); 5] = [
        ("healthy", true, None, "client secret does not match"),
        (
            "user-locked",
            false,
            Some("integration-user"),
            "is locked out",
        ),
        (
            "user-web-service-only",
            false,
            Some("integration-user"),
            "web-service-access-only",
        ),
        (
            "ropc-disabled",
            false,
            Some("oauth-grant"),
            "password grant is disabled",
        ),
        (
            "entity-inactive",
            false,
            Some("oauth-entity"),
            "is inactive",
        ),
    ];
    for (scenario, wrong_secret, config_check, phrase) in cases {
        let lab = Lab::start(scenario);
        let secret = wrong_secret.then_some("not-the-secret-123");
        // The test's own grant switched off proves nothing either way: undecided, never a failure.
        let grant_off = scenario == "ropc-disabled";
        // With the configuration check, the proof still runs; the check that explains its refusal
        // is the one root cause.
        if let Some(config_check) = config_check {
            let out = lab.run_with_secret(&["--only", config_check], secret);
            assert_eq!(out.code, 1, "{scenario}: {}", out.stderr);
            let report = out.report();
            if grant_off {
                report.assert_status(config_check, "inconclusive");
                report.assert_status("oauth-connect", "inconclusive");
            } else {
                report.assert_status(config_check, "fail");
                report.assert_status("oauth-connect", "fail");
                assert_eq!(
                    report.root_causes(),
                    [config_check.to_string()],
                    "{scenario}"
                );
            }
            assert!(lab.emu.audit_log().is_empty(), "{scenario}: no write");
        }
        // The connect on its own (configuration checks skipped) still ranks the same cause first,
        // from the rows it reads itself.
        let out = lab.run_with_secret(&["--skip", CONFIG_PREREQUISITES], secret);
        assert_eq!(out.code, 1, "{scenario}: {}", out.stderr);
        let report = out.report();
        report.assert_status(
            "oauth-connect",
            if grant_off { "inconclusive" } else { "fail" },
        );
        let summary = report.summary("oauth-connect");
        assert!(
            grant_off || summary.contains("401"),
            "{scenario}: {summary}"
        );
        assert!(
            summary.contains(phrase),
            "{scenario}: most likely cause should mention {phrase:?}: {summary}"
        );
        let ev = evidence(&report, "oauth-connect");
        assert!(ev.contains("likely cause 1"), "{scenario}: {ev}");
        if !wrong_secret {
            assert!(
                ev.contains("client secret does not match") && ev.contains("(low)"),
                "{scenario}: the secret is ranked low when the configuration explains the refusal: {ev}"
            );
        }
        report.assert_status(
            "ticket-round-trip",
            if grant_off { "inconclusive" } else { "blocked" },
        );
        assert!(lab.emu.audit_log().is_empty(), "{scenario}: no write");
    }
}

#[test]
fn missing_secrets_are_inconclusive_and_name_the_variable() {
    let lab = Lab::start("healthy");
    let out = Finished::from(
        lab.command(&[], None)
            .env_remove("SNOWDOCTOR_CLIENT_SECRET")
            .env_remove("SNOWDOCTOR_INTEGRATION_PASSWORD")
            .output()
            .expect("runs"),
    );
    let report = out.report();
    report.assert_status("oauth-connect", "inconclusive");
    let fix = report.remediation("oauth-connect");
    assert!(fix.contains("SNOWDOCTOR_CLIENT_SECRET"), "{fix}");
    assert!(fix.contains("SNOWDOCTOR_INTEGRATION_PASSWORD"), "{fix}");
    assert!(lab.emu.audit_log().is_empty());
}

#[test]
fn ticket_problems_are_diagnosed_with_their_cause() {
    let lab = Lab::start("insert-denied");
    let out = lab.run(&[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("oauth-connect", "pass");
    report.assert_status("ticket-round-trip", "fail");
    let summary = report.summary("ticket-round-trip");
    assert!(summary.contains("HTTP 403"), "{summary}");
    assert!(
        summary.contains("an ACL denied the integration user's insert on incident"),
        "{summary}"
    );
    // The fix names the roles the user already holds instead of suggesting them.
    let fix = report.remediation("ticket-round-trip");
    assert!(fix.contains("already holds itil"), "{fix}");
    assert!(!fix.contains("Give the integration user"), "{fix}");
    assert!(lab.marked().is_empty());

    let lab = Lab::start("field-not-round-trip");
    let out = lab.run(&[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("ticket-round-trip", "fail");
    let summary = report.summary("ticket-round-trip");
    assert!(summary.contains("short_description"), "{summary}");
    assert!(summary.contains("due_date"), "{summary}");
    let ev = evidence(&report, "ticket-round-trip");
    assert!(ev.contains("shifted by +5 h"), "{ev}");
    assert!(lab.marked().is_empty(), "cleanup still ran");
    lab.assert_only_own_writes();

    // A rate-limited create: the cause and the wait are named.
    let lab = Lab::start("healthy");
    lab.emu.add_fault(Fault {
        method: Some(http::Method::POST),
        path_prefix: INCIDENT.into(),
        kind: FaultKind::RateLimited,
        times: None,
    });
    let out = lab.run(&[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("ticket-round-trip", "fail");
    let summary = report.summary("ticket-round-trip");
    assert!(summary.contains("HTTP 429"), "{summary}");
    assert!(summary.contains("rate limit"), "{summary}");
    assert!(summary.contains("retry after"), "{summary}");
    assert!(
        report
            .remediation("ticket-round-trip")
            .contains("Rate Limit Rules")
    );
    assert!(lab.marked().is_empty());
    lab.assert_only_own_writes();
}

#[test]
fn a_rate_limited_instance_is_diagnosed_and_leftovers_are_reported() {
    // The scenario allows 19 API requests an hour, instance-wide: successive runs hit the limit at
    // some step. Whichever step it is, the report names the rate limit, and a record that could not be
    // removed is reported and removed by `cleanup` once the limit resets.
    let lab = Lab::start("rate-limited");
    let mut named = false;
    for _ in 0..3 {
        let out = lab.run(&[]);
        let report = out.report();
        let text = ["connectivity", "oauth-connect", "ticket-round-trip"]
            .iter()
            .map(|id| format!("{} {}", report.summary(id), report.remediation(id)))
            .collect::<String>()
            .to_lowercase();
        let leftover = report.0["writes"].to_string().contains("leftover");
        assert_eq!(leftover, !lab.marked().is_empty(), "{}", report.0["writes"]);
        if leftover {
            assert_eq!(out.code, 1, "a leftover makes the exit code non-zero");
        }
        if text.contains("rate limit") {
            named = true;
            break;
        }
    }
    assert!(named, "no run named the rate limit");
    lab.emu.set_rate_limit(None);
    let cleaned = lab.cleanup(&[]);
    assert_eq!(cleaned.code, 0, "{}", cleaned.stdout);
    assert!(lab.marked().is_empty());
    lab.assert_only_own_writes();
}

#[test]
fn delete_denied_closes_when_asked_and_is_removed_otherwise() {
    let lab = Lab::start("delete-denied");
    let out = lab.run(&["--close-if-delete-denied"]);
    let report = out.report();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // The connector never deletes tickets: who removes the test ticket is bookkeeping, not a status.
    report.assert_status("ticket-round-trip", "pass");
    assert!(steps(&report, "ticket-round-trip").contains(&("close".into(), "pass".into())));
    assert_eq!(report.0["writes"][0]["state"], "closed");
    let closed = lab.marked();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["state"], "7");
    // `cleanup` removes it (the diagnosing account may delete).
    assert_eq!(lab.cleanup(&["--dry-run"]).code, 1);
    assert_eq!(lab.marked().len(), 1, "dry run removes nothing");
    let cleaned = lab.cleanup(&[]);
    assert_eq!(cleaned.code, 0, "{}", cleaned.stdout);
    assert!(lab.marked().is_empty());
    assert_eq!(lab.cleanup(&[]).code, 0, "nothing left");

    // Without the flag, the diagnosing account removes the record.
    let out = lab.run(&[]);
    let report = out.report();
    report.assert_status("ticket-round-trip", "pass");
    assert!(lab.marked().is_empty());
    assert_eq!(report.0["writes"][0]["state"], "deleted");
    lab.assert_only_own_writes();
}

#[test]
fn fault_matrix_on_write_steps_leaves_nothing_behind() {
    let kinds = [
        FaultKind::Reset,
        FaultKind::Status(500),
        FaultKind::Timeout,
        FaultKind::RateLimited,
    ];
    let methods = [
        http::Method::POST,
        http::Method::PATCH,
        http::Method::DELETE,
    ];
    let lab = Lab::start("healthy");
    for method in &methods {
        for kind in &kinds {
            lab.emu.clear_faults();
            lab.emu.add_fault(Fault {
                method: Some(method.clone()),
                path_prefix: INCIDENT.into(),
                kind: kind.clone(),
                times: Some(1),
            });
            let out = lab.run(&["--request-timeout", "2"]);
            let case = format!("{method} × {kind:?}");
            let report = out.report();
            let status = report.check("ticket-round-trip")["status"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let leftover = report.0["writes"].to_string().contains("leftover");
            if lab.marked().is_empty() {
                assert!(!leftover, "{case}: nothing is left, so nothing is reported");
            } else {
                assert!(leftover, "{case}: a record stays but is not reported");
                assert_ne!(out.code, 0, "{case}");
                lab.emu.clear_faults();
                assert_eq!(lab.cleanup(&[]).code, 0, "{case}");
                assert!(lab.marked().is_empty(), "{case}");
            }
            if *method == http::Method::POST {
                assert_eq!(
                    status,
                    "fail",
                    "{case}: {}",
                    report.summary("ticket-round-trip")
                );
            }
            lab.assert_only_own_writes();
        }
    }
    lab.emu.clear_faults();
}

#[test]
fn a_delete_that_keeps_failing_is_reported_and_cleanup_removes_it() {
    let lab = Lab::start("healthy");
    lab.emu.add_fault(Fault {
        method: Some(http::Method::DELETE),
        path_prefix: INCIDENT.into(),
        kind: FaultKind::Status(500),
        times: None,
    });
    let out = lab.run(&[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("ticket-round-trip", "fail");
    let summary = report.summary("ticket-round-trip");
    assert!(summary.contains("could not remove"), "{summary}");
    let writes = report.0["writes"].as_array().expect("writes");
    assert_eq!(writes[0]["state"], "leftover");
    let sys_id = writes[0]["sys_id"].as_str().unwrap_or("").to_string();
    assert!(summary.contains(&sys_id), "{summary}");
    assert_eq!(lab.marked().len(), 1);
    lab.emu.clear_faults();
    let cleaned = lab.cleanup(&[]);
    assert_eq!(cleaned.code, 0, "{}", cleaned.stdout);
    assert!(cleaned.stdout.contains(&sys_id), "{}", cleaned.stdout);
    assert!(lab.marked().is_empty());
    lab.assert_only_own_writes();
}

#[test]
fn a_check_timeout_mid_round_trip_still_cleans_up() {
    let lab = Lab::start("healthy");
    lab.emu.add_fault(Fault {
        method: Some(http::Method::PATCH),
        path_prefix: INCIDENT.into(),
        kind: FaultKind::Timeout,
        times: Some(1),
    });
    let started = Instant::now();
    let out = lab.run(&["--check-timeout", "2", "--request-timeout", "90"]);
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "the timeout cut the wait short"
    );
    let report = out.report();
    report.assert_status("ticket-round-trip", "inconclusive");
    assert!(report.summary("ticket-round-trip").contains("timed out"));
    assert_eq!(
        report.0["writes"][0]["state"], "deleted",
        "{}",
        report.0["writes"]
    );
    assert!(lab.marked().is_empty());
    lab.assert_only_own_writes();
}

#[test]
fn ctrl_c_after_the_create_removes_the_record() {
    let lab = Lab::start("healthy");
    // Hold the read-back so the interrupt lands between create and delete.
    lab.emu.add_fault(Fault {
        method: Some(http::Method::GET),
        path_prefix: format!("{INCIDENT}/"),
        kind: FaultKind::Timeout,
        times: Some(1),
    });
    let child = lab
        // Long timeouts: only the interrupt can end the held read-back quickly.
        .command(
            &["--request-timeout", "120", "--check-timeout", "100"],
            None,
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(60);
    while lab.marked().is_empty() {
        assert!(Instant::now() < deadline, "the create never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let started = Instant::now();
    let output = child.wait_with_output().expect("child ends");
    assert!(
        // Generous for a loaded 2-core CI machine, still far below the 100 s the timeouts would take.
        started.elapsed() < Duration::from_secs(45),
        "interrupt handled promptly"
    );
    let out = Finished::from(output);
    assert!(out.stderr.contains("interrupted"), "{}", out.stderr);
    assert!(lab.marked().is_empty(), "the record was removed");
    let report = out.report();
    report.assert_status("ticket-round-trip", "inconclusive");
    assert!(report.summary("ticket-round-trip").contains("interrupted"));
    assert_eq!(report.0["writes"][0]["state"], "deleted");
    lab.assert_only_own_writes();
}

#[test]
fn cleanup_never_touches_records_without_the_marker() {
    use snowdoctor::servicenow::{Auth, Client, ClientOptions};
    let lab = Lab::start("healthy");
    let out = lab.cleanup(&[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("no snowdoctor records"));
    assert!(lab.emu.audit_log().is_empty());

    // Look-alikes without a well-formed marker, next to one real leftover.
    let creds = lab.emu.credentials();
    let mut options = ClientOptions::new(lab.emu.base_url());
    options.ca_cert_pem = lab.emu.ca_pem().map(String::into_bytes);
    let client = Client::new(options).expect("client");
    let auth = Auth::Basic {
        user: creds.user.clone(),
        password: creds.password.clone(),
    };
    let real = format!("[snowdoctor:{}]", uuid::Uuid::new_v4());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut created = Vec::new();
    for (short, correlation) in [
        ("printer [snowdoctor:not-a-uuid] on fire", ""),
        ("unrelated", "snowdoctor-"),
        ("mentions snowdoctor- in passing", "snowdoctor-x"),
        (real.as_str(), ""),
    ] {
        let mut fields = Map::new();
        fields.insert("short_description".into(), Value::String(short.into()));
        fields.insert("correlation_id".into(), Value::String(correlation.into()));
        let row = runtime
            .block_on(client.table_create(&auth, "incident", &fields))
            .expect("created");
        created.push(row.sys_id().to_string());
    }
    let before = lab.emu.rows("incident").len();
    let out = lab.cleanup(&[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("1 snowdoctor record(s)"),
        "{}",
        out.stdout
    );
    assert_eq!(lab.emu.rows("incident").len(), before - 1);
    let deletes: Vec<String> = lab
        .emu
        .audit_log()
        .into_iter()
        .filter(|e| e.method == "DELETE")
        .map(|e| e.sys_id)
        .collect();
    assert_eq!(
        deletes,
        [created[3].clone()],
        "only the marked record is deleted"
    );
}

#[test]
fn cleanup_takes_its_instance_and_user_from_the_config_file() {
    use snowdoctor::servicenow::{Auth, Client, ClientOptions};
    let lab = Lab::start("healthy");
    let creds = lab.emu.credentials();
    // One leftover of an earlier run, written by the diagnosing account.
    let mut options = ClientOptions::new(lab.emu.base_url());
    options.ca_cert_pem = lab.emu.ca_pem().map(String::into_bytes);
    let client = Client::new(options).expect("client");
    let auth = Auth::Basic {
        user: creds.user.clone(),
        password: creds.password.clone(),
    };
    let mut fields = Map::new();
    let marker = format!("[snowdoctor:{}] leftover", uuid::Uuid::new_v4());
    fields.insert("short_description".into(), Value::String(marker));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let leftover = runtime
        .block_on(client.table_create(&auth, "incident", &fields))
        .expect("created")
        .sys_id()
        .to_string();

    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "snowdoctor.toml",
        &format!(
            "[defaults]\ninstance = \"{}\"\nuser = \"{}\"\n",
            lab.emu.base_url(),
            creds.user
        ),
    );
    let cleanup = |config: Option<&std::path::Path>| {
        let mut cmd = crate::support::snowdoctor();
        cmd.env("SNOWDOCTOR_PASSWORD", creds.password.expose_secret())
            .arg("cleanup")
            .arg("--ca-cert")
            .arg(&lab.ca);
        if let Some(path) = config {
            cmd.arg("--config").arg(path);
        }
        Finished::from(cmd.output().expect("snowdoctor cleanup runs"))
    };
    // Without the file there is no instance to clean: a usage error, nothing touched.
    let bare = cleanup(None);
    assert_eq!(bare.code, 2, "{}\n{}", bare.stdout, bare.stderr);
    assert!(bare.stderr.contains("no instance"), "{}", bare.stderr);
    assert_eq!(lab.marked().len(), 1);

    let out = cleanup(Some(&config));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("removed 1 record(s)"), "{}", out.stdout);
    assert!(lab.marked().is_empty());
    let deletes: Vec<_> = lab
        .emu
        .audit_log()
        .into_iter()
        .filter(|e| e.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].sys_id, leftover);
    assert_eq!(
        deletes[0].user, creds.user,
        "the config file's user deleted it"
    );
}

/// A refresh token for `user`, obtained through the library's own password-grant connect.
fn refresh_token_for(lab: &Lab, user: &str, password: &str) -> String {
    use snowdoctor::servicenow::oauth::{ConnectInputs, connect};
    use snowdoctor::servicenow::{Client, ClientOptions};
    let creds = lab.emu.credentials();
    let mut options = ClientOptions::new(lab.emu.base_url());
    options.ca_cert_pem = lab.emu.ca_pem().map(String::into_bytes);
    let client = Client::new(options).expect("client");
    let inputs = ConnectInputs {
        grant: snowdoctor::servicenow::oauth::Grant::Password,
        client_id: Some(creds.client_id.clone()),
        client_id_source: "test".into(),
        integration_user: Some(user.into()),
        integration_password: Some(secrecy::SecretString::from(password.to_string())),
        client_secret: Some(creds.client_secret.clone()),
        refresh_token: None,
        expected_user: Some(user.into()),
        withheld: None,
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let outcome = runtime.block_on(connect(&client, &inputs));
    assert!(outcome.succeeded(), "{:?}", outcome.failure);
    let token = outcome.token.expect("token");
    token
        .refresh_token
        .expect("refresh token")
        .expose_secret()
        .to_string()
}

#[test]
fn refresh_token_grant_connects_and_catches_a_token_of_the_wrong_user() {
    let lab = Lab::start("healthy");
    let creds = lab.emu.credentials();
    let token = refresh_token_for(
        &lab,
        &creds.integration_user,
        creds.integration_password.expose_secret(),
    );
    let out = Finished::from(
        lab.command(&["--read-only"], None)
            .env("SNOWDOCTOR_REFRESH_TOKEN", &token)
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.stdout.contains(&token),
        "the refresh token never reaches the output"
    );
    let report = out.report();
    report.assert_status("oauth-connect", "pass");
    assert!(
        report
            .summary("oauth-connect")
            .contains("refresh_token grant")
    );

    // A refresh token the admin obtained acts as the admin: the Microsoft "wrong account" problem.
    let admin_token = refresh_token_for(&lab, &creds.user, creds.password.expose_secret());
    let out = Finished::from(
        lab.command(&[], None)
            .env("SNOWDOCTOR_REFRESH_TOKEN", &admin_token)
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("oauth-connect", "fail");
    assert!(
        report
            .summary("oauth-connect")
            .contains("not as the integration user")
    );
    assert!(report.remediation("oauth-connect").contains("Not You"));
    report.assert_status("ticket-round-trip", "blocked");
    assert!(
        lab.emu.audit_log().is_empty(),
        "no ticket as the wrong user"
    );

    // A refresh token nobody issued: the token itself is the likely cause.
    let out = Finished::from(
        lab.command(&[], None)
            .env("SNOWDOCTOR_REFRESH_TOKEN", "not-a-refresh-token-0000")
            .output()
            .expect("runs"),
    );
    let report = out.report();
    report.assert_status("oauth-connect", "fail");
    assert!(report.summary("oauth-connect").contains("refresh token"));
}

#[test]
fn client_credentials_refusal_names_the_missing_property_and_user() {
    let lab = Lab::start("healthy");
    let out = lab.run(&["--grant", "client-credentials", "--only", "oauth-grant"]);
    let report = out.report();
    // The connector does not use client credentials: the test grant being off is undecided.
    report.assert_status("oauth-grant", "inconclusive");
    report.assert_status("oauth-connect", "inconclusive");
    let out = lab.run(&[
        "--grant",
        "client-credentials",
        "--skip",
        CONFIG_PREREQUISITES,
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("oauth-connect", "inconclusive");
    let ev = evidence(&report, "oauth-connect");
    assert!(
        ev.contains("client-credentials grant is not enabled"),
        "{ev}"
    );
    assert!(ev.contains("no OAuth Application User"), "{ev}");
}
