//! A response as received and its classification before any JSON is read: HTML sniffing (hibernation
//! pages, SSO and proxy interstitials) and `Retry-After`.

use std::time::Duration;

use reqwest::header::{self, HeaderMap};

use super::error::HtmlKind;

/// A response as received, before any JSON interpretation.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub content_type: String,
    pub headers: HeaderMap,
    pub body: String,
    /// `Location` header of a redirect, resolved against the request URL.
    pub location: Option<String>,
    /// The URL that was requested (to tell a same-host redirect from a cross-host one).
    pub url: String,
}

impl RawResponse {
    /// True when the body is HTML (by content type or by sniffing).
    pub fn is_html(&self) -> bool {
        self.content_type.contains("html") || looks_like_html(&self.body)
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Parses `Retry-After` (seconds form).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// True when a body looks like HTML even without an HTML content type.
pub fn looks_like_html(body: &str) -> bool {
    let start = body.trim_start().get(..64).unwrap_or(body.trim_start());
    let lower = start.to_ascii_lowercase();
    lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.starts_with("<head")
}

/// Classifies an HTML page by its content.
pub fn html_kind(body: &str) -> (HtmlKind, String) {
    let lower = body.to_ascii_lowercase();
    let title = lower
        .find("<title>")
        .and_then(|start| {
            let rest = &body[start + 7..];
            rest.find("</title>")
                .map(|end| rest[..end].trim().to_string())
        })
        .unwrap_or_default();
    let kind = if lower.contains("hibernating") {
        HtmlKind::Hibernating
    } else if [
        "login",
        "sign in",
        "sso",
        "proxy",
        "single sign-on",
        "authenticat",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        HtmlKind::Interstitial
    } else {
        HtmlKind::Other
    };
    (kind, title.chars().take(80).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_html_pages() {
        let (kind, title) =
            html_kind("<html><head><title>Instance Hibernating page</title></head></html>");
        assert_eq!(kind, HtmlKind::Hibernating);
        assert_eq!(title, "Instance Hibernating page");
        assert_eq!(
            html_kind("<html><body>Please sign in</body>").0,
            HtmlKind::Interstitial
        );
        assert!(looks_like_html("  <!DOCTYPE html><html>"));
        assert!(!looks_like_html("{\"result\":[]}"));
    }
}
