//! The command line's edge: one file per subcommand (`src/app/<command>.rs`), each of which starts its
//! command, prints and picks its exit code. Nothing below `app` prints or sees clap. Everything printed
//! to stdout is the requested output; logs and progress go to stderr.

use std::io::Write;

use crate::cli::{Cli, Command, ReportCommand};
use crate::error::Result;
use crate::exit;

mod cleanup;
mod completions;
mod config;
mod demo;
pub mod emulate;
mod explain;
mod fleet;
mod list;
mod logging;
mod man;
mod profiles;
mod progress;
pub mod ranges;
mod report;
pub mod run;
mod schema;
mod signals;
pub mod term;
mod why;

/// Prints a command-line error (or `--help`/`--version`) and returns its exit code. A mistyped
/// subcommand gets the one "did you mean" rule every other name gets (`crate::suggest`).
pub fn parse_error(error: &clap::Error) -> u8 {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() == ErrorKind::InvalidSubcommand
        && let Some(ContextValue::String(typed)) = error.get(ContextKind::InvalidSubcommand)
    {
        let command = Cli::command();
        let names = command
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name());
        let tip = crate::suggest::closest(typed, names)
            .map(|name| format!("\n  tip: did you mean '{name}'?\n"))
            .unwrap_or_default();
        eprintln!(
            "error: unrecognized subcommand '{typed}'\n{tip}\nUsage: snowdoctor <COMMAND>\n\nFor more information, try '--help'."
        );
        return exit::USAGE;
    }
    let _ = error.print();
    u8::try_from(error.exit_code()).unwrap_or(exit::USAGE)
}

/// Runs a command and returns its exit code.
pub fn main(cli: Cli) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::USAGE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}

async fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Run(args) => run::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Emulate(args) => emulate::run(&args).await,
        Command::List(args) => list::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Ranges(args) => {
            let mut stdout = std::io::stdout().lock();
            ranges::run(&args, &mut stdout)
        }
        Command::Report(ReportCommand::Render(args)) => report::render(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Cleanup(args) => cleanup::run(&args).await,
        Command::Why(args) => why::run(&args),
        Command::Profiles(args) => profiles::run(&args),
        Command::Config(args) => config::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man => man::run(),
    }
}

/// Writes `text` to stdout as it is.
fn print_exact(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes `text` to stdout with a final newline.
fn print_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}
