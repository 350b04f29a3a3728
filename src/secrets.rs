//! Secrets: typed so they cannot be printed or serialised, and a registry of every secret value the run
//! knows (passwords, client secrets, tokens minted during the run) so that anything written can be
//! redacted before it is stored and scanned afterwards.
//!
//! **Two layers, and the limit of the second.** The first layer is construction: a secret is a
//! [`SecretString`] from the moment it is read, and the only places that expose it put it on the wire
//! (the `Authorization` header, the token request's form body); the transcript stores that body only
//! after [`crate::servicenow::redact`] has blanked the secret fields *by name*. So snowdoctor never
//! prints a secret of any length itself. The second layer, this registry, catches a secret *echoed
//! back* by the instance or a proxy (in a body, a header, an error message) by its value. It ignores
//! values shorter than four characters (`MIN_TRACKED_LEN`): replacing every `ab` in every output would
//! mangle it. A password that short is still never printed by us, and its Basic wire form
//! (`base64(user:password)`, at least eight characters) is still tracked; only a server echoing the
//! bare short value back in free text would go unredacted.

use std::sync::{Arc, RwLock};

pub use secrecy::{ExposeSecret, SecretString};

/// The marker that replaces a secret in any output.
pub const REDACTED: &str = "[REDACTED]";

/// Shortest secret the registry tracks: shorter values would redact ordinary words.
const MIN_TRACKED_LEN: usize = 4;

/// Every secret value known to the run. Cheap to clone; shared by the client, the transcript and the
/// report writers.
#[derive(Clone, Default)]
pub struct SecretRegistry {
    values: Arc<RwLock<Vec<SecretString>>>,
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
        let value = secret.expose_secret();
        if value.len() < MIN_TRACKED_LEN {
            return;
        }
        if let Ok(mut values) = self.values.write()
            && !values.iter().any(|known| known.expose_secret() == value)
        {
            values.push(SecretString::from(value.to_string()));
        }
    }

    /// Number of tracked secrets.
    pub fn len(&self) -> usize {
        self.values.read().map(|v| v.len()).unwrap_or(0)
    }

    /// True when no secret is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces every known secret in `text` (and its URL-encoded form) with [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let Ok(values) = self.values.read() else {
            return text.to_string();
        };
        let mut out = text.to_string();
        // Longest first, so a secret containing another is replaced whole.
        let mut sorted: Vec<&str> = values.iter().map(|s| s.expose_secret()).collect();
        sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in sorted {
            if out.contains(secret) {
                out = out.replace(secret, REDACTED);
            }
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            if encoded != secret && out.contains(&encoded) {
                out = out.replace(&encoded, REDACTED);
            }
        }
        out
    }

    /// True when `text` contains a known secret (or its URL-encoded form).
    pub fn leaks_into(&self, text: &str) -> bool {
        self.redact(text) != text
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
    fn ignores_values_too_short_to_track() {
        let registry = SecretRegistry::new();
        registry.register(&SecretString::from("ab".to_string()));
        assert!(registry.is_empty());
        assert_eq!(registry.redact("abc"), "abc");
    }
}
