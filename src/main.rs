//! Thin entry point: parse, run the library, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = snowdoctor::cli::Cli::parse();
    ExitCode::from(snowdoctor::app::main(cli))
}
