//! Service-tag parsing on the sample fixture and on in-memory variants of it.

use chrono::{NaiveDate, TimeZone, Utc};

use crate::azure::service_tags::{ServiceTagError, ServiceTagFile, date_from_file_name};

pub(super) const SAMPLE: &str = include_str!("../../../fixtures/azure/ServiceTags_Sample.json");

pub(super) fn sample() -> ServiceTagFile {
    ServiceTagFile::parse(SAMPLE).expect("the sample fixture parses")
}

#[test]
fn sample_fixture_fields() {
    let file = sample();
    assert_eq!(file.cloud, "Public");
    assert_eq!(file.change_number, "12");
    assert_eq!(file.tags.len(), 5);
    assert_eq!(file.prefix_count(), 7 + 2 + 1 + 2 + 3);
    let east = file.tag("AzureCloud.eastus").expect("tag present");
    assert_eq!(east.region, "eastus");
    assert_eq!(east.system_service, "");
    assert_eq!(east.change_number, "3");
    assert_eq!(east.prefixes[1].to_string(), "2603:1030::/40");
    let asc = file.tag("AzureSecurityCenter").expect("tag present");
    assert_eq!(asc.system_service, "AzureSecurityCenter");
    assert!(file.host_bits.is_empty());
}

#[test]
fn layout_variants_parse_identically() {
    let base = sample();
    let crlf = SAMPLE.replace('\n', "\r\n");
    let cr = SAMPLE.replace('\n', "\r");
    let bom = format!("\u{feff}{SAMPLE}");
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(SAMPLE).expect("json"))
            .expect("json");
    for (what, text) in [
        ("CRLF", crlf),
        ("CR", cr),
        ("BOM", bom),
        ("one line", compact),
    ] {
        let file = ServiceTagFile::parse(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(file, base, "{what}");
    }
}

#[test]
fn discovery_api_shape_with_string_change_number() {
    let text = r#"{
        "name": "Public", "id": "/subscriptions/x/providers/Microsoft.Network/serviceTags/Public",
        "type": "Microsoft.Network/serviceTags", "changeNumber": "375", "cloud": "Public",
        "nextLink": null,
        "values": [{"name": "AzureCloud", "id": "AzureCloud", "serviceTagChangeNumber": "9",
            "properties": {"changeNumber": "7", "region": "", "systemService": "",
                           "addressPrefixes": ["13.76.0.0/16"], "state": "GA"}}]
    }"#;
    let file = ServiceTagFile::parse(text).expect("discovery shape parses");
    assert_eq!(file.change_number, "375");
    assert_eq!(file.tags[0].change_number, "7");
    assert_eq!(file.tags[0].prefixes.len(), 1);
}

#[test]
fn optional_keys_missing_or_null() {
    // a 2019-style tag: no regionId, no networkFeatures; and null everywhere else that may be null
    let text = r#"{"changeNumber": 1, "cloud": "Public", "values": [
        {"name": "Old", "id": "Old", "properties": {"changeNumber": 1, "region": "",
            "platform": "Azure", "systemService": "", "addressPrefixes": ["10.0.0.0/8"]}},
        {"name": "Nulls", "id": "Nulls", "properties": {"changeNumber": 2, "region": null,
            "regionId": null, "systemService": null, "addressPrefixes": ["10.1.0.0/16"],
            "networkFeatures": null}}]}"#;
    let file = ServiceTagFile::parse(text).expect("optional keys are optional");
    assert_eq!(file.tags.len(), 2);
    assert_eq!(file.tags[1].region, "");
}

#[test]
fn malformed_prefix_names_tag_and_prefix() {
    let text = SAMPLE.replace("\"40.83.128.0/17\"]", "\"40.83.128.0/33\"]");
    let err = ServiceTagFile::parse(&text).expect_err("a /33 is invalid");
    let msg = err.to_string();
    assert!(matches!(err, ServiceTagError::BadPrefix { .. }), "{msg}");
    assert!(
        msg.contains("AzureCloud.westus") && msg.contains("40.83.128.0/33"),
        "{msg}"
    );

    let bare = SAMPLE.replace("\"20.37.64.0/24\"", "\"20.37.64.0\"");
    let msg = ServiceTagFile::parse(&bare)
        .expect_err("no prefix length")
        .to_string();
    assert!(
        msg.contains("AzureSecurityCenter") && msg.contains("20.37.64.0"),
        "{msg}"
    );
}

#[test]
fn not_service_tags_is_a_clear_error() {
    for text in [
        "",
        "[]",
        "{\"values\": []}",
        "{\"value\": 3}",
        "{\"changeNumber\": 1, \"values\": [{\"name\": 1}]}",
    ] {
        assert!(ServiceTagFile::parse(text).is_err(), "{text:?}");
    }
}

