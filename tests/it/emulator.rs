//! Protocol tests for the instance emulator: a real HTTP client (reqwest, trusting only the emulator's
//! generated CA) against `Emulator::start_blocking`.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use snowdoctor::emulator::{
    Emulator, EmulatorOptions, Fault, FaultKind, SecretOverrides, scenarios,
};

struct Env {
    emu: Emulator,
    client: reqwest::Client,
    base: String,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn start(opts: EmulatorOptions) -> Env {
    let emu = match Emulator::start_blocking(opts) {
        Ok(emu) => emu,
        Err(e) => panic!("emulator did not start: {e}"),
    };
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    if let Some(pem) = emu.ca_pem() {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes()).expect("CA PEM parses");
        builder = builder.tls_certs_only([cert]);
    }
    let client = builder.build().expect("client builds");
    let base = emu.base_url();
    Env { emu, client, base }
}

fn env(scenario: &str) -> Env {
    start(EmulatorOptions {
        scenario: scenario.into(),
        ..EmulatorOptions::default()
    })
}

fn env_ip(scenario: &str, ip: &str) -> Env {
    start(EmulatorOptions {
        scenario: scenario.into(),
        client_ip: Some(ip.parse::<IpAddr>().expect("test IP")),
        ..EmulatorOptions::default()
    })
}

impl Env {
    fn admin(&self) -> (String, String) {
        let c = self.emu.credentials();
        (c.user, c.password.expose_secret().to_string())
    }

    fn integration(&self) -> (String, String) {
        let c = self.emu.credentials();
        (
            c.integration_user,
            c.integration_password.expose_secret().to_string(),
        )
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request completes");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body reads");
        Reply {
            status,
            headers,
            text,
        }
    }

    /// A JSON request as `who` (None = no credentials).
    async fn call(
        &self,
        method: Method,
        path: &str,
        who: Option<(String, String)>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Accept", "application/json");
        if let Some((u, p)) = who {
            req = req.basic_auth(u, Some(p));
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        self.send(req).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, Some(self.admin()), None).await
    }

    /// POST `body` to `path` as admin.
    async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(self.admin()), Some(body))
            .await
    }

    /// PATCH `body` onto the record at `path` as admin.
    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(self.admin()), Some(body))
            .await
    }

    async fn token(&self, form: &[(&str, &str)]) -> Reply {
        let req = self
            .client
            .post(format!("{}/oauth_token.do", self.base))
            .form(form);
        self.send(req).await
    }

    async fn password_grant(&self) -> Reply {
        let c = self.emu.credentials();
        let secret = c.client_secret.expose_secret().to_string();
        let pw = c.integration_password.expose_secret().to_string();
        self.token(&[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &secret),
            ("username", &c.integration_user),
            ("password", &pw),
        ])
        .await
    }
}

