//! Redaction applied before anything is stored in the transcript: secret headers, secret form and JSON
//! fields, secret query parameters, and every value in the run's `SecretRegistry`.

use serde_json::Value;

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
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let value = if is_secret_field(&k) {
                    REDACTED.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), value)
            })
            .collect();
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

fn form(text: &str) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| {
            let value = if is_secret_field(&k) {
                REDACTED.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
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
}
