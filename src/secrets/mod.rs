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
//! encoding it can arrive or be written in (`pattern`: JSON escapes, percent and form encoding,
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

use aho_corasick::AhoCorasick;
pub use secrecy::{ExposeSecret, SecretString};

/// The marker that replaces a secret in any output.
pub const REDACTED: &str = "[REDACTED]";

/// Shortest secret the registry tracks: shorter values would redact ordinary words.
const MIN_TRACKED_LEN: usize = 4;

/// Secrets shorter than this are likely to collide with ordinary words in a report.
pub const SHORT_SECRET_LEN: usize = 8;

/// One tracked secret: where it came from, and its value.
#[derive(Clone)]
struct Entry {
    label: String,
    value: SecretString,
    /// Registered in a child registry (a fleet target's) and adopted here: scanned for in the
    /// encodings snowdoctor's own writers produce (see [`wire_forms`]), all secrets in one pass.
    adopted: bool,
}

impl Entry {
    /// The value as the matcher walks it, character by character.
    fn chars(&self) -> Vec<char> {
        self.value.expose_secret().chars().collect()
    }
}

/// Replaces every occurrence of `entries`' secrets in `text`, in one pass (a text without `%`, `+`,
/// `&` or `\` can hold them only raw, found by a plain search).
fn redact_with(entries: &[&Entry], text: &str) -> String {
    if !pattern::could_be_encoded_in(text) {
        let mut out = text.to_string();
        for entry in entries {
            let value = entry.value.expose_secret();
            if out.contains(value) {
                out = out.replace(value, REDACTED);
            }
        }
        return out;
    }
    let matcher = pattern::Matcher::new(entries.iter().map(|e| e.chars()));
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    while let Some((_, start, end)) = matcher.find(text, copied) {
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED);
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Which of `entries` occur in `text`, by their index in `entries`.
fn found_in(entries: &[&Entry], text: &str) -> Vec<usize> {
    if !pattern::could_be_encoded_in(text) {
        return (0..entries.len())
            .filter(|&i| text.contains(entries[i].value.expose_secret()))
            .collect();
    }
    pattern::Matcher::new(entries.iter().map(|e| e.chars())).found_in(text)
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
    /// The registry that adopts every secret registered here (a fleet's, see [`SecretRegistry::child`]).
    parent: Option<Box<SecretRegistry>>,
    /// The one-pass matcher of the adopted secrets' forms, built on first use after a change.
    adopted_forms: Arc<RwLock<Option<AdoptedForms>>>,
}

/// Every form of every adopted secret in one automaton, and the entry each pattern belongs to.
struct AdoptedForms {
    /// How many entries the registry held when this was built: a newer entry means a rebuild.
    built_for: usize,
    matcher: AhoCorasick,
    entry_of_pattern: Vec<usize>,
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
        let entry = Entry {
            label: label.to_string(),
            value: SecretString::from(value.to_string()),
            adopted: false,
        };
        if let Some(parent) = &self.parent {
            parent.adopt(entry.clone());
        }
        entries.push(entry);
        // Longest first, so a secret containing another is replaced whole.
        entries.sort_by_key(|e| std::cmp::Reverse(e.value.expose_secret().len()));
    }

    /// A registry of its own for one part of the run (a fleet's target): its redaction and scans see
    /// only the secrets registered in it, so each target pays for its own secrets and not for every
    /// other target's, while every secret registered in it is also adopted by this registry, whose
    /// scans of the outputs that span every target ([`SecretRegistry::leaks`]) still see them all.
    pub fn child(&self) -> SecretRegistry {
        SecretRegistry {
            parent: Some(Box::new(self.clone())),
            ..SecretRegistry::default()
        }
    }

    fn adopt(&self, mut entry: Entry) {
        let Ok(mut entries) = self.entries.write() else {
            return;
        };
        let value = entry.value.expose_secret();
        if entries.iter().any(|e| e.value.expose_secret() == value) {
            return;
        }
        entry.adopted = true;
        entries.push(entry);
        entries.sort_by_key(|e| std::cmp::Reverse(e.value.expose_secret().len()));
    }

    /// The adopted secrets found in `text` in any of their [`wire_forms`], as entry indexes.
    fn adopted_in(&self, entries: &[Entry], text: &str) -> Vec<usize> {
        if !entries.iter().any(|e| e.adopted) {
            return Vec::new();
        }
        let current = self
            .adopted_forms
            .read()
            .ok()
            .is_some_and(|forms| forms.as_ref().is_some_and(|f| f.built_for == entries.len()));
        if !current && let Ok(mut forms) = self.adopted_forms.write() {
            *forms = AdoptedForms::build(entries);
        }
        let Ok(forms) = self.adopted_forms.read() else {
            return Vec::new();
        };
        let Some(forms) = forms.as_ref() else {
            return Vec::new();
        };
        let mut found: Vec<usize> = forms
            .matcher
            .find_overlapping_iter(text)
            .map(|m| forms.entry_of_pattern[m.pattern().as_usize()])
            .collect();
        found.sort_unstable();
        found.dedup();
        found
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
        // Longest first (the registry's order): a secret containing another is replaced whole.
        let all: Vec<&Entry> = entries.iter().collect();
        redact_with(&all, text)
    }

    /// True when `text` contains a known secret in any encoding.
    pub fn leaks_into(&self, text: &str) -> bool {
        !self.leaks(text).is_empty()
    }

    /// The secrets that occur in `text`, named by where they came from (never by value). Secrets
    /// registered here are matched in every encoding, mixed ones included; secrets adopted from child
    /// registries in the encodings snowdoctor's writers produce, all in one pass over `text` — a
    /// fleet's output is scanned once, not once per target, and each target's own report is scanned
    /// for its secrets in every encoding before it joins the fleet.
    pub fn leaks(&self, text: &str) -> Vec<Leak> {
        let Ok(entries) = self.entries.read() else {
            return Vec::new();
        };
        let mut found = self.adopted_in(&entries, text);
        let own: Vec<(usize, &Entry)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.adopted)
            .collect();
        let own_entries: Vec<&Entry> = own.iter().map(|(_, e)| *e).collect();
        found.extend(found_in(&own_entries, text).into_iter().map(|i| own[i].0));
        found.sort_unstable();
        found
            .into_iter()
            .map(|i| Leak {
                label: entries[i].label.clone(),
                len: entries[i].value.expose_secret().chars().count(),
            })
            .collect()
    }
}

