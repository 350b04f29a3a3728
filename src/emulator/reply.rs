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

/// The local login page (`/login.do`, and `/oauth_auth.do` without an auto-redirect IdP).
pub fn login_page(target: &str) -> Response {
    let target = escape(target);
    html(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><html><head><title>Log in | ServiceNow</title></head><body>\
             <form id=\"loginPage\" method=\"post\" action=\"/login.do\">\
             <input type=\"hidden\" name=\"sysparm_goto_url\" value=\"{target}\"/>\
             <label for=\"user_name\">User name</label><input id=\"user_name\" name=\"user_name\"/>\
             <label for=\"user_password\">Password</label>\
             <input id=\"user_password\" type=\"password\" name=\"user_password\"/>\
             <button id=\"sysverb_login\" type=\"submit\">Log in</button></form></body></html>"
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
