//! `snowdoctor schema`: the JSON Schema of the JSON report, generated from [`RunReport`] so the two
//! cannot drift apart; `--config`: of the TOML config file (its `[defaults]` and `[profiles.NAME]`,
//! the shape of the built-in profiles too), generated from the types the file is read into.

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

/// `snowdoctor schema --config`: the schema of the config file, read as JSON (a TOML file is checked by
/// converting it: tables are objects, arrays are arrays). Keys are those [`crate::config::ConfigFile`]
/// accepts; what the schema cannot say (a CIDR's syntax, a column name's characters, a field mapping's
/// cross-field rules) is still checked when the file is read, with its line.
pub fn config_json_schema() -> String {
    let mut schema = schemars::schema_for!(crate::config::ConfigFile);
    schema.insert("title".to_string(), "snowdoctor config file".into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}