#[test]
fn host_bits_are_masked_and_reported() {
    let text = SAMPLE.replace("\"52.149.152.0/24\"", "\"52.149.152.7/24\"");
    let file = ServiceTagFile::parse(&text).expect("non-canonical prefixes are accepted");
    assert_eq!(file.host_bits.len(), 1);
    assert_eq!(file.host_bits[0].tag, "AzureSecurityCenter");
    assert_eq!(file.host_bits[0].given, "52.149.152.7/24");
    assert_eq!(file.host_bits[0].used.to_string(), "52.149.152.0/24");
    let asc = file.tag("AzureSecurityCenter").expect("tag");
    assert_eq!(asc.prefixes[1].to_string(), "52.149.152.0/24");
}

#[test]
fn selection_by_exact_name_and_close_names() {
    let file = sample();
    assert_eq!(file.select(&[]).expect("all").len(), 5);
    let one = file
        .select(&["AzureCloud.westus".into(), "AzureCloud.westus".into()])
        .expect("known");
    assert_eq!(one.len(), 1);
    let err = file
        .select(&["azurecloud.westus".into()])
        .expect_err("names are exact");
    let msg = err.to_string();
    assert!(msg.contains("close names: AzureCloud.westus"), "{msg}");
    let err = file
        .select(&["AzureSecurityCentre".into()])
        .expect_err("typo");
    assert!(err.to_string().contains("AzureSecurityCenter"), "{err}");
    let err = file.select(&["Zzzzzzzzzzzz".into()]).expect_err("unknown");
    assert!(err.to_string().contains("case-sensitive"), "{err}");
}

#[test]
fn date_from_name_and_age_warning() {
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    assert_eq!(
        date_from_file_name("ServiceTags_Public_20251028.json"),
        Some(date(2025, 10, 28))
    );
    assert_eq!(
        date_from_file_name("ServiceTags_AzureGovernment_20260720.json"),
        Some(date(2026, 7, 20))
    );
    assert_eq!(date_from_file_name("ServiceTags_Public.json"), None);
    assert_eq!(date_from_file_name("tags_20251399.json"), None);

    let mut file = sample();
    file.date = Some(date(2025, 10, 28));
    let soon = Utc
        .with_ymd_and_hms(2025, 11, 10, 0, 0, 0)
        .single()
        .expect("time");
    let later = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .expect("time");
    let at = |y, m, d| {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
            .single()
            .expect("time")
    };
    let age = file.age(soon).expect("dated");
    assert_eq!((age.days, age.stale), (13, false));
    assert!(
        !file.notice(soon).starts_with("warning"),
        "{}",
        file.notice(soon)
    );
    // the threshold: 60 days is still fresh, 61 is stale
    assert!(!file.age(at(2025, 12, 27)).expect("dated").stale);
    assert!(file.age(at(2025, 12, 28)).expect("dated").stale);
    let age = file.age(later).expect("dated");
    assert_eq!((age.days, age.stale), (69, true));
    let notice = file.notice(later);
    assert!(
        notice.starts_with("warning:")
            && notice.contains("2025-10-28")
            && notice.contains("69 days old")
            && notice.contains("details.aspx?id=56519")
            && notice.contains("--service-tags FILE"),
        "{notice}"
    );
    file.date = None;
    assert_eq!(file.age(soon), None);
    assert!(!file.notice(later).starts_with("warning"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, failure_persistence: None, ..Default::default() })]

    /// The IPv4 fast path never disagrees with ipnet: it either declines or gives the same prefix.
    #[test]
    fn fast_v4_path_agrees_with_ipnet(text in "[0-9]{1,4}\\.[0-9]{1,3}\\.[0-9.]{1,4}\\.?[0-9]{0,3}/?[0-9]{0,3}") {
        if let Some(fast) = crate::azure::prefix::fast_prefix(&text) {
            proptest::prop_assert_eq!(Some(fast), text.parse::<ipnet::IpNet>().ok(), "{}", text);
        }
    }
}

