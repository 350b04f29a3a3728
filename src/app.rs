//! Command dispatch: turns a parsed command line into a run and an exit code.

use crate::cli::Cli;

/// Runs a command and returns its exit code.
pub fn main(cli: Cli) -> u8 {
    let _ = cli;
    0
}
