//! One cancellation path for SIGINT, SIGTERM and SIGHUP, through the real binary: the signal lands
//! while the instance holds its answer to the create (the record already inserted). The run must stop
//! starting work (the proxy's log shows no token request, create or update after the signal), remove
//! the ticket, report the verdict `interrupted` and exit 130 / 143 / 129; a second signal during a
//! hanging cleanup exits at once and names the record left behind.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use snowdoctor::emulator::{Emulator, Fault, FaultKind};

use crate::own_records::{marked, round_trip, text};
use crate::proxy::{Before, Proxy, Seen};
use crate::support::{EmulatorRun, Finished};

/// A proxy that holds the answer to the create for a minute: only a signal ends the wait early.
fn holding_proxy(emu: &Emulator) -> Proxy {
    Proxy::with_hold(
        emu,
        |_, status, body| (status, body),
        |seen: &Seen| {
            if seen.method == "POST" && seen.is_table("incident") {
                Before::AnswerAfter(Duration::from_secs(60))
            } else {
                Before::Forward
            }
        },
    )
}

/// Starts the round trip through `proxy` and waits until the ticket exists on the emulator.
fn start_and_wait_for_the_ticket(emu: &Emulator, proxy: &Proxy) -> Child {
    let child = round_trip(
        emu,
        &proxy.url(),
        &["--request-timeout", "120", "--check-timeout", "150"],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(60);
    while marked(emu).is_empty() {
        assert!(Instant::now() < deadline, "the create never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn every_signal_stops_the_run_removes_the_ticket_and_exits_with_its_code() {
    let run = EmulatorRun::start("healthy");
    let emu = &run.emulator;
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let proxy = holding_proxy(emu);
        let child = start_and_wait_for_the_ticket(emu, &proxy);
        let sent = Instant::now();
        kill(&child, signal);
        let out = Finished::from(child.wait_with_output().expect("child ends"));
        assert!(
            sent.elapsed() < Duration::from_secs(40),
            "SIG{signal}: handled promptly"
        );
        assert_eq!(out.code, code, "SIG{signal}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("SIG{signal} received")),
            "{}",
            out.stderr
        );
        assert!(
            marked(emu).is_empty(),
            "SIG{signal}: the ticket was removed"
        );
        let after: Vec<Seen> = proxy
            .requests()
            .into_iter()
            .filter(|s| s.at > sent)
            .collect();
        for seen in &after {
            assert!(
                !seen.is_token() && matches!(seen.method.as_str(), "GET" | "DELETE"),
                "SIG{signal}: nothing but cleanup after the signal: {seen:?}"
            );
        }
        assert!(
            after.iter().any(|s| s.method == "DELETE"),
            "SIG{signal}: {after:?}"
        );
        let report = out.report();
        assert_eq!(report.0["verdict"]["status"], "interrupted", "SIG{signal}");
        let writes = report.0["writes"].as_array().cloned().unwrap_or_default();
        assert_eq!(writes.len(), 1, "{writes:?}");
        assert_eq!(writes[0]["state"], "deleted", "SIG{signal}: {writes:?}");
    }
}

#[test]
fn a_second_signal_during_a_hanging_cleanup_exits_and_names_the_ticket() {
    let run = EmulatorRun::start("healthy");
    let emu = &run.emulator;
    emu.add_fault(Fault {
        method: Some(http::Method::DELETE),
        path_prefix: "/api/now/table/incident".into(),
        kind: FaultKind::Timeout,
        times: None,
    });
    let proxy = holding_proxy(emu);
    let child = start_and_wait_for_the_ticket(emu, &proxy);
    let ticket = marked(emu)[0].clone();
    kill(&child, "TERM");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !proxy.requests().iter().any(|s| s.method == "DELETE") {
        assert!(Instant::now() < deadline, "cleanup never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = Instant::now();
    kill(&child, "TERM");
    let out = Finished::from(child.wait_with_output().expect("child ends"));
    assert!(
        second.elapsed() < Duration::from_secs(10),
        "the second signal exits at once"
    );
    assert_eq!(out.code, 143, "{}", out.stderr);
    let named = format!(
        "left behind: incident {} (sys_id {})",
        text(&ticket, "number"),
        text(&ticket, "sys_id")
    );
    assert!(out.stderr.contains(&named), "{}", out.stderr);
    emu.clear_faults();
}

#[test]
fn a_signal_during_a_fleet_run_removes_the_ticket_and_exits_with_its_code() {
    let run = EmulatorRun::start("healthy");
    let emu = &run.emulator;
    let proxy = holding_proxy(emu);
    let creds = emu.credentials();
    let dir = tempfile::tempdir().expect("tempdir");
    let targets = crate::support::write(
        dir.path(),
        "targets.toml",
        &format!(
            "[[target]]\nname = \"held\"\ninstance = \"{}\"\nuser = \"{}\"\nintegration_user = \"{}\"\n\
             oauth_entity = \"{}\"\nclient_id = \"{}\"\n",
            proxy.url(),
            creds.user,
            creds.integration_user,
            creds.oauth_entity,
            creds.client_id
        ),
    );
    let child = round_trip(emu, &proxy.url(), &["--request-timeout", "120"])
        .args(["--check-timeout", "150", "--targets"])
        .arg(&targets)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let deadline = Instant::now() + Duration::from_secs(60);
    while marked(emu).is_empty() {
        assert!(Instant::now() < deadline, "the create never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(&child, "TERM");
    let out = Finished::from(child.wait_with_output().expect("child ends"));
    assert_eq!(out.code, 143, "{}\n{}", out.stdout, out.stderr);
    assert!(marked(emu).is_empty(), "the ticket was removed");
    let fleet: serde_json::Value = serde_json::from_str(&out.stdout).expect("fleet JSON");
    assert_eq!(
        fleet["runs"][0]["verdict"]["status"], "interrupted",
        "{}",
        out.stdout
    );
}
