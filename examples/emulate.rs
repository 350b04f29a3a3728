//! Runs `snowdoctor emulate` without the main binary's wiring (used by `.ci/pysnc.sh`).
//! Example: `cargo run --example emulate -- --scenario healthy --port 0 --ca-out /tmp/ca.pem`

use clap::Parser;
use snowdoctor::cli::EmulateArgs;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    emulate: EmulateArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match snowdoctor::app::emulate::run(&args.emulate).await {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
