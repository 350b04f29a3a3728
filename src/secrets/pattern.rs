//! The shape of a secret in any encoding it can travel in: one regular expression per secret that
//! matches the value whatever mix of encodings each of its characters went through on the way — raw,
//! percent- and form-encoded (`%22`, `+`), JSON-escaped once or twice (`\"`, `\\\"`, `\u0022`), HTML and
//! XML entities (`&quot;`, `&apos;`, `&#39;`, `&#x27;`, and `&amp;quot;` when escaped twice).
//!
//! Matching per character, rather than listing whole encoded forms, is what makes redaction run "on
//! decoded text" without decoding: a server may escape only some characters (`\u0043nry"pw`), and our
//! own writers nest encodings (a JSON-escaped body inside the HAR's JSON, an HTML-escaped message).

use regex::Regex;

/// The pattern matching `secret` in every encoding, or `None` when it cannot be compiled (an absurdly
/// long value: the caller then falls back to plain matching).
pub fn compile(secret: &str) -> Option<Regex> {
    let mut pattern = String::with_capacity(secret.len() * 64);
    for c in secret.chars() {
        pattern.push_str("(?:");
        pattern.push_str(&alternatives(c).join("|"));
        pattern.push(')');
    }
    regex::RegexBuilder::new(&pattern)
        .size_limit(64 * 1024 * 1024)
        .build()
        .ok()
}

/// The characters every encoded form of a character starts with (`%22`, `+`, `&quot;`, `\u0022`,
/// `\"`): a text holding none of them can hold a secret only as its raw value.
const ENCODING_STARTS: [char; 4] = ['%', '+', '&', '\\'];

/// True when an encoded form of some character could occur in `text`; when false, a plain search for
/// the raw value finds exactly what the pattern would.
pub fn could_be_encoded_in(text: &str) -> bool {
    text.contains(ENCODING_STARTS)
}

/// Every way one character can be written.
fn alternatives(c: char) -> Vec<String> {
    let mut alts = vec![regex::escape(c.encode_utf8(&mut [0; 4]))];
    // Percent-encoding of each UTF-8 byte, either hex case, possibly encoded twice (`%2522`).
    let mut buf = [0; 4];
    let pct: String = c
        .encode_utf8(&mut buf)
        .bytes()
        .map(|b| format!("%(?:25)*(?i:{b:02x})"))
        .collect();
    alts.push(pct);
    if c == ' ' {
        alts.push(r"\+".into());
    }
    let code = c as u32;
    let entities = entities(c);
    alts.push(entities.clone());
    if code < 0x1_0000 {
        // `\u0022`, and `\\u0022` once the escaped text is itself escaped.
        alts.push(format!(r"\\+u(?i:{code:04x})"));
    }
    if let Some(short) = json_short_escape(c) {
        let short = regex::escape(short.encode_utf8(&mut [0; 4]));
        alts.push(format!(r"\\+(?:{short}|{entities})"));
    }
    alts
}

/// `&quot;`, `&#34;`, `&#x22;` (any case, leading zeros), with `&amp;` repeated in front when the
/// entity was escaped again.
fn entities(c: char) -> String {
    let code = c as u32;
    let mut forms = vec![format!("#0*{code};"), format!("#[xX]0*(?i:{code:x});")];
    let named = match c {
        '"' => Some("quot"),
        '\'' => Some("apos"),
        '&' => Some("amp"),
        '<' => Some("lt"),
        '>' => Some("gt"),
        '/' => Some("sol"),
        '\\' => Some("bsol"),
        _ => None,
    };
    if let Some(name) = named {
        forms.push(format!("{name};"));
    }
    format!("&(?:amp;)*(?:{})", forms.join("|"))
}

/// The letter after the backslash in JSON's short escapes (`"` and `\` escape as themselves).
fn json_short_escape(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '\\' => Some('\\'),
        '/' => Some('/'),
        '\n' => Some('n'),
        '\t' => Some('t'),
        '\r' => Some('r'),
        '\u{8}' => Some('b'),
        '\u{c}' => Some('f'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoded_form_starts_with_an_encoding_start() {
        // What makes the raw search of `could_be_encoded_in` exact: any non-raw alternative begins
        // with one of ENCODING_STARTS (as a regex, escaped or not).
        for c in (' '..='~').chain(['é', '€', '😀', '\n', '\t', '\u{8}']) {
            let raw = regex::escape(c.encode_utf8(&mut [0; 4]));
            for alternative in alternatives(c).into_iter().filter(|a| *a != raw) {
                // The leading atom of the regex is a literal `%`, `+`, `&` or `\`.
                let leading = ["%", r"\+", "&", r"\\"];
                assert!(
                    leading.iter().any(|l| alternative.starts_with(l)),
                    "{c:?}: {alternative}"
                );
            }
        }
        assert!(!could_be_encoded_in("plain text, no escapes"));
        assert!(could_be_encoded_in("a=1&b=2"));
    }

    const CANARY: &str = r#"Cnry"pw\1&<x>'z"#;

    fn matches(text: &str) -> bool {
        compile(CANARY).expect("compiles").is_match(text)
    }

    #[test]
    fn every_encoding_of_the_canary_matches() {
        let json = serde_json::to_string(CANARY).expect("json");
        let json = json.trim_matches('"');
        let twice = serde_json::to_string(json).expect("json");
        let url: String = url::form_urlencoded::byte_serialize(CANARY.as_bytes()).collect();
        for form in [
            CANARY,
            json,
            twice.trim_matches('"'),
            &url,
            "Cnry%22pw%5c1%26%3cx%3e%27z",
            r"Cnry&quot;pw\1&amp;&lt;x&gt;&#x27;z",
            r"Cnry&quot;pw\1&amp;&lt;x&gt;&apos;z",
            r"Cnry&#34;pw\1&#38;&#60;x&#62;&#39;z",
            r"Cnry&amp;quot;pw\1&amp;amp;&amp;lt;x&amp;gt;&amp;#x27;z",
            r"\u0043nry\u0022pw\u005c1\u0026\u003cx\u003e\u0027z",
            r"Cnry\&quot;pw\\1&<x>'z",
        ] {
            assert!(matches(&format!("before {form} after")), "{form}");
        }
    }

    #[test]
    fn near_misses_do_not_match() {
        assert!(!matches(r#"Cnry"pw\2&<x>'z"#));
        assert!(
            !matches(r#"cnry"pw\1&<x>'z"#),
            "the value itself is case-sensitive"
        );
        assert!(!matches("Cnry"));
    }

    #[test]
    fn spaces_match_their_form_encoding() {
        let re = compile("p@ss w0rd").expect("compiles");
        assert!(re.is_match("password=p%40ss+w0rd"));
        assert!(re.is_match("p%40ss%20w0rd"));
    }
}