#[test]
fn fast_v4_path_declines_odd_forms() {
    use crate::azure::prefix::fast_prefix;
    for odd in [
        "01.2.3.4/8",
        "1.2.3.4/33",
        "256.1.1.1/8",
        "1.2.3/8",
        "1.2.3.4.5/8",
        "1.2.3.4/",
        "1.2.3.4/08",
        "1.2.3.4",
    ] {
        assert_eq!(fast_prefix(odd), None, "{odd}");
    }
    assert_eq!(fast_prefix("10.0.0.0/8"), "10.0.0.0/8".parse().ok());
    assert_eq!(
        fast_prefix("255.255.255.255/32"),
        "255.255.255.255/32".parse().ok()
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, failure_persistence: None, ..Default::default() })]

    /// The parser never panics: the sample with bytes overwritten, inserted or cut off.
    #[test]
    fn parse_never_panics_on_mutated_files(
        edits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>(), 0u8..3), 1..12),
        cut in proptest::option::of(0usize..4096),
    ) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => {}
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = ServiceTagFile::parse(&text);
    }

    /// Any string as a prefix, and any JSON shape where the parser expects a list of prefixes.
    #[test]
    fn parse_never_panics_on_odd_prefixes(
        prefix in "\\PC{0,40}",
        number in proptest::prelude::any::<i64>(),
        shape in 0u8..5,
    ) {
        let list = match shape {
            0 => serde_json::json!([prefix]),
            1 => serde_json::json!([number]),
            2 => serde_json::json!(prefix),
            3 => serde_json::json!({ "a": prefix }),
            _ => serde_json::json!([null, [prefix]]),
        };
        let doc = serde_json::json!({
            "changeNumber": number,
            "cloud": prefix,
            "values": [{ "name": prefix, "properties": { "changeNumber": prefix, "addressPrefixes": list } }],
        });
        let _ = ServiceTagFile::parse(&doc.to_string());
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 1000, failure_persistence: None, ..Default::default() })]

    /// The IPv6 fast path never disagrees with ipnet either: it declines or gives the same prefix.
    #[test]
    fn fast_path_agrees_with_ipnet_on_ipv6_like_text(text in "[0-9a-fA-F:.]{0,41}/?[0-9]{0,4}") {
        if let Some(fast) = crate::azure::prefix::fast_prefix(&text) {
            proptest::prop_assert_eq!(Some(fast), text.parse::<ipnet::IpNet>().ok(), "{}", text);
        }
    }

    /// Every real IPv6 prefix, written as std writes it, takes the fast path and reads back exactly.
    #[test]
    fn fast_path_takes_every_canonical_ipv6_prefix(addr in proptest::prelude::any::<u128>(), len in 0u8..=128) {
        let net = ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(addr), len).expect("len <= 128");
        let text = net.to_string();
        proptest::prop_assert_eq!(crate::azure::prefix::fast_prefix(&text), Some(ipnet::IpNet::V6(net)));
    }
}

/// One file with the prefix under test, as the only prefix of one tag.
fn one_prefix(prefix: &str) -> Result<ServiceTagFile, ServiceTagError> {
    let doc = serde_json::json!({
        "values": [{ "name": "T", "properties": { "addressPrefixes": [prefix] } }],
    });
    ServiceTagFile::parse(&doc.to_string())
}

#[test]
fn prefix_forms_edges_and_errors() {
    for (given, used) in [
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("255.255.255.255/32", "255.255.255.255/32"),
        ("10.1.2.3/32", "10.1.2.3/32"),
        ("::/0", "::/0"),
        ("::/128", "::/128"),
        ("2603:1000::/25", "2603:1000::/25"),
        ("2001:db8::1/128", "2001:db8::1/128"),
        ("2001:0DB8:0:0:0:0:0:0/32", "2001:db8::/32"),
        (
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
        ),
        ("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"),
        // odd forms the slow path still reads as before
        ("010.0.0.0/8", "10.0.0.0/8"),
        ("2001:db8::/032", "2001:db8::/32"),
        (" 2001:db8::/32 ", "2001:db8::/32"),
    ] {
        let file = one_prefix(given).unwrap_or_else(|e| panic!("{given}: {e}"));
        assert_eq!(
            file.tags[0].prefixes,
            [used.parse::<ipnet::IpNet>().expect("prefix")],
            "{given}"
        );
    }
    for bad in [
        "",
        "/",
        "::",
        "10.0.0.0",
        "10.0.0.0/33",
        "::/129",
        "2001:db8:::/32",
        "2001:db8::/",
        "2001:db8::g/32",
        "1:2:3:4:5:6:7:8:9/64",
        "2001:db8::/-1",
        "2001:db8::/1x",
        "10.0.0.0/8/8",
    ] {
        match one_prefix(bad) {
            Err(ServiceTagError::BadPrefix { tag, prefix, .. }) => {
                assert_eq!((tag.as_str(), prefix.as_str()), ("T", bad));
            }
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
}

#[test]
fn ipv6_host_bits_are_masked_and_reported() {
    let file = one_prefix("2001:db8::1/32").expect("parses");
    assert_eq!(
        file.tags[0].prefixes,
        ["2001:db8::/32".parse::<ipnet::IpNet>().expect("prefix")]
    );
    assert_eq!(file.host_bits.len(), 1);
    assert_eq!(file.host_bits[0].given, "2001:db8::1/32");
}

#[test]
fn duplicates_and_overlaps_are_kept_as_published() {
    let doc = serde_json::json!({
        "values": [{ "name": "T", "properties": { "addressPrefixes":
            ["10.0.0.0/8", "10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32", "2001:db8::/48", "2001:db8::/32"] } }],
    });
    let file = ServiceTagFile::parse(&doc.to_string()).expect("parses");
    // the file is reported as published; coverage counts distinct prefixes itself
    assert_eq!(file.tags[0].prefixes.len(), 6);
    assert!(file.host_bits.is_empty());
}
