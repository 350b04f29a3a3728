//! Report tests: `samples` renders every format from the saved sample reports in `fixtures/reports/`;
//! `live` runs the binary against the emulator and pins what it writes. Both share the snapshot settings.

mod live;
mod samples;

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Timestamps, durations and ports vary between runs; snapshots must not.
fn redacted_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/it/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[timestamp]",
        ),
        (r"\b\d+ min \d+ s\b|\b\d+(\.\d)? m?s\b", "[duration]"),
        (r#""(duration_ms|time|wait)": \d+"#, r#""$1": "[ms]""#),
        (r#"\btime="[\d.]+""#, r#"time="[s]""#),
        (r"(127\.0\.0\.1|localhost|\[::1\]):\d+", "$1:[port]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}
