//! The aggregate and batch APIs, `current user`, and the batch quota that leaves items unserviced.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use snowdoctor::emulator::EmulatorOptions;

use super::{env, serviced_statuses, start};

#[tokio::test]
async fn aggregate_batch_and_current_user() {
    let e = env("non-admin");
    assert_eq!(e.emu.credentials().user, "itil.viewer");
    let r = e
        .get("/api/now/stats/incident?sysparm_count=true&sysparm_query=priority=1")
        .await;
    assert_eq!(r.json()["result"]["stats"]["count"], "28");
    assert_eq!(
        e.get("/api/now/stats/sys_properties?sysparm_count=true")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let batch = json!({"batch_request_id": "1", "rest_requests": [
        {"id": "a", "method": "GET", "url": "/api/now/table/incident?sysparm_limit=1",
         "headers": [{"name": "Accept", "value": "application/json"}]},
        {"id": "b", "method": "GET", "url": "/api/now/table/sys_properties",
         "headers": [{"name": "Accept", "value": "application/json"}]},
        {"id": "c", "method": "POST", "url": "/api/now/table/incident",
         "headers": [{"name": "Accept", "value": "application/json"}, {"name": "Content-Type", "value": "application/json"}],
         "body": STANDARD.encode(br#"{"short_description":"from batch"}"#)},
    ]});
    let r = e.post("/api/now/v1/batch", batch).await;
    assert_eq!(r.status, StatusCode::OK);
    let (items, statuses) = serviced_statuses(&r);
    assert_eq!(statuses, [200, 403, 201]);
    let body = STANDARD
        .decode(items[0]["body"].as_str().unwrap_or(""))
        .unwrap_or_default();
    let inner: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(inner["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(e.emu.audit_log().len(), 1);
    let r = e.get("/api/now/ui/user/current_user").await;
    assert_eq!(r.json()["result"]["user_name"], "itil.viewer");
    let r = e
        .call(Method::GET, "/api/now/ui/user/current_user", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

fn batch_of(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("item-{i}"), "method": "GET",
                   "url": "/api/now/table/incident?sysparm_limit=1",
                   "headers": [{"name": "Accept", "value": "application/json"}]})
        })
        .collect();
    json!({"batch_request_id": "q", "rest_requests": items})
}

#[tokio::test]
async fn batch_items_past_the_quota_come_back_unserviced() {
    let e = start(EmulatorOptions {
        latency: Duration::from_millis(100),
        ..EmulatorOptions::default()
    });
    let run = |body: Value| {
        e.call(
            Method::POST,
            "/api/now/v1/batch",
            Some(e.admin()),
            Some(body),
        )
    };
    let r = run(batch_of(5)).await;
    assert_eq!(
        r.json()["serviced_requests"].as_array().map(Vec::len),
        Some(5)
    );
    assert_eq!(r.json()["unserviced_requests"], json!([]));

    e.emu.set_batch_quota(Duration::from_millis(250));
    let r = run(batch_of(5)).await;
    assert_eq!(r.status, StatusCode::OK);
    let serviced: Vec<String> = r.json()["serviced_requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let unserviced: Vec<String> = r.json()["unserviced_requests"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !serviced.is_empty() && !unserviced.is_empty(),
        "{serviced:?} {unserviced:?}"
    );
    let all: Vec<String> = serviced.iter().chain(&unserviced).cloned().collect();
    let expected: Vec<String> = (0..5).map(|i| format!("item-{i}")).collect();
    assert_eq!(all, expected, "the unserviced items are the tail, in order");

    // Per-item failures stay per item; an override header inside an item is honoured.
    e.emu.set_batch_quota(Duration::from_secs(30));
    let body = json!({"batch_request_id": "f", "rest_requests": [
        {"id": "bad", "method": "NOT A METHOD", "url": "/api/now/table/incident"},
        {"id": "outside", "method": "GET", "url": "https://elsewhere.example/api/now/table/incident"},
        {"id": "head", "method": "POST", "url": "/api/now/table/incident?sysparm_limit=1",
         "headers": [{"name": "Accept", "value": "application/json"},
                     {"name": "X-HTTP-Method-Override", "value": "GET"}]},
    ]});
    let r = run(body).await;
    let (items, statuses) = serviced_statuses(&r);
    assert_eq!(statuses, [400, 400, 200]);
    assert!(
        items[0]["error_message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}
