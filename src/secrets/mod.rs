//! Secrets: typed so they cannot be printed or serialised, and a registry of every secret value the run
//! knows (passwords, client secrets, tokens minted during the run) so that anything written can be
//! redacted before it is stored and scanned afterwards.
//!
//! **Two layers, and the limit of the second.** The first layer is construction: a secret is a
//! [`SecretString`] from the moment it is read, and the only places that expose it put it on the wire
//! (the `Authorization` header, the token request's form body); the transcript stores that body only
//! after [`crate::servicenow::redact`] has blanked the secret fields *by name*. So snowdoctor never
//! prints a secret of any length itself. The second layer, this registry, catches a secret *echoed
//! back* by the instance or a proxy (in a body, a header, an error message) by its value, in any
//! encoding it can arrive or be written in ([`pattern`]: JSON escapes, percent and form encoding,
//! HTML/XML entities). It ignores values shorter than four characters (`MIN_TRACKED_LEN`): replacing
//! every `ab` in every output would mangle it. A password that short is still never printed by us, and
//! its Basic wire form (`base64(user:password)`, at least eight characters) is still tracked; only a
//! server echoing the bare short value back in free text would go unredacted.
//!
//! A tracked value shorter than [`SHORT_SECRET_LEN`] (`wrong`, `secret`) also occurs in ordinary text;
//! [`SecretRegistry::leaks`] says which secret (by the variable or file it came from) was seen, so the
//! output scan can explain such a collision instead of withholding an output without a word.

mod pattern;

use std::sync::{Arc, RwLock};

use regex::Regex;
pub use secrecy::{ExposeSecret, SecretString};

/// The marker that replaces a secret in any output.
pub const REDACTED: &str = "[REDACTED]";

/// Shortest secret the registry tracks: shorter values would redact ordinary words.
const MIN_TRACKED_LEN: usize = 4;

/// Secrets shorter than this are likely to collide with ordinary words in a report.
pub const SHORT_SECRET_LEN: usize = 8;

/// One tracked secret: where it came from, and its value in every encoding.
struct Entry {
    label: String,
    value: SecretString,
    /// `None` only if the value is too long to compile; plain matching is used then.
    pattern: Option<Regex>,
}

impl Entry {
    fn is_match(&self, text: &str) -> bool {
        match &self.pattern {
            Some(re) => re.is_match(text),
            None => text.contains(self.value.expose_secret()),
        }
    }

    fn replace_all(&self, text: &str) -> String {
        match &self.pattern {
            Some(re) => re.replace_all(text, REDACTED).into_owned(),
            None => text.replace(self.value.expose_secret(), REDACTED),
        }
    }
}

/// A secret seen in a text by [`SecretRegistry::leaks`]: never its value, only where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Where the secret came from, e.g. `SNOWDOCTOR_INTEGRATION_PASSWORD`.
    pub label: String,
    /// Its length in characters.
    pub len: usize,
}

impl Leak {
    /// True when the value is short enough to be an ordinary word (see [`SHORT_SECRET_LEN`]).
    pub fn is_short(&self) -> bool {
        self.len < SHORT_SECRET_LEN
    }
}

/// Every secret value known to the run. Cheap to clone; shared by the client, the transcript and the
/// report writers.
#[derive(Clone, Default)]
pub struct SecretRegistry {
    entries: Arc<RwLock<Vec<Entry>>>,
}

impl std::fmt::Debug for SecretRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRegistry")
            .field("count", &self.len())
            .finish()
    }
}

