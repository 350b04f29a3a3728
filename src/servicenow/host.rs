//! `host[:port]` of a URL: a leaf both the URL validation and the error messages use.

use url::Url;

/// `host[:port]`, for error messages and same-host comparisons.
pub(super) fn host_of(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    }
}
