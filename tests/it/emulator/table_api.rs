//! The Table API's read side: paging and headers, encoded queries, display values and dot-walking,
//! read ACLs for a non-admin caller, invalid queries, HEAD and `X-HTTP-Method-Override`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{count, env, result};

#[tokio::test]
async fn lists_with_total_count_and_absolute_link_headers() {
    let e = env("healthy");
    let r = e
        .get("/api/now/table/incident?sysparm_limit=100&sysparm_offset=100")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("X-Total-Count"), "250");
    assert_eq!(result(&r).len(), 100);
    let link = r.header("link");
    for rel in ["first", "prev", "next", "last"] {
        assert!(link.contains(&format!("rel=\"{rel}\"")), "{link}");
    }
    assert!(link.contains(&format!("<{}/api/now/table/incident?", e.base)));
    assert!(link.contains("sysparm_offset=200>;rel=\"next\""), "{link}");
    assert!(link.contains("sysparm_offset=200>;rel=\"last\""), "{link}");
    let r = e
        .get("/api/now/table/incident?sysparm_limit=5&sysparm_suppress_pagination_header=true")
        .await;
    assert!(r.headers.get("link").is_none());
    assert_eq!(result(&r).len(), 5);
    let r = e.get("/api/now/table/incident?sysparm_offset=240").await;
    assert_eq!(result(&r).len(), 10, "default limit is 10000");
    assert!(r.header("link").contains("sysparm_offset=0>;rel=\"prev\""));
    assert!(!r.header("link").contains("rel=\"next\""));
    // Every value is a string, booleans included.
    let row = &result(&e.get("/api/now/table/sys_user?sysparm_limit=1").await)[0];
    assert!(
        row.as_object()
            .is_some_and(|o| o.values().all(Value::is_string))
    );
}

