//! Table API addresses built from checked segments, never by concatenation.
//!
//! Nothing the instance (or a flag) supplies decides where a request goes: a table name must look like a
//! ServiceNow table name and a record id like a `sys_id` (32 hex digits) before either becomes a path
//! segment, and each segment is percent-encoded on its own, so `incident/../sys_user`,
//! `incident?sysparm_x=1` or a `sys_id` of `../sys_user/<id>` can never address another table.

use url::Url;

use super::error::ClientError;

/// Longest table name accepted (the platform's own limit is 80 characters).
const MAX_TABLE_NAME: usize = 80;

/// Checks a table name: lower-case letters, digits and `_`, starting with a letter (`incident`,
/// `u_ticket`, `x_acme_app_case`). Returns why it is not one.
pub fn check_table_name(name: &str) -> Result<(), String> {
    let valid = name.len() <= MAX_TABLE_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a table name: use the table's name as in sys_db_object (lower-case letters, digits and _, e.g. incident or u_ticket)"
        ))
    }
}

/// True for a well-formed `sys_id`: exactly 32 hexadecimal digits.
pub fn is_sys_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `BASE/api/now/import/STAGING_TABLE`: the Import Set API's insert, the table name checked.
pub fn import_url(base: &Url, staging_table: &str) -> Result<Url, ClientError> {
    check_table_name(staging_table).map_err(|reason| ClientError::NotAddressable {
        what: "staging table",
        value: staging_table.to_string(),
        reason,
    })?;
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| ClientError::InvalidUrl {
            url: base.to_string(),
            reason: "the instance URL cannot have a path".into(),
        })?
        .pop_if_empty()
        .extend(["api", "now", "import", staging_table]);
    url.set_query(None);
    Ok(url)
}

/// `BASE/api/now/table/TABLE[/SYS_ID]`, each segment checked and encoded.
pub fn table_url(base: &Url, table: &str, sys_id: Option<&str>) -> Result<Url, ClientError> {
    check_table_name(table).map_err(|reason| ClientError::NotAddressable {
        what: "table",
        value: table.to_string(),
        reason,
    })?;
    if let Some(id) = sys_id.filter(|id| !is_sys_id(id)) {
        return Err(ClientError::NotAddressable {
            what: "record",
            value: id.to_string(),
            reason: "a sys_id is 32 hexadecimal digits; the instance's answer is not trusted to address a record".into(),
        });
    }
    let mut url = base.clone();
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl {
                url: base.to_string(),
                reason: "the instance URL cannot have a path".into(),
            })?;
        segments
            .pop_if_empty()
            .extend(["api", "now", "table", table]);
        if let Some(id) = sys_id {
            segments.push(id);
        }
    }
    url.set_query(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://acme.service-now.com/").expect("a URL")
    }

    #[test]
    fn table_names_and_sys_ids_are_checked() {
        for good in ["incident", "u_ticket", "x_acme_app_case2"] {
            assert!(check_table_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "incident/../sys_user",
            "incident?sysparm_x=1",
            "Incident",
            "sys user",
            "2incident",
            "incident%2f",
        ] {
            assert!(check_table_name(bad).is_err(), "{bad}");
        }
        assert!(is_sys_id("6816f79cc0a8016401c5a33be04be441"));
        assert!(!is_sys_id("../sys_user/6816f79cc0a8016401c5a33be04be441"));
        assert!(!is_sys_id("6816f79cc0a8016401c5a33be04be44"));
        assert!(!is_sys_id("6816f79cc0a8016401c5a33be04be44g"));
    }

    #[test]
    fn the_import_url_checks_the_staging_table() {
        let url = import_url(&base(), "x_mioms_microsoft_oms_incident").expect("valid");
        assert_eq!(
            url.as_str(),
            "https://acme.service-now.com/api/now/import/x_mioms_microsoft_oms_incident"
        );
        assert!(import_url(&base(), "incident/../sys_user").is_err());
    }

    #[test]
    fn urls_are_built_from_segments() {
        let url = table_url(
            &base(),
            "incident",
            Some("6816f79cc0a8016401c5a33be04be441"),
        )
        .expect("a valid address");
        assert_eq!(
            url.as_str(),
            "https://acme.service-now.com/api/now/table/incident/6816f79cc0a8016401c5a33be04be441"
        );
        assert!(table_url(&base(), "incident/../sys_user", None).is_err());
        assert!(table_url(&base(), "incident", Some("../sys_user/x")).is_err());
        let nested = Url::parse("https://acme.example/sn/").expect("a URL");
        assert_eq!(
            table_url(&nested, "incident", None)
                .expect("a valid address")
                .as_str(),
            "https://acme.example/sn/api/now/table/incident"
        );
    }
}
