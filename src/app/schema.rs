//! `snowdoctor schema`: prints the JSON schema of the JSON report (`--targets`: of the fleet report;
//! `--config`: of the config file and its profiles).

use crate::cli::SchemaArgs;
use crate::error::Result;
use crate::exit;

/// Runs `snowdoctor schema`.
pub fn run(args: &SchemaArgs) -> Result<u8> {
    let schema = if args.config {
        crate::report::config_json_schema()
    } else if args.targets {
        crate::report::fleet_json_schema()
    } else {
        crate::report::json_schema()
    };
    super::print_stdout(&schema);
    Ok(exit::OK)
}
