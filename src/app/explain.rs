//! `snowdoctor explain ID`: prints one check in full.

use crate::catalogue::Catalogue;
use crate::cli::ExplainArgs;
use crate::error::{Error, Result};
use crate::exit;

/// Runs `snowdoctor explain`.
pub fn run(args: &ExplainArgs) -> Result<u8> {
    let catalogue = Catalogue::load(args.checks_dir.as_deref())?;
    let manifest = catalogue.get(&args.id).ok_or_else(|| {
        Error::Usage(format!(
            "unknown check id {:?}{}; see `snowdoctor list`",
            args.id,
            crate::suggest::hint(&args.id, catalogue.checks().iter().map(|m| m.id.as_str()))
        ))
    })?;
    super::print_stdout(&crate::catalogue::describe::explain(manifest));
    Ok(exit::OK)
}
