//! `snowdoctor schema`: prints the JSON schema of the JSON report (`--targets`: of the fleet report).

use crate::cli::SchemaArgs;
use crate::error::Result;
use crate::exit;

/// Runs `snowdoctor schema`.
pub fn run(args: &SchemaArgs) -> Result<u8> {
    let schema = if args.targets {
        crate::report::fleet_json_schema()
    } else {
        crate::report::json_schema()
    };
    super::print_stdout(&schema);
    Ok(exit::OK)
}
