//! The authorization-code flow: the `/oauth_auth.do` login page and SSO redirect, `/login.do` sessions,
//! the consent page, single-use codes bound to client and redirect, state and code lifespan.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::json;

use super::{Env, GENERIC_401, Reply, env};

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
