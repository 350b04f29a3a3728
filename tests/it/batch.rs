//! The Batch API: the emulator answers it as the platform does (string ids, the platform's header
//! casing, a switch to make it missing, forbidden or rate-limited), and the diagnosis carries its
//! configuration wave in one batch, falls back to individual requests when the batch is refused, and
//! reaches the same statuses either way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use snowdoctor::emulator::{BatchApi, Emulator, EmulatorOptions};

use crate::support::EmulatorRun;

/// A plain-HTTP emulator, so a test can read the bytes it writes.
fn plain(scenario: &str) -> Emulator {
    Emulator::start_blocking(EmulatorOptions {
        scenario: scenario.into(),
        tls: false,
        ..EmulatorOptions::default()
    })
    .expect("emulator starts")
}

/// The raw answer (head and body) to one HTTP/1.1 request as the emulator's admin.
fn raw(emulator: &Emulator, method: &str, path: &str, body: Option<&Value>) -> String {
    let creds = emulator.credentials();
    let basic = STANDARD.encode(format!("{}:{}", creds.user, creds.password.expose_secret()));
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {basic}\r\n\
         Accept: application/json\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        emulator.addr(),
        body.len()
    );
    let mut stream = TcpStream::connect(emulator.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn body_of(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(Value::Null)
}

fn one_read(id: Value) -> Value {
    json!({"batch_request_id": id, "rest_requests": [
        {"id": 7, "method": "GET", "url": "/api/now/table/incident?sysparm_limit=1",
         "headers": [{"name": "Accept", "value": "application/json"}]}]})
}

#[test]
fn headers_travel_with_the_platform_casing() {
    let emulator = plain("healthy");
    let answer = raw(
        &emulator,
        "GET",
        "/api/now/table/incident?sysparm_limit=1",
        None,
    );
    let head = answer.split("\r\n\r\n").next().unwrap_or("");
    for name in ["X-Total-Count", "Link", "Content-Type"] {
        assert!(
            head.contains(&format!("\r\n{name}: ")),
            "{name} with its casing in:\n{head}"
        );
    }
}

#[test]
fn the_batch_answers_ids_as_strings_and_items_with_the_platform_casing() {
    let emulator = plain("healthy");
    let answer = raw(
        &emulator,
        "POST",
        "/api/now/v1/batch",
        Some(&one_read(json!(41))),
    );
    assert_eq!(status_of(&answer), 200, "{answer}");
    let body = body_of(&answer);
    assert_eq!(body["batch_request_id"], json!("41"), "{body}");
    let item = &body["serviced_requests"][0];
    assert_eq!(item["id"], json!("7"));
    assert_eq!(item["status_code"], json!(200));
    let names: Vec<&str> = item["headers"]
        .as_array()
        .map(|h| h.iter().filter_map(|h| h["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        names.contains(&"X-Total-Count") && names.contains(&"Content-Type"),
        "{names:?}"
    );
    // A string id stays as sent.
    let answer = raw(
        &emulator,
        "POST",
        "/api/now/v1/batch",
        Some(&one_read(json!("abc"))),
    );
    assert_eq!(body_of(&answer)["batch_request_id"], json!("abc"));
}

#[test]
fn the_batch_api_can_be_missing_forbidden_or_rate_limited() {
    let emulator = plain("healthy");
    for (mode, status) in [
        (BatchApi::Missing, 404),
        (BatchApi::Forbidden, 403),
        (BatchApi::RateLimited, 429),
        (BatchApi::On, 200),
    ] {
        emulator.set_batch_api(mode);
        let answer = raw(
            &emulator,
            "POST",
            "/api/now/v1/batch",
            Some(&one_read(json!(1))),
        );
        assert_eq!(status_of(&answer), status, "{mode:?}: {answer}");
        if mode == BatchApi::RateLimited {
            assert!(answer.contains("\r\nRetry-After: "), "{answer}");
        }
    }
}

// ---- the diagnosis through the Batch API, through the real binary ----

/// Each check's id and status, and the exit code.
fn statuses(out: &crate::support::Finished) -> (i32, Vec<(String, String)>) {
    let report = out.report();
    let checks = report.0["checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap_or("").to_string(),
                        c["status"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (out.code, checks)
}

#[test]
fn every_scenario_gives_the_same_statuses_with_and_without_the_batch_api() {
    let names: Vec<String> = snowdoctor::emulator::scenarios()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(names.len() > 20, "the scenarios: {names:?}");
    // A few scenarios at a time: each run is a process with its own emulator.
    let differences: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = names
            .chunks(names.len().div_ceil(3))
            .map(|chunk| {
                scope.spawn(move || {
                    let mut differences = Vec::new();
                    for name in chunk {
                        let batched = crate::support::demo(name, &[]);
                        let alone = crate::support::demo(name, &["--no-batch"]);
                        let (with, without) = (statuses(&batched), statuses(&alone));
                        if with != without {
                            differences.push(format!(
                                "{name}: with the batch {with:?}\nwithout {without:?}"
                            ));
                        }
                    }
                    differences
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}

/// A HAR transcript's entries.
fn har_entries(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("HAR written");
    let har: Value = serde_json::from_str(&text).expect("HAR is JSON");
    har["log"]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The entries that went over the wire (a batch's items travel inside its POST).
fn wire(entries: &[Value]) -> Vec<&Value> {
    entries
        .iter()
        .filter(|e| e.get("_batch").is_none())
        .collect()
}

/// The longest chain of exchanges each starting after the previous one ended (earliest end first
/// finds it); a millisecond of slack for the whole-millisecond `time` of HAR entries.
fn depth(entries: &[&Value]) -> usize {
    let mut spans: Vec<(f64, f64)> = entries
        .iter()
        .filter_map(|e| {
            let start = chrono::DateTime::parse_from_rfc3339(e["startedDateTime"].as_str()?)
                .ok()?
                .timestamp_micros() as f64
                / 1000.0;
            Some((start, start + e["time"].as_f64()?))
        })
        .collect();
    spans.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (mut depth, mut last_end) = (0, f64::NEG_INFINITY);
    for (start, end) in spans {
        if start >= last_end - 1.0 {
            depth += 1;
            last_end = end;
        }
    }
    depth
}

/// A healthy emulator with latency, so the transcript shows which requests waited for which.
fn slow_healthy() -> EmulatorRun {
    let run = EmulatorRun::with(EmulatorOptions {
        scenario: "healthy".into(),
        latency: Duration::from_millis(40),
        ..EmulatorOptions::default()
    });
    run.emulator
        .set_batch_item_latency(Duration::from_millis(1));
    run
}

/// The demo's flags against `run`, JSON out and a HAR transcript at `har`.
fn diagnose(run: &EmulatorRun, har: &std::path::Path, extra: &[&str]) -> crate::support::Finished {
    let creds = run.emulator.credentials();
    let output = run
        .command()
        .args([
            "--integration-user",
            &creds.integration_user,
            "--oauth-entity",
            &creds.oauth_entity,
            "--client-id",
            &creds.client_id,
            "--service-tags",
            "builtin:sample",
            "--no-progress",
            "--format",
            "json",
            "--report",
        ])
        .arg(format!("har={}", har.display()))
        .args(extra)
        .env(
            "SNOWDOCTOR_INTEGRATION_PASSWORD",
            creds.integration_password.expose_secret(),
        )
        .env(
            "SNOWDOCTOR_CLIENT_SECRET",
            creds.client_secret.expose_secret(),
        )
        .output()
        .expect("snowdoctor runs");
    crate::support::Finished::from(output)
}

#[test]
fn a_healthy_run_takes_at_most_15_requests_and_9_round_trips() {
    let run = slow_healthy();
    let har = run.dir.path().join("batch.har");
    let before = run.emulator.request_count();
    let batched = diagnose(&run, &har, &[]);
    let requests = run.emulator.request_count() - before;
    assert_eq!(batched.code, 0, "{}\n{}", batched.stdout, batched.stderr);
    let entries = har_entries(&har);
    let on_wire = wire(&entries);
    assert_eq!(
        on_wire.len(),
        requests,
        "every request is in the transcript"
    );
    assert!(requests <= 15, "{requests} requests with the Batch API");
    let chain = depth(&on_wire);
    assert!(
        chain <= 9,
        "{chain} sequential round trips with the Batch API"
    );
    let items: Vec<&Value> = entries
        .iter()
        .filter(|e| e.get("_batch").is_some())
        .collect();
    assert!(
        items.len() >= 10,
        "the configuration wave is batched: {} items",
        items.len()
    );
    assert!(
        items.iter().all(|e| e["request"]["method"] == "GET"
            && e["response"]["status"] == 200
            && e["response"]["content"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("\"result\""))),
        "each item is its own entry with its own status and decoded body"
    );
    let batch_posts = on_wire
        .iter()
        .filter(|e| {
            e["request"]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/api/now/v1/batch"))
        })
        .count();
    assert_eq!(batch_posts, 1, "one batch carries the wave");

    // Without the Batch API: more requests, the same chain and the same statuses.
    let har_alone = run.dir.path().join("alone.har");
    let alone = diagnose(&run, &har_alone, &["--no-batch"]);
    assert_eq!(statuses(&batched), statuses(&alone));
    let entries = har_entries(&har_alone);
    let on_wire = wire(&entries);
    assert!(entries.iter().all(|e| e.get("_batch").is_none()));
    assert!(
        on_wire.len() > 15,
        "{} requests without the batch",
        on_wire.len()
    );
    let chain = depth(&on_wire);
    assert!(
        chain <= 9,
        "{chain} sequential round trips without the Batch API"
    );
}

#[test]
fn a_refused_batch_falls_back_to_individual_requests_with_the_same_findings() {
    let run = slow_healthy();
    let har = run.dir.path().join("on.har");
    let reference = statuses(&diagnose(&run, &har, &[]));
    assert_eq!(reference.0, 0);
    for (mode, status) in [
        (BatchApi::Missing, 404),
        (BatchApi::Forbidden, 403),
        (BatchApi::RateLimited, 429),
    ] {
        run.emulator.set_batch_api(mode);
        let har = run.dir.path().join(format!("{mode:?}.har"));
        let out = diagnose(&run, &har, &[]);
        assert_eq!(statuses(&out), reference, "{mode:?}: {}", out.stderr);
        let entries = har_entries(&har);
        let refused: Vec<&Value> = entries
            .iter()
            .filter(|e| {
                e["request"]["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/api/now/v1/batch"))
            })
            .collect();
        assert_eq!(refused.len(), 1, "{mode:?}: one attempt, no retry");
        assert_eq!(refused[0]["response"]["status"], status);
        assert!(entries.iter().all(|e| e.get("_batch").is_none()));
        let oauth_entity_reads = entries
            .iter()
            .filter(|e| {
                e["request"]["url"]
                    .as_str()
                    .is_some_and(|u| u.contains("/table/oauth_entity?"))
            })
            .count();
        assert_eq!(
            oauth_entity_reads, 1,
            "{mode:?}: each read sent alone, once"
        );
    }
}

/// A server that answers the batch with items echoing the diagnosing password, in a header and in
/// their base64 bodies: no output may carry it in any form.
#[test]
fn secrets_echoed_inside_batch_items_are_redacted_everywhere() {
    use crate::support::canary::{self, Canary};
    use crate::support::hostile_server::{HostileServer, envelope, http, json as json_reply};
    const PASSWORD: &str = "canary-pw-Batch5k8";
    const SYS_ID: &str = "6816f79cc0a8016401c5a33be04be441";
    let server = HostileServer::start(|request, _| {
        if !request.authenticated() {
            return envelope(
                401,
                "User Not Authenticated",
                "Required to provide Auth information",
            );
        }
        if request.target.starts_with("/api/now/v1/batch") {
            let sent: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
            let items: Vec<Value> = sent["rest_requests"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| {
                            // Base64 inside the batch: the registry of secrets cannot see it
                            // until the item is decoded.
                            let body = json!({"result": [{"sys_id": SYS_ID, "name": PASSWORD}]});
                            json!({"id": item["id"], "status_code": 200, "status_text": "OK",
                                   "headers": [{"name": "Content-Type", "value": "application/json"},
                                               {"name": "X-Echo", "value": PASSWORD}],
                                   "body": STANDARD.encode(body.to_string()), "execution_time": 1})
                        })
                        .collect()
                })
                .unwrap_or_default();
            let answer = json!({"batch_request_id": sent["batch_request_id"],
                                "serviced_requests": items, "unserviced_requests": []});
            return http(200, "application/json", &[], &answer.to_string());
        }
        if request
            .target
            .starts_with("/api/now/table/sys_user_has_role")
        {
            return json_reply(
                200,
                &json!({"result": [{"user.sys_id": SYS_ID, "user.user_name": "admin",
                                    "role.name": "admin", "role": "admin"}]})
                .to_string(),
            );
        }
        json_reply(200, r#"{"result":[]}"#)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let har = dir.path().join("run.har");
    let output = crate::support::snowdoctor()
        .args([
            "run",
            "--instance",
            &server.url(),
            "--user",
            "admin",
            "--format",
            "json",
        ])
        .args([
            "--connect-timeout",
            "2",
            "--request-timeout",
            "5",
            "--no-progress",
            "-vv",
        ])
        .arg("--report")
        .arg(format!("har={}", har.display()))
        .env("SNOWDOCTOR_PASSWORD", PASSWORD)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .expect("snowdoctor runs");
    let out = crate::support::Finished::from(output);
    let entries = har_entries(&har);
    let items: Vec<&Value> = entries
        .iter()
        .filter(|e| e.get("_batch").is_some())
        .collect();
    assert!(
        !items.is_empty(),
        "the wave went as a batch:\n{}",
        out.stderr
    );
    let forms = canary::forms(&[Canary {
        user: Some("admin"),
        secret: PASSWORD,
    }]);
    canary::assert_clean("stdout", &out.stdout, &forms);
    canary::assert_clean("stderr", &out.stderr, &forms);
    let har_text = std::fs::read_to_string(&har).expect("HAR");
    canary::assert_clean("the HAR transcript", &har_text, &forms);
    assert!(
        har_text.contains("[REDACTED]"),
        "the echoed password is shown redacted"
    );
}
