//! `snowdoctor list`: prints the check catalogue (text or JSON).

use crate::catalogue::Catalogue;
use crate::cli::CatalogueArgs;
use crate::error::Result;
use crate::exit;

/// Runs `snowdoctor list`.
pub fn run(args: &CatalogueArgs) -> Result<u8> {
    let catalogue = Catalogue::load(args.checks_dir.as_deref())?;
    super::print_stdout(&crate::catalogue::describe::list(
        &catalogue,
        args.json,
        super::term::stdout_width(),
    ));
    Ok(exit::OK)
}
