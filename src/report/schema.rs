//! `snowdoctor schema`: the JSON Schema of the JSON report, generated from [`RunReport`] so the two
//! cannot drift apart.

use crate::model::{REPORT_SCHEMA_VERSION, RunReport};

/// The schema as pretty JSON (draft 2020-12), with a title naming the report schema version.
pub fn json_schema() -> String {
    let mut schema = schemars::schema_for!(RunReport);
    schema.insert(
        "title".to_string(),
        format!("snowdoctor run report {REPORT_SCHEMA_VERSION}").into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
