//! `snowdoctor completions SHELL`: a completion script generated from the clap definitions, so it never
//! drifts from the flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Result};
use crate::exit;

/// Runs `snowdoctor completions`.
pub fn run(args: &CompletionsArgs) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "snowdoctor", &mut script);
    let text = String::from_utf8(script)
        .map_err(|e| Error::Report(format!("the completion script is not UTF-8: {e}")))?;
    super::print_stdout(&text);
    Ok(exit::OK)
}
