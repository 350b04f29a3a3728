//! The shape of a secret in any encoding it can travel in, matched whatever mix of encodings each of
//! its characters went through on the way — raw, percent- and form-encoded (`%22`, `+`), JSON-escaped
//! once or twice (`\"`, `\\\"`, `\u0022`), HTML and XML entities (`&quot;`, `&apos;`, `&#39;`, `&#x27;`,
//! and `&amp;quot;` when escaped twice).
//!
//! Matching per character, rather than listing whole encoded forms, is what makes redaction run "on
//! decoded text" without decoding: a server may escape only some characters (`\u0043nry"pw`), and our
//! own writers nest encodings (a JSON-escaped body inside the HAR's JSON, an HTML-escaped message).
//!
//! The matcher walks the text one secret character at a time, keeping every position an encoded
//! form of the characters so far could end at. It needs no compilation: a regular expression of the
//! same language (kept in the tests as the oracle the matcher is checked against) took milliseconds
//! and a third of a megabyte per token, which a fleet of instances paid for every target.

/// Several secrets matched in one pass over a text: at each byte that can start one of them (its
/// raw first byte, or `%`, `+`, `&`, `\` that start every encoded form), each is tried in turn.
pub struct Matcher {
    secrets: Vec<Vec<char>>,
    starts: [bool; 256],
}

impl Matcher {
    /// A matcher of `secrets`; where two match at the same place, the earlier one in this order wins.
    pub fn new(secrets: impl IntoIterator<Item = Vec<char>>) -> Matcher {
        let secrets: Vec<Vec<char>> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        let mut starts = [false; 256];
        for b in ENCODING_STARTS {
            starts[b as usize] = true;
        }
        for secret in &secrets {
            let mut buf = [0; 4];
            starts[usize::from(secret[0].encode_utf8(&mut buf).as_bytes()[0])] = true;
        }
        Matcher { secrets, starts }
    }

    /// The leftmost match at or after `from`: which secret, and the byte range it covers.
    pub fn find(&self, text: &str, from: usize) -> Option<(usize, usize, usize)> {
        let bytes = text.as_bytes();
        let mut scratch = Scratch::default();
        (from..bytes.len())
            .filter(|&start| self.starts[usize::from(bytes[start])])
            .find_map(|start| {
                self.secrets.iter().enumerate().find_map(|(index, secret)| {
                    scratch
                        .match_at(secret, bytes, start)
                        .map(|end| (index, start, end))
                })
            })
    }

    /// Which of the secrets occur in `text`, by their index.
    pub fn found_in(&self, text: &str) -> Vec<usize> {
        let bytes = text.as_bytes();
        let mut found = vec![false; self.secrets.len()];
        let mut scratch = Scratch::default();
        for start in (0..bytes.len()).filter(|&start| self.starts[usize::from(bytes[start])]) {
            for (index, secret) in self.secrets.iter().enumerate() {
                if !found[index] && scratch.match_at(secret, bytes, start).is_some() {
                    found[index] = true;
                }
            }
            if found.iter().all(|f| *f) {
                break;
            }
        }
        (0..found.len()).filter(|&i| found[i]).collect()
    }
}

/// The positions reached so far, reused from one attempt to the next.
#[derive(Default)]
struct Scratch {
    ends: Vec<usize>,
    next: Vec<usize>,
}

impl Scratch {
    /// The furthest end of a match of `secret` starting exactly at `start`.
    fn match_at(&mut self, secret: &[char], bytes: &[u8], start: usize) -> Option<usize> {
        self.ends.clear();
        self.ends.push(start);
        for &c in secret {
            self.next.clear();
            for &at in &self.ends {
                char_ends(c, bytes, at, &mut self.next);
            }
            self.next.sort_unstable();
            self.next.dedup();
            std::mem::swap(&mut self.ends, &mut self.next);
            if self.ends.is_empty() {
                return None;
            }
        }
        self.ends.last().copied()
    }
}

/// Every position one encoded form of `c` starting at `at` ends at, pushed onto `out`.
fn char_ends(c: char, t: &[u8], at: usize, out: &mut Vec<usize>) {
    let mut buf = [0; 4];
    let raw = c.encode_utf8(&mut buf).as_bytes();
    if t[at..].starts_with(raw) {
        out.push(at + raw.len());
    }
    match t.get(at) {
        Some(b'%') => percent_ends(raw, t, at, out),
        Some(b'+') if c == ' ' => out.push(at + 1),
        Some(b'&') => entity_ends(c, t, at, out),
        Some(b'\\') => escape_ends(c, t, at, out),
        _ => {}
    }
}

