//! Text from the instance made harmless for a terminal and for Markdown: control characters (an
//! escape sequence that clears the screen or retitles the window, a carriage return that overwrites a
//! line) and bidirectional overrides become visible notation (`␛`, `\u{7}`) instead of acting.

use serde_json::Value;

use crate::model::RunReport;

/// A copy of `report` whose every string shows its control characters instead of sending them.
pub fn report(report: &RunReport) -> RunReport {
    let Ok(mut value) = serde_json::to_value(report) else {
        return report.clone();
    };
    walk(&mut value);
    serde_json::from_value(value).unwrap_or_else(|_| report.clone())
}

fn walk(value: &mut Value) {
    match value {
        Value::String(s) if s.chars().any(acts) => *s = text(s),
        Value::Array(items) => items.iter_mut().for_each(walk),
        Value::Object(map) => map.values_mut().for_each(walk),
        _ => {}
    }
}

/// True for a character a terminal would act on instead of showing (newline and tab are layout).
fn acts(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every acting character replaced by a visible form.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push('␛'),
            c if acts(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(text("a\u{1b}[2Jb"), "a␛[2Jb");
        assert_eq!(text("\u{1b}]0;pwned\u{7}"), "␛]0;pwned\\u{7}");
        assert_eq!(text("line\nnext\tcol\r"), "line\nnext\tcol\\u{d}");
        assert_eq!(text("\u{202e}abc"), "\\u{202e}abc");
    }
}
