//! Protocol tests for the instance emulator: a real HTTP client (reqwest, trusting only the emulator's
//! generated CA) against `Emulator::start_blocking`. One file per surface of the emulator; the client
//! helpers every file uses live here.

mod batch;
mod consent;
mod faults;
mod oauth;
mod pages;
mod scenarios;
mod table_api;
mod writes;

use std::net::IpAddr;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;

use snowdoctor::emulator::{Emulator, EmulatorOptions};

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

async fn count(e: &Env, table: &str, query: &str) -> usize {
    let path = format!(
        "/api/now/table/{table}?sysparm_query={}",
        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
    );
    let r = e.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    result(&r).len()
}
