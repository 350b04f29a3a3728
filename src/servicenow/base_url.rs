//! The instance URL, validated once before any request: https (plain http only to loopback or when
//! explicitly allowed), a host, no credentials, no query or fragment.

use std::net::IpAddr;

use url::Url;

use super::error::ClientError;
use super::redact;

/// Checks the instance URL: https (http only to loopback or with `allow_http`), a host, no credentials,
/// no query or fragment.
pub fn validate_base_url(raw: &str, allow_http: bool) -> Result<(Url, Vec<String>), ClientError> {
    let trimmed = raw.trim();
    let invalid = |reason: String| ClientError::InvalidUrl {
        url: redact::url(trimmed),
        reason,
    };
    if trimmed.is_empty() {
        return Err(invalid(
            "the instance URL is empty (use --instance https://NAME.service-now.com)".into(),
        ));
    }
    if !trimmed.contains("://") {
        let hint = if trimmed.contains('.') {
            format!("https://{trimmed}")
        } else {
            format!("https://{trimmed}.service-now.com")
        };
        return Err(invalid(format!("no scheme; did you mean {hint}?")));
    }
    let mut url = Url::parse(trimmed).map_err(|e| invalid(e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the URL contains credentials; pass the user with --user and the password through SNOWDOCTOR_PASSWORD".into(),
        ));
    }
    if url.host_str().is_none() {
        return Err(invalid("the URL has no host".into()));
    }
    let mut warnings = Vec::new();
    // A URL copied from the browser (`/now/nav/ui/home`, `/nav_to.do?uri=…`, `/navpage.do`,
    // `/$pa_dashboard.do`) names a page, not the instance: the REST API lives at the root.
    if !matches!(url.path(), "" | "/") {
        let page = redact::url(url.as_str());
        url.set_path("/");
        url.set_query(None);
        url.set_fragment(None);
        warnings.push(format!(
            "--instance {page} is a page of the instance, not its root; using {url}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "the instance URL must not have a query or fragment".into(),
        ));
    }
    let host = url.host_str().unwrap_or_default().to_string();
    let host = host.as_str();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" if allow_http => warnings.push(format!(
            "plain http:// to {host} (--allow-http): credentials and tokens travel unencrypted"
        )),
        "http" => {
            return Err(invalid(
                "http:// is only allowed to a loopback address; use https:// (or --allow-http, unsafe)".into(),
            ));
        }
        other => {
            return Err(invalid(format!(
                "unsupported scheme {other:?}; use https://"
            )));
        }
    }
    let mut base = url.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok((base, warnings))
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// `host[:port]`, for error messages.
pub(super) fn host_of(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http_only() {
        assert!(validate_base_url("https://acme.service-now.com", false).is_ok());
        assert!(validate_base_url("http://127.0.0.1:8080", false).is_ok());
        assert!(validate_base_url("http://[::1]:8080/", false).is_ok());
        assert!(validate_base_url("http://acme.service-now.com", false).is_err());
        let (_, warnings) = validate_base_url("http://acme.example", true).expect("allowed");
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn rejects_malformed_urls_without_echoing_passwords() {
        let err = validate_base_url("https://admin:hunter2@acme.service-now.com", false)
            .expect_err("credentials in URL");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = validate_base_url("acme", false).expect_err("no scheme");
        assert!(err.to_string().contains("https://acme.service-now.com"));
        assert!(validate_base_url("https://", false).is_err());
        assert!(validate_base_url("ftp://acme", false).is_err());
        assert!(validate_base_url("https://acme.example/?x=1", false).is_err());
    }

    #[test]
    fn browser_urls_are_reduced_to_the_instance_root_with_a_note() {
        for pasted in [
            "https://acme.service-now.com/now/nav/ui/home",
            "https://acme.service-now.com/nav_to.do?uri=%2Fincident_list.do",
            "https://acme.service-now.com/navpage.do",
            "https://acme.service-now.com/$pa_dashboard.do",
            "https://acme.service-now.com/some/trailing/path/#frag",
        ] {
            let (url, warnings) = validate_base_url(pasted, false).expect(pasted);
            assert_eq!(url.as_str(), "https://acme.service-now.com/", "{pasted}");
            assert_eq!(warnings.len(), 1, "{pasted}");
            assert!(warnings[0].contains("not its root"), "{}", warnings[0]);
        }
    }
}
