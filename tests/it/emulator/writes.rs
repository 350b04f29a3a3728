//! Table API writes: create, read, update and delete with the audit trail; write ACLs and business rules.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{count, env};

#[tokio::test]
async fn create_read_update_delete_round_trip_with_audit() {
    let e = env("healthy");
    let who = Some(e.integration());
    let body = json!({"short_description": "snowdoctor probe", "impact": "2", "urgency": "1",
                      "priority": "5", "correlation_id": "sd-1", "not_a_field": "x", "sys_created_by": "mallory"});
    let r = e
        .call(
            Method::POST,
            "/api/now/table/incident",
            who.clone(),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.json()["result"].clone();
    let sys_id = created["sys_id"].as_str().unwrap_or("").to_string();
    assert_eq!(sys_id.len(), 32);
    assert_eq!(created["number"], "INC0010251");
    assert_eq!(
        created["priority"], "2",
        "priority comes from impact/urgency"
    );
    assert_eq!(created["state"], "1");
    assert_eq!(created["sys_created_by"], "m365.integration");
    assert_eq!(
        created["opened_by"]["value"],
        "5b7c2e1fa3d04c6e9f1b2a3c4d5e6f70"
    );
    assert!(created.get("not_a_field").is_none());
    let path = format!("/api/now/table/incident/{sys_id}");
    let r = e.call(Method::GET, &path, who.clone(), None).await;
    assert_eq!(r.json()["result"]["correlation_id"], "sd-1");
    let r = e
        .call(
            Method::PATCH,
            &path,
            who.clone(),
            Some(json!({"impact": "3", "urgency": "3"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["result"]["priority"], "5");
    assert_eq!(r.json()["result"]["sys_mod_count"], "1");
    let r = e
        .call(Method::PUT, &path, who.clone(), Some(json!({"state": "7"})))
        .await;
    assert_eq!(r.json()["result"]["state"], "7");
    // Visible to later reads through the list API too.
    assert_eq!(count(&e, "incident", "correlation_id=sd-1").await, 1);
    let r = e.call(Method::DELETE, &path, who.clone(), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.text.is_empty());
    assert_eq!(
        e.call(Method::GET, &path, who, None).await.status,
        StatusCode::NOT_FOUND
    );
    let log = e.emu.audit_log();
    let methods: Vec<&str> = log.iter().map(|a| a.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PATCH", "PUT", "DELETE"]);
    assert!(
        log.iter()
            .all(|a| a.sys_id == sys_id && a.table == "incident" && a.user == "m365.integration")
    );
    assert!(
        e.emu
            .rows("incident")
            .iter()
            .all(|r| r["sys_id"] != sys_id.as_str())
    );
}

#[tokio::test]
async fn write_acls_and_business_rules() {
    let e = env("insert-denied");
    let body = json!({"short_description": "x"});
    let r = e
        .call(
            Method::POST,
            "/api/now/table/incident",
            Some(e.integration()),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json(),
        json!({"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"})
    );
    assert!(e.emu.audit_log().is_empty());
    let r = e.post("/api/now/table/incident", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED);

    let e = env("delete-denied");
    let r = e
        .call(
            Method::POST,
            "/api/now/table/incident",
            Some(e.integration()),
            Some(body),
        )
        .await;
    let path = format!(
        "/api/now/table/incident/{}",
        r.json()["result"]["sys_id"].as_str().unwrap_or("")
    );
    let r = e
        .call(Method::DELETE, &path, Some(e.integration()), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("ACL Exception Delete Failed"));
    let r = e
        .call(
            Method::PATCH,
            &path,
            Some(e.integration()),
            Some(json!({"state": "7"})),
        )
        .await;
    assert_eq!(r.json()["result"]["state"], "7");

    let e = env("field-not-round-trip");
    let body = json!({"short_description": "snowdoctor round trip 0123456789", "due_date": "2026-11-01 10:00:00"});
    let r = e
        .call(
            Method::POST,
            "/api/now/table/incident",
            Some(e.integration()),
            Some(body),
        )
        .await;
    assert_eq!(
        r.json()["result"]["short_description"],
        "snowdoctor round trip 01"
    );
    assert_eq!(r.json()["result"]["due_date"], "2026-11-01 15:00:00");

    let e = env("transaction-cancelled");
    let r = e
        .get("/api/now/table/sys_user?sysparm_query=user_name=m365.integration")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text
            .contains("Transaction cancelled: maximum execution time exceeded")
    );
    assert!(r.json().get("result").is_none());
}