/// `%XX` per UTF-8 byte, either hex case, each possibly percent-encoded again (`%2522`).
fn percent_ends(raw: &[u8], t: &[u8], at: usize, out: &mut Vec<usize>) {
    let mut positions = vec![at];
    for &byte in raw {
        let mut next = Vec::new();
        for &p in &positions {
            if t.get(p) != Some(&b'%') {
                continue;
            }
            // `(?:25)*` then the byte: every split of a run of `25`s is a way to read it.
            let mut s = p + 1;
            loop {
                if hex_value(t, s, 2) == Some(u32::from(byte)) {
                    next.push(s + 2);
                }
                if t.get(s..s + 2) == Some(b"25") {
                    s += 2;
                } else {
                    break;
                }
            }
        }
        positions = next;
    }
    out.extend(positions);
}

/// `&quot;`, `&#34;`, `&#x22;` (any case, leading zeros), with `&amp;` repeated in front when the
/// entity was escaped again.
fn entity_ends(c: char, t: &[u8], at: usize, out: &mut Vec<usize>) {
    let code = c as u32;
    let mut s = at + 1;
    loop {
        if let Some(end) = numeric_entity_end(t, s, code) {
            out.push(end);
        }
        if let Some(name) = entity_name(c)
            && t[s.min(t.len())..].starts_with(name.as_bytes())
            && t.get(s + name.len()) == Some(&b';')
        {
            out.push(s + name.len() + 1);
        }
        if t.get(s..s + 4) == Some(b"amp;") {
            s += 4;
        } else {
            break;
        }
    }
}

/// `#65;` or `#x41;` / `#X41;` (leading zeros allowed) naming `code`, starting at `s` (after `&`).
fn numeric_entity_end(t: &[u8], s: usize, code: u32) -> Option<usize> {
    if t.get(s) != Some(&b'#') {
        return None;
    }
    let (radix, digits_at) = match t.get(s + 1) {
        Some(b'x' | b'X') => (16, s + 2),
        _ => (10, s + 1),
    };
    let mut value: u32 = 0;
    let mut end = digits_at;
    while let Some(digit) = t.get(end).and_then(|b| char::from(*b).to_digit(radix)) {
        value = value.checked_mul(radix)?.checked_add(digit)?;
        end += 1;
    }
    (end > digits_at && value == code && t.get(end) == Some(&b';')).then_some(end + 1)
}

/// One or more backslashes, then `u` and four hex digits (`\u0022`, `\\u0022` once escaped
/// again), or the character's short JSON escape (`\"`, `\n`) or that escape's entity (`\&quot;`).
fn escape_ends(c: char, t: &[u8], at: usize, out: &mut Vec<usize>) {
    let mut run_end = at;
    while t.get(run_end) == Some(&b'\\') {
        run_end += 1;
    }
    let code = c as u32;
    if code < 0x1_0000
        && t.get(run_end) == Some(&b'u')
        && hex_value(t, run_end + 1, 4) == Some(code)
    {
        out.push(run_end + 5);
    }
    let Some(short) = json_short_escape(c) else {
        return;
    };
    // `\\+` is greedy but may give back: after each count of backslashes, the escape may follow.
    for after in at + 1..=run_end {
        if short.is_ascii() && t.get(after) == Some(&(short as u8)) {
            out.push(after + 1);
        }
        if t.get(after) == Some(&b'&') {
            entity_ends(c, t, after, out);
        }
    }
}

/// The value of `len` hex digits at `at` (either case), if they are there.
fn hex_value(t: &[u8], at: usize, len: usize) -> Option<u32> {
    let digits = t.get(at..at + len)?;
    digits.iter().try_fold(0u32, |value, b| {
        char::from(*b).to_digit(16).map(|d| value * 16 + d)
    })
}

/// The named entity of the characters HTML and XML name.
fn entity_name(c: char) -> Option<&'static str> {
    match c {
        '"' => Some("quot"),
        '\'' => Some("apos"),
        '&' => Some("amp"),
        '<' => Some("lt"),
        '>' => Some("gt"),
        '/' => Some("sol"),
        '\\' => Some("bsol"),
        _ => None,
    }
}

/// The characters every encoded form of a character starts with (`%22`, `+`, `&quot;`, `\u0022`,
/// `\"`): a text holding none of them can hold a secret only as its raw value, found by a plain search.
const ENCODING_STARTS: [u8; 4] = [b'%', b'+', b'&', b'\\'];

