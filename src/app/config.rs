//! `snowdoctor config`: the effective settings and where each came from.

use crate::cli::ConfigArgs;
use crate::error::Result;
use crate::exit;

/// Runs `snowdoctor config`.
pub fn run(_args: &ConfigArgs) -> Result<u8> {
    Ok(exit::OK)
}
