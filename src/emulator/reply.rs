//! Response helpers: the platform's JSON error envelope, JSON bodies and the HTML pages the emulator
//! serves (login, hibernation, interstitial, IP block).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// `{"error":{"message","detail"},"status":"failure"}` with `status`.
pub fn error(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    let body = json!({
        "error": {"message": message, "detail": detail},
        "status": "failure",
    });
    json_with(status, &body)
}

/// A JSON body with `status`.
pub fn json_with(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    res
}

/// An HTML page with `status`.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    res
}

/// The hibernating developer instance page.
pub fn hibernation_page() -> Response {
    html(
        StatusCode::OK,
        "<!DOCTYPE html><html><head><title>Instance Hibernating page</title></head><body>\
         <h1>Your instance is hibernating</h1>\
         <p>Sign in to the site to wake your instance.</p>\
         <p><a href=\"https://developer.servicenow.com\">developer.servicenow.com</a></p>\
         </body></html>"
            .into(),
    )
}

/// A corporate proxy / SSO interstitial in front of the instance.
pub fn interstitial_page() -> Response {
    html(
        StatusCode::OK,
        "<!DOCTYPE html><html><head><title>Sign in to continue</title></head><body>\
         <form method=\"post\" action=\"/proxy/login\"><p>Your organisation requires you to sign in \
         before you can reach this site.</p><input name=\"username\"/><input type=\"password\" \
         name=\"password\"/><button>Sign in</button></form></body></html>"
            .into(),
    )
}

/// The 403 page of IP Address Access Control (the body is not documented; HTML, not JSON).
pub fn ip_blocked_page() -> Response {
    html(
        StatusCode::FORBIDDEN,
        "<!DOCTYPE html><html><head><title>Access denied</title></head><body>\
         <h1>Access denied</h1><p>Your IP address is not allowed to access this instance.</p>\
         </body></html>"
            .into(),
    )
}

/// The local login page (`/login.do`, and `/oauth_auth.do` without an auto-redirect IdP), with the
/// refusal message after a failed sign-in.
pub fn login_page(target: &str, error: Option<&str>) -> Response {
    let target = escape(target);
    let error = error
        .map(|e| format!("<div class=\"outputmsg_error\">{}</div>", escape(e)))
        .unwrap_or_default();
    html(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><html><head><title>Log in | ServiceNow</title></head><body>{error}\
             <form id=\"loginPage\" method=\"post\" action=\"/login.do\">\
             <input type=\"hidden\" name=\"sysparm_goto_url\" value=\"{target}\"/>\
             <label for=\"user_name\">User name</label><input id=\"user_name\" name=\"user_name\"/>\
             <label for=\"user_password\">Password</label>\
             <input id=\"user_password\" type=\"password\" name=\"user_password\"/>\
             <button id=\"sysverb_login\" type=\"submit\">Log in</button></form></body></html>"
        ),
    )
}

/// The OAuth consent page: `entity` asks to connect to the signed-in `user`'s account; the form posts
/// `hidden` back with `action=allow` or `action=deny`.
pub fn consent_page(entity: &str, user: &str, hidden: &[(&str, &str)]) -> Response {
    let entity = escape(entity);
    let fields: String = hidden
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
                escape(k),
                escape(v)
            )
        })
        .collect();
    html(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><html><head><title>Authorize | ServiceNow</title></head><body>\
             <div class=\"user\">{user} <a id=\"not_you\" href=\"/logout.do\">Not You?</a></div>\
             <form id=\"oauth_consent\" method=\"post\" action=\"/oauth_auth.do\">\
             <h1>\"{entity}\" would like to connect to your ServiceNow account</h1>\
             <p>{entity} is requesting access to your account (scope: useraccount).</p>{fields}\
             <button id=\"allow\" name=\"action\" value=\"allow\" type=\"submit\">Allow</button>\
             <button id=\"deny\" name=\"action\" value=\"deny\" type=\"submit\">Deny</button>\
             </form></body></html>",
            user = escape(user),
        ),
    )
}

/// The page `/oauth_auth.do` shows when a request cannot be authorized (no code is issued; the status
/// and wording of the platform's page are not documented).
pub fn oauth_error_page(why: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        format!(
            "<!DOCTYPE html><html><head><title>OAuth error</title></head><body>\
             <h1>Invalid OAuth request</h1><p class=\"oauth_error\">{}</p></body></html>",
            escape(why)
        ),
    )
}

/// Minimal HTML escaping for values placed in pages.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