#[tokio::test]
async fn versions_unknown_tables_and_headers() {
    let e = env("healthy");
    let empty = "?sysparm_query=number=NOPE";
    let r = e.get(&format!("/api/now/v1/table/incident{empty}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["message"], "No Record found");
    for prefix in ["/api/now/v2/table", "/api/now/table"] {
        let r = e.get(&format!("{prefix}/incident{empty}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text, r#"{"result":[]}"#);
    }
    let r = e.get("/api/now/v1/table/incident?sysparm_limit=1").await;
    assert_eq!(result(&r).len(), 1);
    let r = e.get("/api/now/table/x_no_such_table").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"error":{"message":"Invalid table x_no_such_table","detail":null},"status":"failure"})
    );
    // reqwest always sends Accept (*/*), which is accepted; a JSON-less Accept is not.
    let (u, p) = e.admin();
    let req = e
        .client
        .get(format!("{}/api/now/table/incident?sysparm_limit=1", e.base))
        .basic_auth(&u, Some(&p));
    assert_eq!(e.send(req).await.status, StatusCode::OK);
    let req = e
        .client
        .get(format!("{}/api/now/table/incident?sysparm_limit=1", e.base))
        .basic_auth(&u, Some(&p))
        .header("Accept", "text/html");
    assert_eq!(e.send(req).await.status, StatusCode::NOT_ACCEPTABLE);
    // POST without Content-Type → 400.
    let req = e
        .client
        .post(format!("{}/api/now/table/incident", e.base))
        .basic_auth(&u, Some(&p))
        .header("Accept", "application/json")
        .body("{}");
    assert_eq!(e.send(req).await.status, StatusCode::BAD_REQUEST);
    let r = e
        .get("/api/now/table/incident/0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json()["error"]["detail"],
        "Record doesn't exist or ACL restricts the record retrieval"
    );
}

#[tokio::test]
async fn encoded_queries() {
    let e = env("healthy");
    assert_eq!(count(&e, "sys_user", "user_name=admin").await, 1);
    assert_eq!(
        count(&e, "sys_user", "user_name=Admin").await,
        0,
        "= is case-sensitive"
    );
    assert_eq!(
        count(&e, "sys_user", "user_name=admin^ORuser_name=itil.viewer").await,
        2
    );
    assert_eq!(
        count(&e, "sys_user", "user_name=admin^NQuser_name=itil.viewer").await,
        2
    );
    assert_eq!(
        count(&e, "sys_user", "user_nameINadmin,itil.viewer,nobody").await,
        2
    );
    assert_eq!(
        count(&e, "sys_user", "user_nameNOT INadmin,itil.viewer").await,
        301
    );
    assert_eq!(count(&e, "sys_user", "user_name!=admin").await, 302);
    assert_eq!(count(&e, "sys_user", "user_nameSTARTSWITHm365").await, 1);
    assert_eq!(
        count(
            &e,
            "sys_user",
            "emailENDSWITH@example.com^user_nameLIKEviewer"
        )
        .await,
        1
    );
    assert_eq!(count(&e, "sys_user", "titleISEMPTY").await, 0);
    assert_eq!(
        count(&e, "sys_user", "sourceISEMPTY^user_name=admin").await,
        1
    );
    assert_eq!(count(&e, "sys_user", "emailISNOTEMPTY").await, 303);
    // Unknown fields are ignored: the rest of the query still applies.
    assert_eq!(
        count(&e, "sys_user", "no_such_field=1^user_name=admin").await,
        1
    );
    assert_eq!(count(&e, "sys_user", "no_such_field=1").await, 303);
    assert_eq!(
        count(
            &e,
            "sys_scope_privilege",
            "source_scope.scope=x_mioms_m365ticket^target_name=oauth_entity"
        )
        .await,
        2
    );
    assert_eq!(
        count(&e, "sys_user", "user_name=javascript:gs.getUserName()").await,
        1
    );
    assert_eq!(
        count(&e, "sys_user_has_role", "user=javascript:gs.getUserID()").await,
        1
    );
    let r = e
        .get("/api/now/table/incident?sysparm_query=ORDERBYDESCnumber&sysparm_limit=2&sysparm_fields=number")
        .await;
    assert_eq!(result(&r)[0]["number"], "INC0010250");
    let r = e
        .get("/api/now/table/incident?sysparm_query=priority=1^ORDERBYnumber&sysparm_limit=1&sysparm_fields=number,priority,impact,urgency")
        .await;
    let row = &result(&r)[0];
    assert_eq!(
        (row["impact"].as_str(), row["urgency"].as_str()),
        (Some("1"), Some("1"))
    );
    // Name=value filters when sysparm_query is absent.
    let r = e.get("/api/now/table/sys_user?user_name=itil.viewer").await;
    assert_eq!(result(&r).len(), 1);
}

#[tokio::test]
async fn display_values_references_and_dot_walked_fields() {
    let e = env("healthy");
    let q = "sysparm_query=name=oauth_entity&sysparm_fields=name,access,read_access,caller_access,sys_scope";
    let r = e
        .get(&format!(
            "/api/now/table/sys_db_object?{q}&sysparm_display_value=all"
        ))
        .await;
    let row = &result(&r)[0];
    assert_eq!(
        row["access"],
        json!({"display_value":"All application scopes","value":"public"})
    );
    assert_eq!(
        row["caller_access"],
        json!({"display_value":"None","value":""})
    );
    assert_eq!(row["sys_scope"]["display_value"], "Global");
    assert_eq!(
        row["sys_scope"]["link"],
        format!("{}/api/now/table/sys_scope/global", e.base)
    );
    let r = e
        .get(&format!("/api/now/table/sys_db_object?{q}&sysparm_display_value=all&sysparm_exclude_reference_link=true"))
        .await;
    assert_eq!(
        result(&r)[0]["sys_scope"],
        json!({"display_value":"Global","value":"global"})
    );
    let r = e.get(&format!("/api/now/table/sys_db_object?{q}")).await;
    let row = &result(&r)[0];
    assert_eq!(row["access"], "public");
    assert_eq!(row["sys_scope"]["value"], "global");
    assert!(row["sys_scope"]["link"].is_string());
    let r = e
        .get(&format!(
            "/api/now/table/sys_db_object?{q}&sysparm_display_value=true"
        ))
        .await;
    assert_eq!(result(&r)[0]["access"], "All application scopes");
    // Dot-walks in sysparm_fields; unknown fields ignored.
    let r = e
        .get("/api/now/table/sys_user_has_role?sysparm_query=user.user_name=m365.integration&sysparm_fields=user.user_name,role.name,bogus")
        .await;
    let mut roles: Vec<String> = result(&r)
        .iter()
        .map(|row| row["role.name"].as_str().unwrap_or("").to_string())
        .collect();
    roles.sort();
    assert_eq!(roles, ["itil", "x_mioms_m365ticket.user"]);
    assert!(result(&r).iter().all(|row| row.get("bogus").is_none()));
    // password2 is served empty; version rows are the stored ones only.
    let r = e
        .get("/api/now/table/oauth_entity?sysparm_query=type=client")
        .await;
    assert_eq!(result(&r)[0]["client_secret"], "");
    assert_eq!(result(&r)[0]["client_id"].as_str().map(str::len), Some(32));
    let r = e
        .get("/api/now/table/sys_properties?sysparm_query=nameINglide.war,glide.buildtag.last,glide.buildtag,glide.buildname,glide.builddate&sysparm_fields=name,value")
        .await;
    let names: Vec<String> = result(&r)
        .iter()
        .filter_map(|r| r["name"].as_str().map(String::from))
        .collect();
    assert_eq!(names, ["glide.war", "glide.buildtag.last"]);
}

#[tokio::test]
async fn non_admin_acls_forbid_or_filter() {
    let e = env("non-admin");
    let r = e
        .get("/api/now/table/sys_properties?sysparm_query=name=glide.war")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["message"], "User Not Authorized");
    assert_eq!(
        e.get("/api/now/table/oauth_entity").await.status,
        StatusCode::FORBIDDEN
    );
    let r = e
        .get("/api/now/table/sys_db_object?sysparm_query=name=oauth_entity")
        .await;
    assert_eq!((r.status, result(&r).len()), (StatusCode::OK, 0));
    assert_eq!(
        r.header("X-Total-Count"),
        "1",
        "the count is taken before ACLs"
    );
    let r = e
        .get("/api/now/table/sys_db_object/e1c4b2a09f8d4c3b8a7e6d5c4b3a2f10")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = e.get("/api/now/table/sys_user_has_role").await;
    assert_eq!(result(&r).len(), 1, "only the caller's own role rows");
    let r = e
        .get("/api/now/table/sys_user?sysparm_query=user_name=m365.integration")
        .await;
    let row = &result(&r)[0];
    assert!(row.get("locked_out").is_none() && row.get("email").is_some());
    assert_eq!(count(&e, "incident", "").await, 250);
}