/// True when an encoded form of some character could occur in `text`; when false, a plain search for
/// the raw value finds exactly what the pattern would.
pub fn could_be_encoded_in(text: &str) -> bool {
    text.bytes().any(|b| ENCODING_STARTS.contains(&b))
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
    use regex::Regex;

    /// The regular expression of the same language as [`find`], one alternation per character:
    /// the oracle the matcher is checked against.
    fn compile(secret: &str) -> Regex {
        let mut pattern = String::with_capacity(secret.len() * 64);
        for c in secret.chars() {
            pattern.push_str("(?:");
            pattern.push_str(&alternatives(c).join("|"));
            pattern.push(')');
        }
        regex::RegexBuilder::new(&pattern)
            .size_limit(64 * 1024 * 1024)
            .build()
            .expect("the oracle compiles")
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
        if let Some(name) = entity_name(c) {
            forms.push(format!("{name};"));
        }
        format!("&(?:amp;)*(?:{})", forms.join("|"))
    }

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

    fn found(secret: &str, text: &str) -> bool {
        let matcher = Matcher::new([secret.chars().collect()]);
        let ours = matcher.find(text, 0).is_some();
        assert_eq!(ours, !matcher.found_in(text).is_empty());
        assert_eq!(
            ours,
            compile(secret).is_match(text),
            "matcher and oracle disagree on {text:?}"
        );
        ours
    }

    fn matches(text: &str) -> bool {
        found(CANARY, text)
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
    fn several_secrets_in_one_pass() {
        let matcher = Matcher::new([
            "long-secret-1".chars().collect(),
            "secret".chars().collect(),
        ]);
        let text = "a secret, then long%2Dsecret-1 and \\u0073ecret";
        assert_eq!(matcher.found_in(text), [0, 1]);
        // Leftmost first; at one place the earlier (longer) secret wins.
        assert_eq!(matcher.find(text, 0), Some((1, 2, 8)));
        let second = matcher.find(text, 8).expect("the long one");
        assert_eq!(
            (second.0, &text[second.1..second.2]),
            (0, "long%2Dsecret-1")
        );
        let third = matcher.find(text, second.2).expect("the escaped one");
        assert_eq!(&text[third.1..third.2], "\\u0073ecret");
        assert_eq!(matcher.find(text, third.2), None);
        assert!(
            Matcher::new(["abcd".chars().collect()])
                .found_in("abc")
                .is_empty()
        );
    }

    #[test]
    fn spaces_match_their_form_encoding() {
        assert!(found("p@ss w0rd", "password=p%40ss+w0rd"));
        assert!(found("p@ss w0rd", "p%40ss%20w0rd"));
    }

    /// Every way [`alternatives`] writes `c`, as text: what a server or a writer could emit.
    fn forms(c: char, pick: usize) -> String {
        let mut buf = [0; 4];
        let raw = c.encode_utf8(&mut buf).to_string();
        let code = c as u32;
        let pct: String = raw.bytes().map(|b| format!("%{b:02X}")).collect();
        let pct_twice: String = raw.bytes().map(|b| format!("%25{b:02x}")).collect();
        let mut all = vec![
            raw,
            pct,
            pct_twice,
            format!("&#{code};"),
            format!("&#x{code:X};"),
            format!("&amp;#00{code};"),
        ];
        if code < 0x1_0000 {
            all.push(format!("\\u{code:04x}"));
            all.push(format!("\\\\u{code:04X}"));
        }
        if let Some(short) = json_short_escape(c) {
            all.push(format!("\\{short}"));
            all.push(format!("\\\\\\{short}"));
        }
        if let Some(name) = entity_name(c) {
            all.push(format!("&{name};"));
            all.push(format!("&amp;amp;{name};"));
        }
        if c == ' ' {
            all.push("+".into());
        }
        all[pick % all.len()].clone()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// The matcher finds a secret written in any mix of encodings, and agrees with the regular
        /// expression of the same language on the text around it, near misses included.
        #[test]
        fn the_matcher_agrees_with_the_regular_expression(
            secret in "[a-zA-Z0-9 \"'&<>%+\\\\/é€\n-]{4,12}",
            picks in proptest::collection::vec(0usize..64, 12),
            before in "[a-z&%\\\\;#0-9 ]{0,6}",
            after in "[a-z&%\\\\;#0-9 ]{0,6}",
            cut in 0usize..12,
        ) {
            let encoded: String = secret
                .chars()
                .zip(picks.iter().cycle())
                .map(|(c, pick)| forms(c, *pick))
                .collect();
            let text = format!("{before}{encoded}{after}");
            proptest::prop_assert!(found(&secret, &text), "{text:?}");
            // A truncated encoding: both say the same, whatever it is.
            let mut end = encoded.len().saturating_sub(cut + 1);
            while !encoded.is_char_boundary(end) {
                end -= 1;
            }
            found(&secret, &format!("{before}{}{after}", &encoded[..end]));
        }
    }
}
