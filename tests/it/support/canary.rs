//! Secret canaries: every form a secret can take in an output (raw, percent- and form-encoded, base64
//! alone and as `user:secret`, JSON-escaped once and twice, HTML and XML entities), and the assertion
//! that none of them is in a text. One helper for every leak test, so each checks the same forms.

use std::path::Path;

use base64::Engine;

/// A secret to look for, with the user it authenticates (for the Basic wire form).
pub struct Canary<'a> {
    pub user: Option<&'a str>,
    pub secret: &'a str,
}

/// Every encoded form of every canary, deduplicated.
pub fn forms(canaries: &[Canary]) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut forms = Vec::new();
    for canary in canaries {
        let mut base = vec![canary.secret.to_string(), b64(canary.secret)];
        if let Some(user) = canary.user {
            base.push(b64(&format!("{user}:{}", canary.secret)));
        }
        for form in base {
            let json = serde_json::to_string(&form).expect("json");
            let json = json.trim_matches('"').to_string();
            let twice = serde_json::to_string(&json).expect("json");
            forms.push(twice.trim_matches('"').to_string());
            forms.push(html(&form));
            forms.push(xml(&form));
            forms.push(html(&json));
            forms.push(url::form_urlencoded::byte_serialize(form.as_bytes()).collect());
            forms.push(form.replace('/', "&#x2f;"));
            forms.push(json);
            forms.push(form);
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// minijinja's HTML escaping.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// XML escaping as JUnit writers do it.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Fails when any form is in `text`; names the place and a prefix of the form only.
pub fn assert_clean(place: &str, text: &str, forms: &[String]) {
    for form in forms {
        assert!(
            !text.contains(form.as_str()),
            "a secret ({:.6}…) leaked into {place}",
            form
        );
    }
}

/// Every file under `dir` (zip entries one by one), as (name, text).
pub fn written_texts(dir: &Path) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if !path.is_file() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).expect("read output");
        if bytes.starts_with(b"PK") {
            let mut archive =
                zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip output");
            for index in 0..archive.len() {
                let mut entry = archive.by_index(index).expect("zip entry");
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut data).expect("read entry");
                let entry_name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
                texts.push((
                    format!("{name}:{entry_name}"),
                    String::from_utf8_lossy(&data).into_owned(),
                ));
            }
        } else {
            texts.push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    texts
}
