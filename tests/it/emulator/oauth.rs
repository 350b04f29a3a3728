//! Basic authentication and the OAuth token endpoint: the password and refresh grants, bearer use,
//! token lifespans per entity, login blockers and OAuth switches, secret overrides.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use snowdoctor::emulator::{EmulatorOptions, SecretOverrides};

use super::{GENERIC_401, env, result, start};

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
