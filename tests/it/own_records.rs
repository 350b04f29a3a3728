//! "Never touch a record it did not create": the round trip and `snowdoctor cleanup` against an instance
//! whose answers name other records (a rewriting proxy in front of the emulator), a create that inserts
//! and then answers an error, and table names that try to leave the ticket table. Each case proves,
//! from the emulator's own audit log, that nothing but the run's own ticket was written.

use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use snowdoctor::emulator::Emulator;

use crate::proxy::{Proxy, Seen};
use crate::support::{EmulatorRun, Finished, round_trip_command, snowdoctor};

/// The round trip (and the connect it needs) through `instance`, as JSON, unrun.
pub fn round_trip(emu: &Emulator, instance: &str, extra: &[&str]) -> std::process::Command {
    let creds = emu.credentials();
    let target = [
        "--instance".into(),
        instance.into(),
        "--user".into(),
        creds.user.clone().into(),
    ];
    round_trip_command(&creds, None, &target, extra)
}

/// `snowdoctor cleanup` through `instance`.
fn cleanup(emu: &Emulator, instance: &str, extra: &[&str]) -> Finished {
    let creds = emu.credentials();
    let output = snowdoctor()
        .env("SNOWDOCTOR_PASSWORD", creds.password.expose_secret())
        .args(["cleanup", "--instance", instance, "--user", &creds.user])
        .args(extra)
        .output()
        .expect("snowdoctor cleanup runs");
    Finished::from(output)
}

