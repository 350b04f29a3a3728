//! `snowdoctor report render FILE`: re-renders a saved JSON report into another format.

use crate::cli::RenderArgs;
use crate::error::Result;
use crate::exit;

/// Runs `snowdoctor report render`.
pub fn render(args: &RenderArgs) -> Result<u8> {
    let text = crate::report::render_saved(
        &args.file,
        args.format,
        super::term::stdout_color(args.color),
        super::term::stdout_width(),
    )?;
    // Exactly the bytes the live run wrote to its file: no newline added.
    super::print_exact(&text);
    Ok(exit::OK)
}
