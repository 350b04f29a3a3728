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
