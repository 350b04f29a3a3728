//! `snowdoctor schema`: prints the JSON schema of the JSON report.

use crate::error::Result;
use crate::exit;

/// Runs `snowdoctor schema`.
pub fn run() -> Result<u8> {
    super::print_stdout(&crate::report::json_schema());
    Ok(exit::OK)
}