impl SecretRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a secret so it is redacted wherever it appears later.
    pub fn register(&self, secret: &SecretString) {
        self.register_as("a secret", secret);
    }

    /// Remembers a secret under `label` (the variable, file or exchange it came from), which is what
    /// the output scan names when the value shows up somewhere.
    pub fn register_as(&self, label: &str, secret: &SecretString) {
        let value = secret.expose_secret();
        // `[REDACTED]` is what a value read back from an already redacted text looks like, not a secret.
        if value.chars().count() < MIN_TRACKED_LEN || value.contains(REDACTED) {
            return;
        }
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        if let Some(known) = entries
            .iter_mut()
            .find(|e| e.value.expose_secret() == value)
        {
            // A name beats the anonymous label; the first name wins otherwise.
            if known.label == "a secret" {
                known.label = label.to_string();
            }
            return;
        }
        entries.push(Entry {
            label: label.to_string(),
            value: SecretString::from(value.to_string()),
            pattern: pattern::compile(value),
        });
        // Longest first, so a secret containing another is replaced whole.
        entries.sort_by_key(|e| std::cmp::Reverse(e.value.expose_secret().len()));
    }

    /// Number of tracked secrets.
    pub fn len(&self) -> usize {
        self.entries.read().map(|v| v.len()).unwrap_or(0)
    }

    /// True when no secret is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces every known secret in `text`, in any encoding, with [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let Ok(entries) = self.entries.read() else {
            return text.to_string();
        };
        let mut out = text.to_string();
        for entry in entries.iter() {
            if entry.is_match(&out) {
                out = entry.replace_all(&out);
            }
        }
        out
    }

    /// True when `text` contains a known secret in any encoding.
    pub fn leaks_into(&self, text: &str) -> bool {
        self.entries
            .read()
            .map(|entries| entries.iter().any(|e| e.is_match(text)))
            .unwrap_or(false)
    }

    /// The secrets that occur in `text`, named by where they came from (never by value).
    pub fn leaks(&self, text: &str) -> Vec<Leak> {
        let Ok(entries) = self.entries.read() else {
            return Vec::new();
        };
        entries
            .iter()
            .filter(|e| e.is_match(text))
            .map(|e| Leak {
                label: e.label.clone(),
                len: e.value.expose_secret().chars().count(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_plain_and_url_encoded_forms() {
        let registry = SecretRegistry::new();
        registry.register(&SecretString::from("p@ss w0rd&x".to_string()));
        let text = "password=p%40ss+w0rd%26x and p@ss w0rd&x";
        let redacted = registry.redact(text);
        assert_eq!(redacted, "password=[REDACTED] and [REDACTED]");
        assert!(registry.leaks_into(text));
        assert!(!registry.leaks_into(&redacted));
    }

    #[test]
    fn redacts_json_escaped_and_entity_forms_and_keeps_json_valid() {
        let registry = SecretRegistry::new();
        let canary = r#"Cnry"pw\1&<x>'z"#;
        registry.register_as(
            "SNOWDOCTOR_PASSWORD",
            &SecretString::from(canary.to_string()),
        );
        let body = serde_json::json!({"error": {"message": format!("bad password {canary}")}});
        let redacted = registry.redact(&body.to_string());
        let parsed: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
        assert_eq!(parsed["error"]["message"], "bad password [REDACTED]");
        let html = "x Cnry&quot;pw\\1&amp;&lt;x&gt;&#39;z y";
        assert_eq!(registry.redact(html), "x [REDACTED] y");
        let leaks = registry.leaks(html);
        assert_eq!(leaks.len(), 1);
        assert_eq!(leaks[0].label, "SNOWDOCTOR_PASSWORD");
        assert!(!leaks[0].is_short());
    }

    #[test]
    fn ignores_values_too_short_to_track() {
        let registry = SecretRegistry::new();
        registry.register(&SecretString::from("ab".to_string()));
        assert!(registry.is_empty());
        assert_eq!(registry.redact("abc"), "abc");
    }

    #[test]
    fn a_name_replaces_the_anonymous_label() {
        let registry = SecretRegistry::new();
        let secret = SecretString::from("wrong".to_string());
        registry.register(&secret);
        registry.register_as("SNOWDOCTOR_INTEGRATION_PASSWORD", &secret);
        let leaks = registry.leaks("the wrong answer");
        assert_eq!(leaks[0].label, "SNOWDOCTOR_INTEGRATION_PASSWORD");
        assert!(leaks[0].is_short());
    }
}
