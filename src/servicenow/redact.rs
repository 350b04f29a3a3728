//! Redaction applied before anything is stored in the transcript: secret headers, secret form and JSON
//! fields, secret query parameters, and every value in the run's `SecretRegistry` — and the scrubbing
//! of every response header the moment it arrives, so an echoed credential never reaches a check.

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::transcript::Header;
use crate::secrets::{REDACTED, SecretRegistry};

/// Field and parameter names whose values are always secret.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "user_password",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "token",
    "assertion",
];

/// True for a header whose value must never be stored.
pub fn is_secret_header(name: &str) -> bool {
    [
        "authorization",
        "cookie",
        "set-cookie",
        "proxy-authorization",
        "x-user-token",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn is_secret_field(name: &str) -> bool {
    SECRET_FIELDS.iter().any(|f| name.eq_ignore_ascii_case(f))
}

/// Redacts secret query parameters (and userinfo) of a URL.
pub fn url(raw: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(raw) else {
        return raw.to_string();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some(REDACTED));
    }
    if parsed.query().is_some() {
        let pairs = redact_pairs(parsed.query_pairs());
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// Redacts a request or response body by its MIME type, then by known secret values.
pub fn body(secrets: &SecretRegistry, mime: &str, text: &str) -> String {
    let structural = if mime.contains("x-www-form-urlencoded") {
        form(text)
    } else if mime.contains("json") {
        json(text)
    } else {
        text.to_string()
    };
    secrets.redact(&structural)
}

/// Response headers with every known secret value replaced (a header that no longer parses after
/// replacement becomes `[REDACTED]` whole).
pub fn headers(secrets: &SecretRegistry, headers: &HeaderMap) -> HeaderMap {
    let mut clean = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let text = String::from_utf8_lossy(value.as_bytes());
        let redacted = secrets.redact(&text);
        let value = if redacted == text {
            value.clone()
        } else {
            HeaderValue::from_str(&redacted).unwrap_or(HeaderValue::from_static(REDACTED))
        };
        clean.append(name.clone(), value);
    }
    clean
}

/// The request headers the transcript keeps: `Accept`, `Authorization` (always as `[REDACTED]`) when
/// the request authenticates, and `Content-Type` when it has a body.
pub fn request_headers(
    accept: &str,
    authenticated: bool,
    content_type: Option<&str>,
) -> Vec<Header> {
    let mut headers = vec![Header {
        name: "Accept".into(),
        value: accept.into(),
    }];
    if authenticated {
        headers.push(Header {
            name: "Authorization".into(),
            value: REDACTED.into(),
        });
    }
    if let Some(mime) = content_type {
        headers.push(Header {
            name: "Content-Type".into(),
            value: mime.into(),
        });
    }
    headers
}

/// The response headers the transcript keeps, secret headers blanked.
pub fn response_headers(headers: &HeaderMap) -> Vec<Header> {
    headers
        .iter()
        .map(|(name, value)| Header {
            name: name.as_str().to_string(),
            value: if is_secret_header(name.as_str()) {
                REDACTED.into()
            } else {
                value.to_str().unwrap_or("<binary>").to_string()
            },
        })
        .collect()
}

fn form(text: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(redact_pairs(url::form_urlencoded::parse(text.as_bytes())))
        .finish()
}

/// Decoded `name=value` pairs (a query string or a form body) with secret fields' values replaced.
fn redact_pairs(pairs: url::form_urlencoded::Parse<'_>) -> Vec<(String, String)> {
    pairs
        .map(|(name, value)| {
            let value = if is_secret_field(&name) {
                REDACTED.to_string()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect()
}

fn json(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            redact_value(&mut value);
            serde_json::to_string(&value).unwrap_or_else(|_| text.to_string())
        }
        Err(_) => text.to_string(),
    }
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if is_secret_field(key) && !inner.is_null() {
                    *inner = Value::String(REDACTED.into());
                } else {
                    redact_value(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_forms_json_and_queries_by_field_name() {
        let registry = SecretRegistry::new();
        let f = body(
            &registry,
            "application/x-www-form-urlencoded",
            "grant_type=password&username=bob&password=s3cret&client_secret=xyz",
        );
        assert!(
            !f.contains("s3cret") && !f.contains("xyz") && f.contains("username=bob"),
            "{f}"
        );
        let j = body(
            &registry,
            "application/json",
            r#"{"access_token":"AAA","nested":{"refresh_token":"BBB"},"scope":"useraccount"}"#,
        );
        assert!(
            !j.contains("AAA") && !j.contains("BBB") && j.contains("useraccount"),
            "{j}"
        );
        let u = url("https://h/oauth_auth.do?client_id=abc&code=zzz");
        assert!(u.contains("client_id=abc") && !u.contains("zzz"), "{u}");
    }

    #[test]
    fn echoed_secrets_are_redacted_from_response_headers() {
        let secrets = SecretRegistry::new();
        secrets.register(&secrecy::SecretString::from("canary-pw-123".to_string()));
        let mut echoed = HeaderMap::new();
        echoed.insert("x-echo", HeaderValue::from_static("pw=canary-pw-123"));
        echoed.insert(
            "location",
            HeaderValue::from_static("/login?next=canary-pw-123"),
        );
        echoed.insert("x-plain", HeaderValue::from_static("nothing secret"));
        let clean = headers(&secrets, &echoed);
        assert_eq!(clean["x-echo"], "pw=[REDACTED]");
        assert_eq!(clean["location"], "/login?next=[REDACTED]");
        assert_eq!(clean["x-plain"], "nothing secret");
    }

    #[test]
    fn secrets_too_short_for_the_registry_are_still_blanked_by_field_name() {
        let registry = SecretRegistry::new();
        registry.register(&secrecy::SecretString::from("pw1".to_string()));
        assert!(
            registry.is_empty(),
            "the registry ignores three-character values"
        );
        let f = body(
            &registry,
            "application/x-www-form-urlencoded",
            "grant_type=password&username=bob&password=pw1&client_secret=cs1",
        );
        assert_eq!(
            f,
            "grant_type=password&username=bob&password=%5BREDACTED%5D&client_secret=%5BREDACTED%5D"
        );
        let j = body(&registry, "application/json", r#"{"access_token":"t1"}"#);
        assert_eq!(j, r#"{"access_token":"[REDACTED]"}"#);
    }
}
