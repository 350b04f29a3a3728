//! The embedded snapshots against their SOURCE note, and how `--service-tags` names a source.

use std::path::Path;

use chrono::{TimeZone, Utc};

use crate::azure::reference_data::sha256_hex;
use crate::azure::snapshot::{self, Origin, SNAPSHOTS, TagSource};

const SOURCE: &str = include_str!("../../../data/azure/SOURCE.md");

/// The cells of the SOURCE table row for `file`, backticks removed.
fn source_row(file: &str) -> Vec<String> {
    let line = SOURCE
        .lines()
        .find(|l| l.starts_with(&format!("| `{file}.zst`")))
        .unwrap_or_else(|| panic!("data/azure/SOURCE.md has no row for {file}.zst"));
    line.trim_matches('|')
        .split('|')
        .map(|c| c.trim().trim_matches('`').to_string())
        .collect()
}

#[test]
fn embedded_snapshots_match_their_source_note() {
    for snap in SNAPSHOTS {
        let row = source_row(snap.file_name);
        let date = snap.date().expect("dated file name").to_string();
        let expected = [
            format!("{}.zst", snap.file_name),
            format!("builtin:{}", snap.key),
            snap.cloud.to_string(),
            date,
            snap.change_number.to_string(),
            snap.bytes.to_string(),
            snap.sha256.to_string(),
            snap.download_page.to_string(),
        ];
        assert_eq!(row, expected, "SOURCE.md row vs src/azure/snapshot.rs");
        let bytes = snap.bytes().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bytes.len(), snap.bytes, "{}", snap.file_name);
        assert_eq!(
            sha256_hex(&bytes).expect("sha256"),
            snap.sha256,
            "{}",
            snap.file_name
        );
        let file = snap.load().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.cloud, snap.cloud);
        assert_eq!(file.change_number, snap.change_number);
        assert_eq!(file.date, snap.date());
        assert_eq!(file.origin, Origin::Builtin(snap));
    }
}

#[test]
fn service_tags_argument_names_a_builtin_or_a_file() {
    assert_eq!(
        TagSource::from_arg(None).expect("default"),
        TagSource::Builtin(&snapshot::PUBLIC)
    );
    for (arg, expected) in [
        ("builtin:public", TagSource::Builtin(&snapshot::PUBLIC)),
        ("builtin:gov", TagSource::Builtin(&snapshot::GOVERNMENT)),
        ("builtin:china", TagSource::Builtin(&snapshot::CHINA)),
        ("builtin:sample", TagSource::Sample),
        ("tags.json", TagSource::File("tags.json".into())),
    ] {
        assert_eq!(
            TagSource::from_arg(Some(Path::new(arg))).expect(arg),
            expected
        );
    }
    let err = TagSource::from_arg(Some(Path::new("builtin:gvo"))).expect_err("unknown");
    assert_eq!(err.exit_code(), crate::exit::USAGE);
    let text = err.to_string();
    assert!(
        text.contains("builtin:gov")
            && text.contains("builtin:sample")
            && text.contains("details.aspx?id=56519"),
        "{text}"
    );
}

/// Midnight UTC of a day.
fn midnight(year: i32, month: u32, day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, 0, 0, 0)
        .single()
        .expect("a valid date")
}

#[test]
fn provenance_and_notice_name_the_snapshot_and_its_age() {
    let file = snapshot::CHINA.load().expect("china");
    assert_eq!(
        file.provenance(),
        "embedded China snapshot builtin:china of 2026-07-20 (changeNumber 405)"
    );
    let fresh = midnight(2026, 9, 18);
    assert_eq!(
        file.notice(fresh),
        "Azure IP ranges from the embedded China snapshot builtin:china of 2026-07-20 (changeNumber 405), 60 days old at run time"
    );
    let stale = midnight(2026, 9, 19);
    let notice = file.notice(stale);
    assert!(
        notice.starts_with("warning: ")
            && notice.contains("61 days old")
            && notice.contains("details.aspx?id=57062")
            && notice.contains("--service-tags FILE"),
        "{notice}"
    );
    // a clock (or SNOWDOCTOR_NOW) before the file's date: said so, not a negative age
    let before = midnight(2026, 7, 17);
    let notice = file.notice(before);
    assert!(
        notice.ends_with(
            "of 2026-07-20 (changeNumber 405), dated 3 days after the run's date (check the clock and the file's name)"
        ),
        "{notice}"
    );
    let sample = TagSource::Sample.load().expect("sample");
    assert_eq!(sample.origin, Origin::Sample);
    assert!(!sample.notice(stale).starts_with("warning"));
}