impl AdoptedForms {
    fn build(entries: &[Entry]) -> Option<AdoptedForms> {
        let mut patterns = Vec::new();
        let mut entry_of_pattern = Vec::new();
        for (index, entry) in entries.iter().enumerate().filter(|(_, e)| e.adopted) {
            for form in wire_forms(entry.value.expose_secret()) {
                patterns.push(form);
                entry_of_pattern.push(index);
            }
        }
        let matcher = AhoCorasick::new(&patterns).ok()?;
        Some(AdoptedForms {
            built_for: entries.len(),
            matcher,
            entry_of_pattern,
        })
    }
}

/// A secret as snowdoctor's own writers can write it: raw, JSON-escaped once and twice (a body inside
/// the HAR's JSON), percent- and form-encoded, and escaped for HTML and XML (each way of writing `'`
/// and `"`), and HTML-escaped JSON.
fn wire_forms(value: &str) -> Vec<String> {
    let json = |v: &str| {
        let quoted = serde_json::to_string(v).unwrap_or_default();
        quoted
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .unwrap_or(&quoted)
            .to_string()
    };
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut forms = vec![
        value.to_string(),
        json(value),
        json(&json(value)),
        form.replace('+', "%20"),
        form,
    ];
    for (apos, quot) in [
        ("&#39;", "&quot;"),
        ("&#x27;", "&#34;"),
        ("&apos;", "&quot;"),
    ] {
        let html = |v: &str| {
            v.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', quot)
                .replace('\'', apos)
        };
        forms.push(html(value));
        forms.push(html(&json(value)));
    }
    forms.sort();
    forms.dedup();
    forms
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
    fn a_child_redacts_only_its_own_secrets_and_its_parent_sees_them_all() {
        let fleet = SecretRegistry::new();
        let first = fleet.child();
        let second = fleet.child();
        first.register_as(
            "T1_PASSWORD",
            &SecretString::from(r#"first"pass<1>'"#.to_string()),
        );
        second.register_as(
            "T2_PASSWORD",
            &SecretString::from("second-pass-2".to_string()),
        );
        assert_eq!(
            first.redact("second-pass-2"),
            "second-pass-2",
            "not its secret"
        );
        assert_eq!(second.redact("x second-pass-2 y"), "x [REDACTED] y");
        assert_eq!(fleet.len(), 2);
        // The parent finds each in the forms the writers produce: raw, JSON, HTML, XML, percent.
        for text in [
            r#"{"a":"first\"pass<1>'"}"#,
            "<td>first&quot;pass&lt;1&gt;&#39;</td>",
            "<failure message=\"first&quot;pass&lt;1&gt;&apos;\"/>",
            "?p=first%22pass%3C1%3E%27",
            "second-pass-2",
        ] {
            let leaks = fleet.leaks(text);
            assert_eq!(leaks.len(), 1, "{text}");
        }
        assert_eq!(fleet.leaks("first\"pass<1>' and second-pass-2").len(), 2);
        assert!(!fleet.leaks_into("nothing secret here"));
        // A secret registered after the parent's matcher was built is still found.
        second.register_as(
            "T2_TOKEN",
            &SecretString::from("late-token-value".to_string()),
        );
        assert_eq!(fleet.leaks("a late-token-value b")[0].label, "T2_TOKEN");
        // Every encoding, mixed ones included, is still the child's to catch.
        assert!(first.leaks_into(r"first\u0022pass&lt;1%3E&#x27;"));
        // The parent's redaction (the log lines) matches every encoding too.
        assert_eq!(fleet.redact(r"first\u0022pass&lt;1%3E&#x27;"), "[REDACTED]");
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
