//! Thin entry point: parse, run the library, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match snowdoctor::cli::Cli::try_parse() {
        Ok(cli) => ExitCode::from(snowdoctor::app::main(cli)),
        Err(error) => ExitCode::from(snowdoctor::app::parse_error(&error)),
    }
}