const INVALID_QUERY_PROPERTY: &str = "a1f0c3e5b7d94f2e8c6a4b2d0e8f6a4b";

#[tokio::test]
async fn invalid_query_returns_no_rows_only_when_the_property_says_so() {
    let e = env("healthy");
    let valid = count(&e, "incident", "active=true").await;
    assert!(valid > 0);
    assert_eq!(
        count(&e, "incident", "no_such_field=1^active=true").await,
        valid
    );
    let r = e
        .patch(
            &format!("/api/now/table/sys_properties/{INVALID_QUERY_PROPERTY}"),
            json!({"value": "true"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        count(&e, "incident", "no_such_field=1^active=true").await,
        0
    );
    assert_eq!(count(&e, "incident", "active=true^garbage").await, 0);
    assert_eq!(
        count(&e, "incident", "active=true").await,
        valid,
        "valid queries unaffected"
    );
    let r = e
        .get("/api/now/table/incident?sysparm_query=no_such_field=1&sysparm_limit=5")
        .await;
    assert_eq!((r.status, result(&r).len()), (StatusCode::OK, 0));
    assert_eq!(r.header("X-Total-Count"), "0");
}

#[tokio::test]
async fn head_and_method_override_on_the_table_api() {
    let e = env("healthy");
    let (u, p) = e.admin();
    let r = e
        .send(
            e.client
                .head(format!("{}/api/now/table/incident?sysparm_limit=1", e.base))
                .header("Accept", "application/json")
                .basic_auth(&u, Some(&p)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("X-Total-Count"), "250");
    assert!(r.text.is_empty(), "HEAD has no body");

    let sys_id = result(&e.get("/api/now/table/incident?sysparm_limit=1").await)[0]["sys_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let path = format!("{}/api/now/table/incident/{sys_id}", e.base);
    let post = |override_to: Option<&str>| {
        let mut req = e
            .client
            .post(&path)
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .basic_auth(&u, Some(&p))
            .body(json!({"short_description": "overridden"}).to_string());
        if let Some(m) = override_to {
            req = req.header("X-HTTP-Method-Override", m);
        }
        req
    };
    let r = e.send(post(None)).await;
    assert_eq!(
        r.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "POST on a record needs the override"
    );
    let r = e.send(post(Some("patch"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["result"]["short_description"], "overridden");
    assert_eq!(
        e.emu
            .audit_log()
            .last()
            .map(|a| a.method.clone())
            .as_deref(),
        Some("PATCH")
    );
    let r = e.send(post(Some("NOPE"))).await;
    assert_eq!(
        r.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "unknown overrides are ignored"
    );
    let r = e.send(post(Some("DELETE"))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        e.get(&format!("/api/now/table/incident/{sys_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// `sys_store_app` and `sys_app` extend `sys_scope`: reading the parent returns their records, each
/// with `sys_class_name` naming its table, and a reference to `sys_scope` resolves to a store app.
#[tokio::test]
async fn the_scope_hierarchy_answers_from_the_parent_table() {
    let e = env("healthy");
    let r = e
        .get("/api/now/table/sys_scope?sysparm_query=scope=x_mioms_m365ticket&sysparm_fields=name,version,active,sys_class_name,latest_version")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = result(&r);
    assert_eq!(rows.len(), 1, "{}", r.text);
    assert_eq!(rows[0]["sys_class_name"], "sys_store_app");
    assert_eq!(rows[0]["version"], "1.2.0");
    assert!(
        rows[0].get("latest_version").is_none(),
        "a child's own columns are not columns of the parent: {}",
        r.text
    );
    let r = e
        .get("/api/now/table/sys_scope?sysparm_query=scope=global&sysparm_fields=sys_class_name")
        .await;
    assert_eq!(result(&r)[0]["sys_class_name"], "sys_scope");
    let r = e
        .get("/api/now/table/sys_store_app?sysparm_fields=sys_class_name,latest_version")
        .await;
    assert_eq!(result(&r)[0]["sys_class_name"], "sys_store_app");
    assert_eq!(result(&r)[0]["latest_version"], "1.2.0");
    assert!(
        count(
            &e,
            "sys_scope_privilege",
            "source_scope.scope=x_mioms_m365ticket"
        )
        .await
            > 0,
        "a reference to sys_scope dot-walks into the store app's record"
    );
    let e = env("app-missing");
    assert_eq!(count(&e, "sys_scope", "scope=x_mioms_m365ticket").await, 0);
}
