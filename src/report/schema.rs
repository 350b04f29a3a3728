//! `snowdoctor schema`: the JSON Schema of the JSON report, generated from [`RunReport`] so the two
//! cannot drift apart.

use crate::fleet::{FLEET_SCHEMA_VERSION, FleetReport};
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

/// `snowdoctor schema --targets`: the schema of the fleet JSON report (`run --targets --format json`),
/// whose `runs` are run reports.
pub fn fleet_json_schema() -> String {
    let mut schema = schemars::schema_for!(FleetReport);
    schema.insert(
        "title".to_string(),
        format!("snowdoctor fleet report {FLEET_SCHEMA_VERSION}").into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