/// A batch reply's serviced items and their status codes, in order.
fn serviced_statuses(reply: &Reply) -> (Vec<Value>, Vec<u64>) {
    let items = reply.json()["serviced_requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let statuses = items
        .iter()
        .filter_map(|i| i["status_code"].as_u64())
        .collect();
    (items, statuses)
}

fn result(reply: &Reply) -> Vec<Value> {
    reply.json()["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

const GENERIC_401: &str = r#"{"error_description":"access_denied","error":"server_error"}"#;

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
async fn basic_auth_failures_get_the_real_401_envelope() {
    let e = env("healthy");
    let expected = json!({"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"});
    let r = e
        .call(Method::GET, "/api/now/table/incident", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json(), expected);
    let wrong = Some(("admin".to_string(), "wrong".to_string()));
    let r = e
        .call(Method::GET, "/api/now/table/incident", wrong, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json(), expected);
}

async fn count(e: &Env, table: &str, query: &str) -> usize {
    let path = format!(
        "/api/now/table/{table}?sysparm_query={}",
        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
    );
    let r = e.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    result(&r).len()
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
async fn oauth_password_refresh_and_bearer_use() {
    let e = env("healthy");
    let r = e.password_grant().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "useraccount");
    assert_eq!(body["expires_in"], 1799);
    let access = body["access_token"].as_str().unwrap_or("").to_string();
    let refresh = body["refresh_token"].as_str().unwrap_or("").to_string();
    assert_eq!(access.len(), 86);
    assert_eq!(refresh.len(), 86);
    let req = e
        .client
        .get(format!("{}/api/now/ui/user/current_user", e.base))
        .bearer_auth(&access)
        .header("Accept", "application/json");
    let r = e.send(req).await;
    assert_eq!(r.json()["result"]["user_name"], "m365.integration");
    assert_eq!(r.json()["result"]["email"], "m365.integration@example.com");
    // The refresh token is not an access token.
    let req = e
        .client
        .get(format!("{}/api/now/table/incident?sysparm_limit=1", e.base))
        .bearer_auth(&refresh)
        .header("Accept", "application/json");
    assert_eq!(e.send(req).await.status, StatusCode::UNAUTHORIZED);
    // Refresh grant with client credentials in a Basic header.
    let c = e.emu.credentials();
    let req = e
        .client
        .post(format!("{}/oauth_token.do", e.base))
        .basic_auth(&c.client_id, Some(c.client_secret.expose_secret()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ]);
    let r = e.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_ne!(r.json()["access_token"], body["access_token"]);
    // Failures all look the same.
    let secret = c.client_secret.expose_secret().to_string();
    for form in [
        vec![
            ("grant_type", "password"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", "wrong"),
            ("username", "m365.integration"),
            ("password", "x"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", secret.as_str()),
        ],
        vec![
            ("grant_type", "refresh_token"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("refresh_token", "bogus"),
        ],
        vec![
            ("grant_type", "password"),
            ("client_id", "0000"),
            ("client_secret", secret.as_str()),
        ],
    ] {
        let r = e.token(&form).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.text, GENERIC_401);
        assert_eq!(r.header("x-is-logged-in"), "false");
    }
    // JSON is refused: form-encoded only.
    let req = e
        .client
        .post(format!("{}/oauth_token.do", e.base))
        .header("Content-Type", "application/json")
        .body(json!({"grant_type": "password"}).to_string());
    assert_eq!(e.send(req).await.text, GENERIC_401);
}

#[tokio::test]
async fn tokens_expire_per_entity_lifespan_and_client_credentials_need_setup() {
    let e = env("healthy");
    let entity = &result(
        &e.get("/api/now/table/oauth_entity?sysparm_query=type=client")
            .await,
    )[0];
    let path = format!(
        "/api/now/table/oauth_entity/{}",
        entity["sys_id"].as_str().unwrap_or("")
    );
    let r = e
        .call(
            Method::PATCH,
            &path,
            Some(e.admin()),
            Some(json!({"access_token_lifespan": "1", "user": "5b7c2e1fa3d04c6e9f1b2a3c4d5e6f70"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let access = e.password_grant().await.json()["access_token"]
        .as_str()
        .unwrap_or("")
        .to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let req = e
        .client
        .get(format!("{}/api/now/table/incident?sysparm_limit=1", e.base))
        .bearer_auth(&access)
        .header("Accept", "application/json");
    assert_eq!(e.send(req).await.status, StatusCode::UNAUTHORIZED);
    // client_credentials: property plus application user.
    let prop = json!({"name": "glide.oauth.inbound.client.credential.grant_type.enabled", "value": "true"});
    let r = e.post("/api/now/table/sys_properties", prop).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let c = e.emu.credentials();
    let secret = c.client_secret.expose_secret().to_string();
    let r = e
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &secret),
        ])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json().get("refresh_token").is_none());
}

async fn grant_status(scenario: &str) -> (StatusCode, StatusCode) {
    let e = env(scenario);
    let token = e.password_grant().await.status;
    let basic = e
        .call(
            Method::GET,
            "/api/now/table/incident?sysparm_limit=1",
            Some(e.integration()),
            None,
        )
        .await
        .status;
    (token, basic)
}

#[tokio::test]
async fn login_blockers_and_oauth_switches() {
    use StatusCode as S;
    // (scenario, password grant, Basic auth as the integration user)
    for (scenario, expected) in [
        ("healthy", (S::OK, S::OK)),
        ("user-locked", (S::UNAUTHORIZED, S::UNAUTHORIZED)),
        ("user-inactive", (S::UNAUTHORIZED, S::UNAUTHORIZED)),
        ("user-missing", (S::UNAUTHORIZED, S::UNAUTHORIZED)),
        ("user-web-service-only", (S::UNAUTHORIZED, S::OK)),
        ("user-password-reset", (S::UNAUTHORIZED, S::OK)),
        ("user-internal-integration", (S::OK, S::OK)),
        ("user-many-failed-logins", (S::OK, S::OK)),
    ] {
        assert_eq!(grant_status(scenario).await, expected, "{scenario}");
    }
    // OAuth switched off one way or another: the password grant is refused.
    for scenario in [
        "ropc-disabled",
        "oauth-disabled",
        "entity-inactive",
        "entity-missing",
        "entity-provider-only",
        "multi-fault",
    ] {
        assert_eq!(
            grant_status(scenario).await.0,
            S::UNAUTHORIZED,
            "{scenario}"
        );
    }
}

#[tokio::test]
async fn secret_overrides_replace_fixture_values() {
    let e = start(EmulatorOptions {
        secrets: SecretOverrides {
            admin_password: Some(SecretString::from("canary-admin-7f3a".to_string())),
            integration_password: Some(SecretString::from("canary-int-7f3a".to_string())),
            client_secret: Some(SecretString::from("canary-secret-7f3a".to_string())),
        },
        ..EmulatorOptions::default()
    });
    assert_eq!(
        e.emu.credentials().client_secret.expose_secret(),
        "canary-secret-7f3a"
    );
    assert_eq!(e.password_grant().await.status, StatusCode::OK);
    assert_eq!(
        e.get("/api/now/table/incident?sysparm_limit=1")
            .await
            .status,
        StatusCode::OK
    );
    let old = Some(("admin".to_string(), "Emu-Admin-2026!".to_string()));
    let r = e
        .call(Method::GET, "/api/now/table/incident", old, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oauth_auth_login_page_and_sso_redirect() {
    let e = env("healthy");
    let path = "/oauth_auth.do?response_type=code&client_id=x&state=s1";
    let r = e.send(e.client.get(format!("{}{path}", e.base))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/html"));
    assert!(r.text.contains("user_password"));
    let e = env("sso-auto-redirect");
    let r = e.send(e.client.get(format!("{}{path}", e.base))).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert!(
        r.header("location")
            .starts_with("https://login.microsoftonline.com/")
    );
    let r = e.send(e.client.get(format!("{}/login.do", e.base))).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "login.do is never auto-redirected"
    );
    let e = env("sso-local-login");
    let r = e.send(e.client.get(format!("{}{path}", e.base))).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn stats_pages_and_version_scenarios() {
    let e = env("healthy");
    let r = e.send(e.client.get(format!("{}/stats.do", e.base))).await;
    assert!(r.text.contains("Build name: Brazil"));
    assert!(
        r.text
            .contains("Build tag: glide-brazil-08-25-2026__patch1-09-21-2026")
    );
    assert!(r.text.contains("Build date: 10-02-2026_1200"));
    assert!(
        r.text
            .contains("MID buildstamp: brazil-08-25-2026__patch1-09-21-2026_10-02-2026_1200")
    );
    let r = e
        .send(e.client.get(format!("{}/xmlstats.do", e.base)))
        .await;
    assert!(
        r.text
            .contains("<glide.build.name>Brazil</glide.build.name>")
    );
    assert!(r.header("content-type").starts_with("text/xml"));
    // diag_txns_acl gates both pages to admins.
    let prop = &result(
        &e.get("/api/now/table/sys_properties?sysparm_query=name=glide.security.diag_txns_acl")
            .await,
    )[0];
    let path = format!(
        "/api/now/table/sys_properties/{}",
        prop["sys_id"].as_str().unwrap_or("")
    );
    e.call(
        Method::PATCH,
        &path,
        Some(e.admin()),
        Some(json!({"value": "true"})),
    )
    .await;
    let r = e
        .send(e.client.get(format!("{}/xmlstats.do", e.base)))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (u, p) = e.admin();
    let r = e
        .send(
            e.client
                .get(format!("{}/stats.do", e.base))
                .basic_auth(u, Some(p)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let e = env("version-stats-only");
    assert_eq!(
        count(
            &e,
            "sys_properties",
            "nameSTARTSWITHglide.build^ORname=glide.war"
        )
        .await,
        0
    );
    let r = e.send(e.client.get(format!("{}/stats.do", e.base))).await;
    assert!(r.text.contains("Build name: Brazil"));
    let e = env("old-release");
    let r = e
        .send(e.client.get(format!("{}/xmlstats.do", e.base)))
        .await;
    assert!(r.text.contains(
        "<glide.build.tag>glide-jakarta-05-03-2017__patch9-05-02-2018</glide.build.tag>"
    ));
    let e = env("version-unknown-family");
    let r = e.send(e.client.get(format!("{}/stats.do", e.base))).await;
    assert!(r.text.contains("Build name: Colombia"));
}

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

#[tokio::test]
async fn rate_limiting_answers_429_with_headers() {
    let e = env("rate-limited");
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.header("X-RateLimit-Limit"), "25");
    e.emu.set_rate_limit(Some(2));
    for _ in 0..2 {
        assert_eq!(
            e.get("/api/now/table/incident?sysparm_limit=1")
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["error"]["message"], "Rate limit exceeded");
    assert_eq!(r.header("X-RateLimit-Limit"), "2");
    assert!(r.header("X-RateLimit-Reset").parse::<u64>().is_ok());
    assert_eq!(r.header("X-RateLimit-Rule").len(), 32);
    assert!(r.header("Retry-After").parse::<u64>().is_ok_and(|s| s > 0));
}

#[tokio::test]
async fn hibernating_and_interstitial_answer_html_everywhere() {
    for (scenario, marker) in [
        ("hibernating", "Instance Hibernating page"),
        ("interstitial", "Sign in to continue"),
    ] {
        let e = env(scenario);
        for path in ["/api/now/table/incident", "/stats.do", "/nothing/here"] {
            let r = e.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{scenario} {path}");
            assert!(r.header("content-type").starts_with("text/html"));
            assert!(r.text.contains(marker));
        }
        let r = e.password_grant().await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.contains(marker));
    }
}

async fn api_status(e: &Env) -> StatusCode {
    e.get("/api/now/table/incident?sysparm_limit=1")
        .await
        .status
}

#[tokio::test]
async fn ip_access_is_enforced_against_the_configured_client_address() {
    let e = env("caller-blocked");
    let req = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .header("Accept", "application/json")
        .header("X-Forwarded-For", "198.51.100.10");
    let r = e.send(req).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "headers never decide the client address"
    );
    assert!(r.header("content-type").starts_with("text/html"));
    let r = e.password_grant().await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(serde_json::from_str::<Value>(&r.text).is_err());
    assert_eq!(api_status(&env("ip-deny-all")).await, StatusCode::OK);
    assert_eq!(api_status(&env("ip-no-filtering")).await, StatusCode::OK);
    assert_eq!(
        api_status(&env_ip("ip-deny-all", "52.149.130.1")).await,
        StatusCode::FORBIDDEN
    );
    for (ip, expected) in [
        ("52.149.130.1", StatusCode::OK),
        ("20.190.130.9", StatusCode::OK),
        ("2603:1030:10::5", StatusCode::OK),
        ("2603:1006:2000:1::1", StatusCode::OK),
        ("8.8.8.8", StatusCode::FORBIDDEN),
        ("9.9.9.9", StatusCode::FORBIDDEN),
        ("2001:db8::1", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            api_status(&env_ip("ip-azure-allowed", ip)).await,
            expected,
            "{ip}"
        );
    }
    for (ip, expected) in [
        ("13.76.1.1", StatusCode::OK),
        ("40.83.1.1", StatusCode::FORBIDDEN),
        ("20.105.130.1", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            api_status(&env_ip("ip-partial-allow", ip)).await,
            expected,
            "{ip}"
        );
    }
}

#[tokio::test]
async fn latency_and_faults() {
    let e = start(EmulatorOptions {
        latency: Duration::from_millis(150),
        ..EmulatorOptions::default()
    });
    let t = Instant::now();
    assert_eq!(api_status(&e).await, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(150));

    let e = env("healthy");
    let fault = |kind, method, times| Fault {
        method,
        path_prefix: "/api/now/table/incident".into(),
        kind,
        times,
    };
    e.emu
        .add_fault(fault(FaultKind::Status(503), None, Some(1)));
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "failure");
    assert_eq!(api_status(&e).await, StatusCode::OK, "once means once");
    e.emu.add_fault(fault(
        FaultKind::Status(500),
        Some(http::Method::POST),
        None,
    ));
    assert_eq!(api_status(&e).await, StatusCode::OK, "GET is not faulted");
    e.emu.clear_faults();

    e.emu.add_fault(fault(FaultKind::Reset, None, Some(1)));
    let err = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .header("Accept", "application/json")
        .send()
        .await;
    assert!(err.is_err(), "reset gives no response");
    e.emu.add_fault(fault(FaultKind::Timeout, None, Some(1)));
    let err = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .err();
    assert!(err.is_some_and(|e| e.is_timeout()));
    e.emu.add_fault(fault(FaultKind::Truncated, None, Some(1)));
    let res = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .send()
        .await;
    let body = match res {
        Ok(res) => res.text().await.is_err(),
        Err(_) => true,
    };
    assert!(body, "truncated body must fail to read");
    e.emu.add_fault(fault(FaultKind::Malformed, None, Some(1)));
    let r = e.get("/api/now/table/incident").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&r.text).is_err());
    e.emu.add_fault(fault(FaultKind::Html, None, Some(1)));
    assert!(
        e.get("/api/now/table/incident")
            .await
            .header("content-type")
            .starts_with("text/html")
    );
    e.emu
        .add_fault(fault(FaultKind::RateLimited, None, Some(1)));
    let r = e.get("/api/now/table/incident").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!r.header("Retry-After").is_empty());
    assert_eq!(api_status(&e).await, StatusCode::OK);
    assert!(e.emu.request_count() >= 9);
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

#[tokio::test]
async fn configuration_scenarios_change_the_right_rows() {
    let e = env("multi-fault");
    let r = e.get("/api/now/table/sys_db_object?sysparm_query=name=oauth_entity&sysparm_display_value=all").await;
    assert_eq!(
        result(&r)[0]["access"]["display_value"],
        "This application scope only"
    );
    assert_eq!(
        count(&e, "sys_user", "user_name=m365.integration^locked_out=true").await,
        1
    );
    assert_eq!(
        count(&e, "oauth_entity", "type=client^active=false").await,
        1
    );
    let e = env("app-missing");
    assert_eq!(
        count(&e, "sys_store_app", "scope=x_mioms_m365ticket").await,
        0
    );
    assert_eq!(count(&e, "sys_scope_privilege", "").await, 0);
    let e = env("caller-restricted");
    let r = e
        .get("/api/now/table/sys_restricted_caller_access?sysparm_display_value=all")
        .await;
    assert_eq!(result(&r)[0]["status"]["display_value"], "Denied");
    let e = env("sso-auto-redirect");
    let r = e
        .get("/api/now/table/sso_properties?sysparm_query=is_primary=true")
        .await;
    assert_eq!(
        result(&r).len(),
        1,
        "child-table rows appear in the parent table"
    );
    let names: Vec<String> = scenarios().into_iter().map(|s| s.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for required in [
        "healthy",
        "old-release",
        "cross-scope-off",
        "ip-azure-allowed",
        "non-admin",
        "transaction-cancelled",
    ] {
        assert!(names.iter().any(|n| n == required), "{required}");
    }
}

#[test]
fn plain_http_and_unknown_scenarios() {
    let emu = Emulator::start_blocking(EmulatorOptions {
        tls: false,
        ..EmulatorOptions::default()
    });
    let emu = emu.expect("starts");
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert!(emu.ca_pem().is_none());
    // A request without Accept (raw, since HTTP clients add one) is refused with 400.
    let raw = |request: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(emu.addr()).expect("connects");
        stream.write_all(request.as_bytes()).expect("writes");
        let mut out = String::new();
        let _ = stream.read_to_string(&mut out);
        out
    };
    let auth = STANDARD.encode("admin:Emu-Admin-2026!");
    let answer = raw(&format!(
        "GET /api/now/table/incident?sysparm_limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let answer = raw(&format!(
        "GET /api/now/table/incident?sysparm_limit=1 HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("http://x/api/now/table/incident?"),
        "links follow the Host header"
    );
    emu.stop();
    let err = Emulator::start_blocking(EmulatorOptions {
        scenario: "no-such-scenario".into(),
        ..EmulatorOptions::default()
    });
    assert!(err.is_err_and(|e| e.to_string().contains("no-such-scenario")));
}

// ---- Authorization-code flow (/login.do, /oauth_auth.do consent, authorization_code grant) ----

const CONNECTOR_REDIRECT: &str =
    "https://security.microsoft.com/connectors/servicenow/oauth/callback";
const STATE_REQUIRED_PROPERTY: &str = "a1f0c3e5b7d94f2e8c6a4b2d0e8f6a45";
const CONNECTOR_ENTITY_ID: &str = "4d2c8e6a1b3f4c5d9e7f8a0b1c2d3e4f";

impl Env {
    /// Signs in at /login.do; the `JSESSIONID=…` cookie pair on success.
    async fn sign_in(&self, user: &str, password: &str) -> (Reply, Option<String>) {
        let req = self.client.post(format!("{}/login.do", self.base)).form(&[
            ("user_name", user),
            ("user_password", password),
            ("sysparm_goto_url", "/oauth_auth.do?response_type=code"),
        ]);
        let r = self.send(req).await;
        let cookie = r
            .header("set-cookie")
            .split(';')
            .next()
            .filter(|c| c.starts_with("JSESSIONID=") && c.len() > "JSESSIONID=".len())
            .map(String::from);
        (r, cookie)
    }

    async fn consent_get(&self, cookie: &str, query: &str) -> Reply {
        let req = self
            .client
            .get(format!("{}/oauth_auth.do?{query}", self.base))
            .header("Cookie", cookie);
        self.send(req).await
    }

    async fn consent_post(&self, cookie: &str, form: &[(&str, &str)]) -> Reply {
        let req = self
            .client
            .post(format!("{}/oauth_auth.do", self.base))
            .header("Cookie", cookie)
            .form(form);
        self.send(req).await
    }

    fn auth_query(&self, redirect: &str, state: Option<&str>) -> String {
        let c = self.emu.credentials();
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        ser.append_pair("response_type", "code");
        ser.append_pair("client_id", &c.client_id);
        if !redirect.is_empty() {
            ser.append_pair("redirect_uri", redirect);
        }
        if let Some(s) = state {
            ser.append_pair("state", s);
        }
        ser.finish()
    }

    /// Consent page → Allow (or Deny) → the redirect's Location.
    async fn decide(&self, cookie: &str, action: &str, redirect: &str, state: &str) -> String {
        let page = self
            .consent_get(cookie, &self.auth_query(redirect, Some(state)))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let ck = regex::Regex::new(r#"name="sysparm_ck" value="([^"]+)""#)
            .expect("regex")
            .captures(&page.text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
            .expect("consent page carries sysparm_ck");
        let c = self.emu.credentials();
        let mut form = vec![
            ("response_type", "code"),
            ("client_id", c.client_id.as_str()),
            ("state", state),
            ("sysparm_ck", ck.as_str()),
            ("action", action),
        ];
        if !redirect.is_empty() {
            form.push(("redirect_uri", redirect));
        }
        let r = self.consent_post(cookie, &form).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
        r.header("location").to_string()
    }

    async fn exchange(&self, code: &str, redirect: &str) -> Reply {
        let c = self.emu.credentials();
        let secret = c.client_secret.expose_secret().to_string();
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &c.client_id),
            ("client_secret", &secret),
            ("code", code),
            ("redirect_uri", redirect),
        ])
        .await
    }
}

fn query_value(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn login_do_opens_a_session_only_for_interactive_users() {
    let e = env("healthy");
    let (user, password) = e.integration();
    let (r, cookie) = e.sign_in(&user, "wrong-password").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("User name or password invalid"));
    assert!(cookie.is_none());
    let (r, cookie) = e.sign_in(&user, &password).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.header("location"), "/oauth_auth.do?response_type=code");
    assert!(r.header("set-cookie").contains("HttpOnly"));
    assert!(cookie.is_some());
    for scenario in ["user-web-service-only", "user-locked", "user-inactive"] {
        let e = env(scenario);
        let (r, cookie) = e.sign_in(&user, &password).await;
        assert_eq!(r.status, StatusCode::OK, "{scenario}");
        assert!(
            r.text.contains("User name or password invalid"),
            "{scenario}"
        );
        assert!(cookie.is_none(), "{scenario}: no session");
    }
    // An outside sysparm_goto_url is not followed.
    let req = e.client.post(format!("{}/login.do", e.base)).form(&[
        ("user_name", user.as_str()),
        ("user_password", password.as_str()),
        ("sysparm_goto_url", "https://evil.example/"),
    ]);
    assert_eq!(e.send(req).await.header("location"), "/navpage.do");
}

#[tokio::test]
async fn consent_allow_issues_a_single_use_code_bound_to_client_and_redirect() {
    let e = env("healthy");
    let (user, password) = e.integration();
    let (_, cookie) = e.sign_in(&user, &password).await;
    let cookie = cookie.expect("signed in");
    let page = e
        .consent_get(&cookie, &e.auth_query(CONNECTOR_REDIRECT, Some("st-1")))
        .await;
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.text.contains(
        "\"Microsoft 365 Security Center Connector\" would like to connect to your ServiceNow account"
    ));
    assert!(page.text.contains(">Allow<") && page.text.contains(">Deny<"));
    assert!(page.text.contains("Not You?"));

    let location = e.decide(&cookie, "allow", CONNECTOR_REDIRECT, "st-1").await;
    assert!(
        location.starts_with(&format!("{CONNECTOR_REDIRECT}?code=")),
        "{location}"
    );
    assert_eq!(query_value(&location, "state").as_deref(), Some("st-1"));
    let code = query_value(&location, "code").expect("code");
    let r = e.exchange(&code, CONNECTOR_REDIRECT).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let access = r.json()["access_token"].as_str().unwrap_or("").to_string();
    assert!(r.json()["refresh_token"].is_string());
    let me = e
        .send(
            e.client
                .get(format!("{}/api/now/ui/user/current_user", e.base))
                .header("Accept", "application/json")
                .bearer_auth(&access),
        )
        .await;
    assert_eq!(me.json()["result"]["user_name"], "m365.integration");
    let again = e.exchange(&code, CONNECTOR_REDIRECT).await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "a code is single use"
    );
    assert_eq!(again.text, GENERIC_401);

    // Bound to the redirect URI: a different one fails, and the code is spent by the attempt.
    let location = e.decide(&cookie, "allow", CONNECTOR_REDIRECT, "st-2").await;
    let code = query_value(&location, "code").expect("code");
    let r = e.exchange(&code, "https://other.example/cb").await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, GENERIC_401)
    );
    assert_eq!(
        e.exchange(&code, CONNECTOR_REDIRECT).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Bound to the client: another client's credentials cannot redeem it.
    let location = e.decide(&cookie, "allow", CONNECTOR_REDIRECT, "st-3").await;
    let code = query_value(&location, "code").expect("code");
    let r = e
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "1c2b3a4d5e6f47a8b9c0d1e2f3a4b5c6"),
            ("client_secret", "Emu-Provider-Secret-Lm2Vn8"),
            ("code", &code),
            ("redirect_uri", CONNECTOR_REDIRECT),
        ])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        e.exchange("made-up-code", CONNECTOR_REDIRECT).await.text,
        GENERIC_401
    );

    // An unregistered redirect_uri is replaced by the entity's configured one.
    let location = e
        .decide(&cookie, "allow", "https://evil.example/cb", "st-4")
        .await;
    assert!(
        location.starts_with(&format!("{CONNECTOR_REDIRECT}?code=")),
        "{location}"
    );

    // Deny: back to the client with access_denied, and the user stays signed in.
    let location = e.decide(&cookie, "deny", CONNECTOR_REDIRECT, "st-5").await;
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_value(&location, "state").as_deref(), Some("st-5"));
    assert!(query_value(&location, "code").is_none());
    let page = e
        .consent_get(&cookie, &e.auth_query(CONNECTOR_REDIRECT, Some("st-6")))
        .await;
    assert!(page.text.contains(">Allow<"));

    // A consent POST without the page's form token issues nothing.
    let c = e.emu.credentials();
    let r = e
        .consent_post(
            &cookie,
            &[
                ("response_type", "code"),
                ("client_id", &c.client_id),
                ("state", "x"),
                ("action", "allow"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.header("location").is_empty());

    // "Not You?" signs out: the next visit is the login page again.
    let r = e
        .send(
            e.client
                .get(format!("{}/logout.do", e.base))
                .header("Cookie", &cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND);
    let page = e
        .consent_get(&cookie, &e.auth_query(CONNECTOR_REDIRECT, Some("st-7")))
        .await;
    assert!(page.text.contains("user_password") && !page.text.contains(">Allow<"));
}

#[tokio::test]
async fn consent_enforces_state_client_and_code_lifespan() {
    let e = env("healthy");
    let (user, password) = e.integration();
    let (_, cookie) = e.sign_in(&user, &password).await;
    let cookie = cookie.expect("signed in");
    let r = e
        .consent_get(&cookie, &e.auth_query(CONNECTOR_REDIRECT, None))
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "state is required on new instances"
    );
    assert!(r.header("content-type").starts_with("text/html"));
    assert!(r.text.contains("state parameter is required") && !r.text.contains("Allow"));
    let r = e
        .consent_get(&cookie, "response_type=code&client_id=nope&state=s")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("Invalid client_id"));
    let c = e.emu.credentials();
    let r = e
        .consent_get(
            &cookie,
            &format!("response_type=token&client_id={}&state=s", c.client_id),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "implicit grant is not emulated"
    );

    // Switching the property off lets a request without state through.
    let r = e
        .patch(
            &format!("/api/now/table/sys_properties/{STATE_REQUIRED_PROPERTY}"),
            json!({"value": "false"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = e
        .consent_get(&cookie, &e.auth_query(CONNECTOR_REDIRECT, None))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains(">Allow<"));

    // Codes live for the entity's auth_code_lifespan.
    let r = e
        .patch(
            &format!("/api/now/table/oauth_entity/{CONNECTOR_ENTITY_ID}"),
            json!({"auth_code_lifespan": "1"}),
        )
        .await;
    assert_eq!(r.json()["result"]["auth_code_lifespan"], "1");
    let location = e.decide(&cookie, "allow", CONNECTOR_REDIRECT, "late").await;
    let code = query_value(&location, "code").expect("code");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = e.exchange(&code, CONNECTOR_REDIRECT).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (StatusCode::UNAUTHORIZED, GENERIC_401)
    );

    // A user locked after signing in loses the session.
    let e = env("healthy");
    let (_, cookie) = e.sign_in(&user, &password).await;
    let cookie = cookie.expect("signed in");
    let id = e
        .emu
        .rows("sys_user")
        .into_iter()
        .find(|r| r["user_name"] == "m365.integration");
    let id = id
        .and_then(|r| r["sys_id"].as_str().map(String::from))
        .expect("user row");
    let r = e
        .patch(
            &format!("/api/now/table/sys_user/{id}"),
            json!({"locked_out": "true"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = e
        .consent_get(&cookie, &e.auth_query(CONNECTOR_REDIRECT, Some("s")))
        .await;
    assert!(page.text.contains("user_password") && !page.text.contains(">Allow<"));
}

// ---- Table API: invalid queries, HEAD, X-http-method-override ----

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

// ---- Batch API quota, rate-limit window, TCP reset ----

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

#[tokio::test]
async fn rate_limit_count_resets_when_the_window_passes() {
    let e = env("rate-limited");
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    let reset: u64 = r.header("X-RateLimit-Reset").parse().unwrap_or(0);
    assert_eq!(
        reset % 3600,
        0,
        "the default window ends at the top of the hour"
    );
    e.emu.set_rate_limit(Some(2));
    e.emu.set_rate_window(Duration::from_millis(1500));
    let started = std::time::SystemTime::now();
    for _ in 0..2 {
        assert_eq!(api_status(&e).await, StatusCode::OK);
    }
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        api_status(&e).await,
        StatusCode::TOO_MANY_REQUESTS,
        "no reset yet"
    );
    let reset: u64 = r.header("X-RateLimit-Reset").parse().unwrap_or(0);
    let now = started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    assert!(
        reset > now && reset <= now + 3,
        "reset {reset} vs now {now}"
    );
    assert!(
        r.header("Retry-After")
            .parse::<u64>()
            .is_ok_and(|s| (1..=2).contains(&s))
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        api_status(&e).await,
        StatusCode::OK,
        "a new window starts at zero"
    );
}

#[tokio::test]
async fn reset_fault_closes_with_a_tcp_reset() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let e = start(EmulatorOptions {
        tls: false,
        ..EmulatorOptions::default()
    });
    let raw = || async {
        let mut s = tokio::net::TcpStream::connect(e.emu.addr())
            .await
            .expect("connects");
        s.write_all(
            b"GET /api/now/table/incident HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n",
        )
        .await
        .expect("writes");
        let mut buf = vec![0u8; 4096];
        tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("answers in time")
    };
    let plain = raw().await;
    assert!(
        plain.is_ok_and(|n| n > 0),
        "without a fault there is an answer"
    );
    e.emu.add_fault(Fault {
        method: None,
        path_prefix: "/api/now/table/incident".into(),
        kind: FaultKind::Reset,
        times: Some(1),
    });
    let reset = raw().await;
    assert!(
        reset
            .as_ref()
            .is_err_and(|err| err.kind() == std::io::ErrorKind::ConnectionReset),
        "expected a TCP reset, got {reset:?}"
    );
}
