//! `snowdoctor report render FILE`: re-renders a saved JSON report into another format.

use crate::cli::RenderArgs;
use crate::error::Result;
use crate::exit;

/// Runs `snowdoctor report render`.
pub fn render(args: &RenderArgs) -> Result<u8> {
    super::print_stdout(&crate::report::render_saved(&args.file, args.format)?);
    Ok(exit::OK)
}
