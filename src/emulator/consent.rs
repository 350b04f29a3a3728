//! The browser side of the authorization-code grant: `/login.do` (a form sign-in that opens a session,
//! cookie `JSESSIONID`), `/oauth_auth.do` (login page or SSO redirect when signed out; the consent page
//! with Allow / Deny when signed in; `state` enforced under `glide.oauth.state.parameter.required`) and
//! `/logout.do` (the consent page's "Not You?"). Allow redirects to the client with a single-use code
//! that `/oauth_token.do` exchanges (see `oauth.rs`).

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::{can_log_in, verify_password};
use super::oauth::{new_token, redirect_to_idp, sso_redirect};
use super::reply;
use super::state::{App, AuthCode, Session, lock};
use super::store::{Store, text};
use super::table_api::params;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "JSESSIONID";

/// Lifespan of a code when the entity's `auth_code_lifespan` is empty (seconds).
const DEFAULT_CODE_LIFESPAN: u64 = 60;

/// Routes of the sign-in and consent pages.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/oauth_auth.do", get(authorize).post(decide))
        .route("/login.do", get(login_form).post(login))
        .route("/logout.do", get(logout))
}

type Pairs = Vec<(String, String)>;

fn field<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The session named by the request's cookie, if it is still open and its user may still log in.
fn session(app: &App, headers: &HeaderMap) -> Option<(String, Session)> {
    let cookies = headers.get_all(header::COOKIE);
    let id = cookies
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())?;
    let found = lock(&app.sessions).get(&id).cloned()?;
    let usable = lock(&app.db)
        .find("sys_user", &found.user_sys_id)
        .is_some_and(can_log_in);
    if usable {
        Some((id, found))
    } else {
        lock(&app.sessions).remove(&id);
        None
    }
}

fn see_other(location: &str) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Only same-site paths are followed after sign-in (no open redirect).
fn local_target(goto: &str) -> &str {
    if goto.starts_with('/') && !goto.starts_with("//") && !goto.contains('\\') {
        goto
    } else {
        "/navpage.do"
    }
}

async fn login_form(RawQuery(raw): RawQuery) -> Response {
    let pairs = params(raw.as_deref());
    reply::login_page(local_target(field(&pairs, "sysparm_goto_url")), None)
}

