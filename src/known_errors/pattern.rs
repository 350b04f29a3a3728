//! Tolerant matching of pasted error text. Both the text and the pattern are normalised the same way —
//! lower case, quotes dropped (so `'oauth_entity'`, `"oauth_entity"` and `“oauth_entity”` are the same
//! word), every other punctuation mark and run of whitespace turned into one space — and `{name}` in a
//! pattern stands for any text (a connection, instance, scope, table or alert name).

use regex::Regex;

/// Characters that quote a name; dropped so quoting never matters.
const QUOTES: &[char] = &[
    '\'', '"', '`', '‘', '’', '‚', '‛', '“', '”', '„', '´', '«', '»',
];

/// Lower case, percent-escapes decoded (URLs pasted from a browser), quotes dropped, punctuation and
/// whitespace runs as single spaces, trimmed.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in percent_decoded(text).flat_map(char::to_lowercase) {
        if QUOTES.contains(&c) {
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The characters of `text` with ASCII `%XX` escapes decoded.
fn percent_decoded(text: &str) -> impl Iterator<Item = char> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        let c = chars.next()?;
        if c != '%' {
            return Some(c);
        }
        let mut look = chars.clone();
        let hex: String = [look.next(), look.next()].into_iter().flatten().collect();
        match u8::from_str_radix(&hex, 16) {
            Ok(byte) if hex.len() == 2 && byte.is_ascii() => {
                chars.next();
                chars.next();
                Some(char::from(byte))
            }
            _ => Some(c),
        }
    })
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: Regex,
    /// Characters of literal text, the measure of how specific a match is.
    specificity: usize,
}

impl Pattern {
    /// Compiles `{name}` placeholders and normalised literal text into a regex.
    pub fn compile(pattern: &str) -> Result<Pattern, String> {
        let placeholder = Regex::new(r"\{[A-Za-z_]+\}").map_err(|e| e.to_string())?;
        let literals: Vec<String> = placeholder
            .split(pattern)
            .map(normalise)
            .filter(|s| !s.is_empty())
            .collect();
        if literals.is_empty() {
            return Err(format!("pattern {pattern:?} has no literal text"));
        }
        let specificity = literals.iter().map(String::len).sum();
        // Each literal matches whole words; a placeholder between two literals matches anything.
        let body = literals
            .iter()
            .map(|l| format!(r"\b{}\b", regex::escape(l)))
            .collect::<Vec<_>>()
            .join(".*?");
        let regex = Regex::new(&body).map_err(|e| format!("pattern {pattern:?}: {e}"))?;
        Ok(Pattern { regex, specificity })
    }

    /// True when the normalised text contains this pattern.
    pub fn is_match(&self, normalised: &str) -> bool {
        self.regex.is_match(normalised)
    }

    /// How much literal text the pattern holds.
    pub fn specificity(&self) -> usize {
        self.specificity
    }
}