pub fn text(row: &Map<String, Value>, key: &str) -> String {
    match row.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

/// Incident rows carrying a snowdoctor marker.
pub fn marked(emu: &Emulator) -> Vec<Map<String, Value>> {
    emu.rows("incident")
        .into_iter()
        .filter(|r| text(r, "short_description").contains("[snowdoctor:"))
        .collect()
}

/// An existing incident the run has nothing to do with.
fn unrelated_incident(emu: &Emulator) -> Map<String, Value> {
    emu.rows("incident")
        .into_iter()
        .find(|r| !text(r, "short_description").contains("snowdoctor"))
        .expect("the fixture has incidents")
}

/// Replaces `sys_id` in one record (`result` an object) or in every row whose id is `only` (a list).
fn rewrite_sys_id(body: &str, only: Option<&str>, id: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(body) else {
        return body.to_string();
    };
    let set = |row: &mut Value| {
        let current = match &row["sys_id"] {
            Value::Object(o) => o.get("value").and_then(Value::as_str).unwrap_or(""),
            other => other.as_str().unwrap_or(""),
        }
        .to_string();
        if only.is_none_or(|o| o == current) && row.get("sys_id").is_some() {
            row["sys_id"] = Value::String(id.to_string());
        }
    };
    match value.get_mut("result") {
        Some(Value::Array(rows)) => rows.iter_mut().for_each(set),
        Some(row @ Value::Object(_)) => set(row),
        _ => {}
    }
    value.to_string()
}

fn is_create(seen: &Seen) -> bool {
    seen.method == "POST" && seen.is_table("incident")
}

/// Every write the emulator audited touches a record that a POST of this run created.
fn assert_only_own_writes(emu: &Emulator) -> Vec<String> {
    let log = emu.audit_log();
    let created: Vec<String> = log
        .iter()
        .filter(|e| e.method == "POST")
        .map(|e| e.sys_id.clone())
        .collect();
    for entry in &log {
        assert_eq!(
            entry.table, "incident",
            "write outside the ticket table: {entry:?}"
        );
        assert!(
            created.contains(&entry.sys_id),
            "write to a record the run did not create: {entry:?}"
        );
    }
    created
}

#[test]
fn a_create_answer_naming_another_record_never_writes_to_it() {
    let run = EmulatorRun::start("healthy");
    let emu = &run.emulator;
    let victim = unrelated_incident(emu);
    let victim_id = text(&victim, "sys_id");
    let user_id = text(&emu.rows("sys_user")[0], "sys_id");
    for forged in [victim_id.clone(), format!("../sys_user/{user_id}")] {
        let users = emu.rows("sys_user").len();
        let proxy = {
            let forged = forged.clone();
            Proxy::start(emu, move |seen, status, body| {
                if is_create(seen) {
                    (status, rewrite_sys_id(&body, None, &forged))
                } else {
                    (status, body)
                }
            })
        };
        let out = Finished::from(
            round_trip(emu, &proxy.url(), &[])
                .output()
                .expect("snowdoctor runs"),
        );
        let report = out.report();
        report.assert_status("ticket-round-trip", "fail");
        // The forged id is never addressed by a write, nor is any other table.
        for seen in proxy.requests() {
            assert!(
                !(seen.is_write() && seen.target.contains(&victim_id)),
                "{forged}: a write to the unrelated record: {seen:?}"
            );
            assert!(
                !seen.is_table("sys_user") || seen.method == "GET",
                "{forged}: a write outside the ticket table: {seen:?}"
            );
        }
        assert_eq!(
            emu.rows("sys_user").len(),
            users,
            "{forged}: no user removed"
        );
        let now = emu
            .rows("incident")
            .into_iter()
            .find(|r| text(r, "sys_id") == victim_id);
        assert_eq!(
            now.as_ref(),
            Some(&victim),
            "{forged}: the incident is untouched"
        );
        // The real ticket was found by its marker and removed, and only it is reported.
        let created = assert_only_own_writes(emu);
        assert!(
            marked(emu).is_empty(),
            "{forged}: the real ticket is removed"
        );
        let writes = report.0["writes"].as_array().cloned().unwrap_or_default();
        assert_eq!(writes.len(), 1, "{forged}: {writes:?}");
        assert_eq!(writes[0]["sys_id"], created[created.len() - 1].as_str());
        assert_eq!(writes[0]["state"], "deleted", "{forged}: {writes:?}");
        assert_ne!(writes[0]["sys_id"], victim_id.as_str());
        let summary = report.summary("ticket-round-trip");
        assert!(
            summary.contains("did not create") || summary.contains("sys_id"),
            "{forged}: {summary}"
        );
    }
}

#[test]
fn a_create_that_inserts_then_answers_an_error_is_swept() {
    let run = EmulatorRun::start("healthy");
    let emu = &run.emulator;
    for status in [400u16, 403, 429, 500] {
        let proxy = Proxy::start(emu, move |seen, code, body| {
            if is_create(seen) {
                let envelope = format!(
                    "{{\"error\":{{\"message\":\"rewritten {status}\",\"detail\":\"after the insert\"}},\"status\":\"failure\"}}"
                );
                (status, envelope)
            } else {
                (code, body)
            }
        });
        let out = Finished::from(
            round_trip(emu, &proxy.url(), &[])
                .output()
                .expect("snowdoctor runs"),
        );
        let report = out.report();
        assert!(
            marked(emu).is_empty(),
            "{status}: the inserted ticket is removed"
        );
        let created = assert_only_own_writes(emu);
        let writes = report.0["writes"].as_array().cloned().unwrap_or_default();
        let last = created.last().cloned().unwrap_or_default();
        assert!(
            writes
                .iter()
                .any(|w| w["sys_id"] == last.as_str() && w["state"] == "deleted"),
            "{status}: writes name the swept ticket: {writes:?}"
        );
        assert!(
            report.0.to_string().contains("this run's marker"),
            "{status}: the sweep is reported"
        );
    }
}

#[test]
fn cleanup_rereads_each_candidate_and_deletes_only_what_carries_the_marker() {
    let run = EmulatorRun::start("healthy");
    let emu = &run.emulator;
    // A real leftover: a run whose DELETE keeps failing.
    emu.add_fault(snowdoctor::emulator::Fault {
        method: Some(http::Method::DELETE),
        path_prefix: "/api/now/table/incident".into(),
        kind: snowdoctor::emulator::FaultKind::Status(500),
        times: None,
    });
    let direct = round_trip(emu, &emu.base_url(), &[])
        .arg("--ca-cert")
        .arg(&run.ca)
        .output()
        .expect("snowdoctor runs");
    assert_eq!(Finished::from(direct).code, 1);
    emu.clear_faults();
    let leftover = text(&marked(emu)[0], "sys_id");
    let victim = unrelated_incident(emu);
    let victim_id = text(&victim, "sys_id");
    let user_id = text(&emu.rows("sys_user")[0], "sys_id");
    let users = emu.rows("sys_user").len();
    for forged in [victim_id.clone(), format!("../sys_user/{user_id}")] {
        let proxy = {
            let (forged, leftover) = (forged.clone(), leftover.clone());
            Proxy::start(emu, move |seen, status, body| {
                if seen.method == "GET" && seen.target.contains("sysparm_query") {
                    (status, rewrite_sys_id(&body, Some(&leftover), &forged))
                } else {
                    (status, body)
                }
            })
        };
        let out = cleanup(emu, &proxy.url(), &[]);
        assert_eq!(out.code, 1, "{forged}: {}", out.stdout);
        assert!(
            !out.stdout.contains("removed 1"),
            "{forged}: nothing was removed: {}",
            out.stdout
        );
        assert!(out.stdout.contains("removed 0 record(s)"), "{}", out.stdout);
        for seen in proxy.requests() {
            assert_eq!(seen.method, "GET", "{forged}: only reads: {seen:?}");
        }
        assert_eq!(
            emu.rows("sys_user").len(),
            users,
            "{forged}: no user removed"
        );
        assert!(
            emu.rows("incident")
                .iter()
                .any(|r| text(r, "sys_id") == victim_id),
            "{forged}: the unrelated incident is still there"
        );
    }
    assert!(
        emu.audit_log()
            .iter()
            .all(|e| e.method != "DELETE" || e.sys_id == leftover),
        "{:?}",
        emu.audit_log()
    );
    // Without the rewriting, the real leftover is removed.
    let out = cleanup(
        emu,
        &emu.base_url(),
        &["--ca-cert", run.ca.to_str().unwrap_or_default()],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("removed 1 record(s)"), "{}", out.stdout);
    assert!(marked(emu).is_empty());
}

#[test]
fn a_ticket_table_that_is_not_a_table_name_is_a_usage_error_before_any_request() {
    let run = EmulatorRun::start("healthy");
    let emu = &run.emulator;
    let ca = run.ca.to_str().unwrap_or_default().to_string();
    for table in [
        "incident/../sys_user",
        "incident?sysparm_x=1",
        "Incident",
        "",
    ] {
        let before = emu.request_count();
        let out = Finished::from(
            round_trip(
                emu,
                &emu.base_url(),
                &["--ca-cert", &ca, "--ticket-table", table],
            )
            .output()
            .expect("snowdoctor runs"),
        );
        assert_eq!(out.code, 2, "{table}: {}", out.stderr);
        assert!(out.stderr.contains("not a table name"), "{}", out.stderr);
        let cleaned = cleanup(
            emu,
            &emu.base_url(),
            &["--ca-cert", &ca, "--ticket-table", table],
        );
        assert_eq!(cleaned.code, 2, "{table}: {}", cleaned.stderr);
        assert_eq!(emu.request_count(), before, "{table}: no request was sent");
    }
    assert!(emu.audit_log().is_empty());
}
