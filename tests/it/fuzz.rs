//! Fuzz-style property tests (proptest, in the normal gate; `cargo fuzz` would need nightly) of the
//! decoders that read outside data: the Table API response decoder, the check-manifest loader and the
//! ip_access rules reader (CSV and JSON). Arbitrary and mutated input must give an answer or an error,
//! never a panic. (The service-tag parser has its own property tests in `src/azure/tests/props.rs`.)

use std::path::Path;

use proptest::prelude::*;
use snowdoctor::servicenow::table::json_result;
use snowdoctor::servicenow::{RawResponse, Row};

/// A valid seed with `edits` applied: each (position, byte) replaces, inserts or truncates.
fn mutate(seed: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    for &(at, op, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match op % 4 {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            2 => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

const TABLE_SEED: &str = r#"{"result":[{"sys_id":"6816f79cc0a8016401c5a33be04be441","user_name":{"display_value":"admin","value":"admin"},"active":"true","roles":["a",{"x":null}],"n":1.5e3}]}"#;
const CSV_SEED: &str = "range_start,range_end,type,flow,active,description\n0.0.0.0, 255.255.255.255,deny,inbound,true,\"deny, all\"\n::1,,allow,bidirectional,false,x\n";
const RULES_JSON_SEED: &str = r#"{"result":[{"sys_id":"1","range_start":"10.0.0.0","range_end":"10.0.0.255","type":"Deny","flow":"inbound","active":"true"}]}"#;

fn decode(status: u16, content_type: &str, body: String) {
    let response = RawResponse {
        status,
        content_type: content_type.to_string(),
        headers: reqwest::header::HeaderMap::new(),
        body,
        location: None,
        url: "https://acme.service-now.com/api/now/table/sys_user".into(),
    };
    if let Ok(value) = json_result(&response, "GET sys_user", "sys_user") {
        let rows = match value {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        for row in rows.into_iter().map(Row::from_value) {
            let _ = (row.sys_id(), row.text("user_name"), row.flag("active"));
            let _ = (row.display("roles"), row.is_one_of("n", &["1500"]));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_table_api_decoder_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..12),
        status in prop::sample::select(vec![200u16, 201, 204, 400, 401, 403, 404, 429, 500]),
        content_type in prop::sample::select(vec!["application/json", "text/html", "", "text/plain"]),
    ) {
        decode(status, content_type, mutate(TABLE_SEED, &edits));
    }

    #[test]
    fn the_table_api_decoder_survives_arbitrary_text(body in ".{0,300}") {
        decode(200, "application/json", body);
    }

    #[test]
    fn the_manifest_loader_never_panics(
        seed in 0usize..64,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8),
    ) {
        let seeds = manifest_seeds();
        let text = mutate(&seeds[seed % seeds.len()], &edits);
        let _ = snowdoctor::catalogue::parse_manifest(Path::new("fuzz.toml"), &text);
    }

    #[test]
    fn the_manifest_loader_survives_arbitrary_text(text in "[\\[\\]a-z_=\"'{}.,\\n 0-9]{0,200}") {
        let _ = snowdoctor::catalogue::parse_manifest(Path::new("fuzz.toml"), &text);
    }

    #[test]
    fn the_rules_reader_never_panics(
        json in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..12),
    ) {
        let seed = if json { RULES_JSON_SEED } else { CSV_SEED };
        let _ = snowdoctor::azure::rules::rules_from_text(&mutate(seed, &edits));
    }

    #[test]
    fn the_csv_reader_survives_arbitrary_text(text in "[a-z_0-9.:, \"\\r\\n\u{feff}]{0,200}") {
        let _ = snowdoctor::azure::rules::rules_from_text(&text);
    }
}

/// The real manifests in `checks/`.
fn manifest_seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks");
    let mut seeds: Vec<String> = std::fs::read_dir(dir)
        .expect("checks/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no manifests in checks/");
    seeds
}

#[test]
fn the_csv_seed_itself_is_read() {
    let rules = snowdoctor::azure::rules::rules_from_text(CSV_SEED).expect("valid CSV");
    let policy = rules.policy(snowdoctor::azure::rules::Direction::Inbound);
    assert!(policy.filters(), "the deny rule with spaces is read");
    assert!(policy.blocks("192.0.2.7".parse().expect("ip")));
}