/// `POST /login.do`: only active, unlocked, interactive users without a pending password reset get a
/// session. Every refusal is the same "User name or password invalid" page (no account probing).
async fn login(State(app): State<App>, body: Bytes) -> Response {
    let form = params(std::str::from_utf8(&body).ok());
    let target = local_target(field(&form, "sysparm_goto_url")).to_string();
    let user = {
        let store = lock(&app.db);
        verify_password(
            &store,
            field(&form, "user_name"),
            field(&form, "user_password"),
        )
        .filter(|u| {
            text(u, "web_service_access_only") != "true"
                && text(u, "password_needs_reset") != "true"
        })
        .map(|u| text(u, "sys_id").to_string())
    };
    let Some(user_sys_id) = user else {
        return reply::login_page(&target, Some("User name or password invalid"));
    };
    let id = new_token();
    lock(&app.sessions).insert(
        id.clone(),
        Session {
            user_sys_id,
            ck: new_token(),
        },
    );
    let mut res = see_other(&target);
    let secure = if app.scheme == "https" {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some((id, _)) = session(&app, &headers) {
        lock(&app.sessions).remove(&id);
    }
    let mut res = see_other("/login.do");
    let expired = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&expired) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// A validated authorization request.
struct Request {
    client_id: String,
    entity: String,
    redirect: String,
    redirect_given: bool,
    lifespan: u64,
}

/// Checks an authorization request against the instance; the error page when it cannot go on.
fn validate(store: &Store, pairs: &Pairs) -> Result<Request, Response> {
    let fail = |why: &str| Err(reply::oauth_error_page(why));
    if store
        .property("com.snc.platform.security.oauth.is.active")
        .as_deref()
        != Some("true")
    {
        return fail("OAuth is not active on this instance.");
    }
    if field(pairs, "response_type") != "code" {
        return fail("Unsupported response_type: this instance answers response_type=code.");
    }
    let client_id = field(pairs, "client_id");
    let Some(entity) = store.tables.get("oauth_entity").and_then(|t| {
        t.rows.iter().find(|r| {
            !client_id.is_empty()
                && text(r, "client_id") == client_id
                && text(r, "type") == "client"
                && text(r, "active") == "true"
        })
    }) else {
        return fail("Invalid client_id: no active OAuth client has this id.");
    };
    if store
        .property("glide.oauth.state.parameter.required")
        .as_deref()
        == Some("true")
        && field(pairs, "state").is_empty()
    {
        return fail("The state parameter is required (glide.oauth.state.parameter.required).");
    }
    // Incoming redirect URIs are matched against the entity's list; when none matches, the first
    // configured one is used (docs/reference/servicenow-platform.md §6.1).
    let configured: Vec<&str> = text(entity, "redirect_url")
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    let given = field(pairs, "redirect_uri");
    let redirect = if configured.contains(&given) {
        given
    } else if let Some(first) = configured.first() {
        first
    } else {
        return fail("The OAuth client has no redirect URL.");
    };
    Ok(Request {
        client_id: client_id.to_string(),
        entity: text(entity, "name").to_string(),
        redirect: redirect.to_string(),
        redirect_given: !given.is_empty(),
        lifespan: text(entity, "auth_code_lifespan")
            .parse::<u64>()
            .unwrap_or(DEFAULT_CODE_LIFESPAN)
            .min(86_400),
    })
}

/// `GET /oauth_auth.do`.
async fn authorize(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let raw = raw.unwrap_or_default();
    let Some((_, signed_in)) = session(&app, &headers) else {
        let target = format!("/oauth_auth.do?{raw}");
        let redirect = sso_redirect(&lock(&app.db));
        return match redirect {
            Some(url) => redirect_to_idp(&url, &target),
            None => reply::login_page(&target, None),
        };
    };
    let pairs = params(Some(&raw));
    let store = lock(&app.db);
    let request = match validate(&store, &pairs) {
        Ok(r) => r,
        Err(page) => return page,
    };
    let user = store
        .find("sys_user", &signed_in.user_sys_id)
        .map(|u| text(u, "name").to_string())
        .unwrap_or_default();
    let hidden: Vec<(&str, &str)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "scope",
    ]
    .into_iter()
    .map(|k| (k, field(&pairs, k)))
    .filter(|(_, v)| !v.is_empty())
    .chain([("sysparm_ck", signed_in.ck.as_str())])
    .collect();
    reply::consent_page(&request.entity, &user, &hidden)
}

/// `POST /oauth_auth.do`: the consent form's Allow or Deny.
async fn decide(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let form = params(std::str::from_utf8(&body).ok());
    let Some((_, signed_in)) = session(&app, &headers) else {
        return reply::login_page("/oauth_auth.do", None);
    };
    if field(&form, "sysparm_ck") != signed_in.ck {
        return reply::oauth_error_page("The form has expired; open the authorization link again.");
    }
    let request = match validate(&lock(&app.db), &form) {
        Ok(r) => r,
        Err(page) => return page,
    };
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    match field(&form, "action") {
        "allow" => {
            let code = new_token();
            lock(&app.codes).insert(
                code.clone(),
                AuthCode {
                    user_sys_id: signed_in.user_sys_id,
                    client_id: request.client_id,
                    redirect_uri: request.redirect.clone(),
                    redirect_given: request.redirect_given,
                    expires: Instant::now() + Duration::from_secs(request.lifespan),
                },
            );
            out.append_pair("code", &code);
        }
        // Deny does not log the user out (t_AuthorizeAccessEndpiont.md).
        "deny" => {
            out.append_pair("error", "access_denied");
        }
        _ => return reply::oauth_error_page("Choose Allow or Deny."),
    }
    let state = field(&form, "state");
    if !state.is_empty() {
        out.append_pair("state", state);
    }
    let sep = if request.redirect.contains('?') {
        '&'
    } else {
        '?'
    };
    see_other(&format!("{}{sep}{}", request.redirect, out.finish()))
}
