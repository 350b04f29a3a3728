//! `/oauth_token.do` (password, refresh_token, client_credentials and authorization_code grants with the
//! platform's preconditions, one generic 401 body for every failure), the SSO auto-redirect shared with
//! `/oauth_auth.do`, and the instance root.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use serde_json::json;

use super::auth::{basic_credentials, can_log_in, user_by_name};
use super::reply;
use super::state::{App, Token, lock};
use super::store::{Row, Store, text};
use super::table_api::params;

/// The token endpoint and the instance root (the login and consent pages are in `consent.rs`).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/oauth_token.do", axum::routing::post(token))
        .route("/", get(root))
        .route("/navpage.do", get(root))
}

/// The one failure body of the token endpoint.
fn denied() -> Response {
    let mut res = reply::json_with(
        StatusCode::UNAUTHORIZED,
        &json!({"error_description": "access_denied", "error": "server_error"}),
    );
    res.headers_mut()
        .insert("x-is-logged-in", HeaderValue::from_static("false"));
    res
}

fn property(store: &Store, name: &str) -> Option<String> {
    store.property(name)
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn lifespan(entity: &Row, field: &str, default: u64) -> u64 {
    text(entity, field).parse().unwrap_or(default)
}

/// Why a login-style grant may not proceed for this user (web-service-only and reset users cannot hold
/// an interactive session).
fn interactive_user_ok(user: &Row) -> bool {
    can_log_in(user)
        && text(user, "web_service_access_only") != "true"
        && text(user, "password_needs_reset") != "true"
}

async fn token(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return denied();
    }
    let form = params(std::str::from_utf8(&body).ok());
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (mut client_id, mut client_secret) = (get("client_id"), get("client_secret"));
    if let Some((id, secret)) = basic_credentials(&headers) {
        if client_id.is_empty() {
            client_id = id;
        }
        if client_secret.is_empty() {
            client_secret = secret;
        }
    }
    let store = lock(&app.db);
    if property(&store, "com.snc.platform.security.oauth.is.active").as_deref() != Some("true") {
        return denied();
    }
    let Some(entity) = store.tables.get("oauth_entity").and_then(|t| {
        t.rows.iter().find(|r| {
            !client_id.is_empty()
                && text(r, "client_id") == client_id
                && text(r, "type") == "client"
        })
    }) else {
        return denied();
    };
    if text(entity, "active") != "true"
        || client_secret.is_empty()
        || text(entity, "client_secret") != client_secret
    {
        return denied();
    }
    let access_life = lifespan(entity, "access_token_lifespan", 1800);
    let refresh_life = lifespan(entity, "refresh_token_lifespan", 8_640_000);
    let (user_sys_id, with_refresh, old_refresh) = match get("grant_type").as_str() {
        "password" => {
            if property(&store, "glide.oauth.inbound.ropc.grant_type.disabled").as_deref()
                == Some("true")
            {
                return denied();
            }
            match user_by_name(&store, &get("username")) {
                Some(user)
                    if interactive_user_ok(user)
                        && !text(user, "user_password").is_empty()
                        && text(user, "user_password") == get("password") =>
                {
                    (text(user, "sys_id").to_string(), true, None)
                }
                _ => return denied(),
            }
        }
        "refresh_token" => {
            let presented = get("refresh_token");
            let owner = lock(&app.tokens).get(&presented).and_then(|t| {
                (t.refresh && t.client_id == client_id && t.expires > Instant::now())
                    .then(|| t.user_sys_id.clone())
            });
            match owner.and_then(|id| store.find("sys_user", &id)) {
                Some(user) if can_log_in(user) => {
                    (text(user, "sys_id").to_string(), true, Some(presented))
                }
                _ => return denied(),
            }
        }
        "authorization_code" => {
            // Single use: the code is gone once presented, whatever the outcome.
            let code = lock(&app.codes).remove(&get("code"));
            let redirect = get("redirect_uri");
            let owner = code.filter(|c| {
                c.client_id == client_id
                    && c.expires > Instant::now()
                    && (redirect == c.redirect_uri || (redirect.is_empty() && !c.redirect_given))
            });
            match owner.and_then(|c| store.find("sys_user", &c.user_sys_id)) {
                Some(user) if interactive_user_ok(user) => {
                    (text(user, "sys_id").to_string(), true, None)
                }
                _ => return denied(),
            }
        }
        "client_credentials" => {
            let enabled = property(
                &store,
                "glide.oauth.inbound.client.credential.grant_type.enabled",
            );
            let user = store.find("sys_user", text(entity, "user"));
            match (enabled.as_deref(), user) {
                (Some("true"), Some(user)) if interactive_user_ok(user) => {
                    (text(user, "sys_id").to_string(), false, None)
                }
                _ => return denied(),
            }
        }
        _ => return denied(),
    };
    drop(store);
    let access = new_token();
    let now = Instant::now();
    let mut tokens = lock(&app.tokens);
    tokens.insert(
        access.clone(),
        Token {
            user_sys_id: user_sys_id.clone(),
            client_id: client_id.clone(),
            expires: now + Duration::from_secs(access_life),
            refresh: false,
        },
    );
    let mut body = json!({
        "access_token": access,
        "scope": "useraccount",
        "token_type": "Bearer",
        "expires_in": access_life.saturating_sub(1),
    });
    if with_refresh {
        // A refresh grant hands back the refresh token it was given; the password grant mints one.
        let refresh = old_refresh.unwrap_or_else(new_token);
        tokens.entry(refresh.clone()).or_insert(Token {
            user_sys_id,
            client_id,
            expires: now + Duration::from_secs(refresh_life),
            refresh: true,
        });
        body["refresh_token"] = json!(refresh);
    }
    let mut res = reply::json_with(StatusCode::OK, &body);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The auto-redirect IdP's AuthnRequest URL, when Multi-Provider SSO would send browsers away.
pub fn sso_redirect(store: &Store) -> Option<String> {
    let plugin_on = store.tables.get("sys_plugins").is_some_and(|t| {
        t.rows.iter().any(|r| {
            text(r, "source") == "com.snc.integration.sso.multi.installer"
                && text(r, "active") == "1"
        })
    });
    let enabled = property(store, "glide.authenticate.multisso.enabled").as_deref() == Some("true");
    if !plugin_on || !enabled {
        return None;
    }
    let configured = property(store, "glide.authenticate.sso.redirect.idp").unwrap_or_default();
    store
        .rows_with_children_where("sso_properties", |r| {
            text(r, "active") == "true"
                && (text(r, "is_primary") == "true"
                    || (!configured.is_empty() && text(r, "sys_id") == configured))
        })
        .first()
        .map(|r| text(r, "idp_authnrequest_url").to_string())
        .filter(|u| !u.is_empty())
}

pub fn redirect_to_idp(url: &str, relay: &str) -> Response {
    let saml = STANDARD
        .encode(b"<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>");
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    ser.append_pair("SAMLRequest", &saml);
    ser.append_pair("RelayState", relay);
    let sep = if url.contains('?') { '&' } else { '?' };
    let location = format!("{url}{sep}{}", ser.finish());
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

async fn root(State(app): State<App>) -> Response {
    let redirect = sso_redirect(&lock(&app.db));
    match redirect {
        Some(url) => redirect_to_idp(&url, "/navpage.do"),
        None => reply::login_page("/navpage.do", None),
    }
}
