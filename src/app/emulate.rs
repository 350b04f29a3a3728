//! `snowdoctor emulate`: serves a scenario until Ctrl-C, printing how to reach it.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::cli::{BatchApiArg, EmulateArgs};
use crate::emulator::{BatchApi, Emulator, EmulatorError, EmulatorOptions, scenarios};
use crate::error::{Error, Result};
use crate::exit;

/// Runs the emulator for the command line. The first stdout line is `listening on <URL>` so scripts
/// can read the port.
pub async fn run(args: &EmulateArgs) -> Result<u8> {
    serve(args)
        .await
        .map_err(|e| Error::Emulator(e.to_string()))?;
    Ok(exit::OK)
}

async fn serve(args: &EmulateArgs) -> std::result::Result<(), EmulatorError> {
    if args.list_scenarios {
        let list = scenarios();
        let width = list.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for s in list {
            println!("{:width$}  {}", s.name, s.description);
        }
        return Ok(());
    }
    let ip: IpAddr = args.bind.parse().map_err(|_| {
        EmulatorError::Usage(format!("--bind {:?} is not an IP address", args.bind))
    })?;
    if !ip.is_loopback() {
        eprintln!(
            "warning: binding {ip}, which is not loopback: other machines can reach this emulator \
             and its well-known test credentials"
        );
    }
    let client_ip = match &args.client_ip {
        Some(text) => Some(text.parse::<IpAddr>().map_err(|_| {
            EmulatorError::Usage(format!("--client-ip {text:?} is not an IP address"))
        })?),
        None => None,
    };
    let emulator = Emulator::start(EmulatorOptions {
        scenario: args.scenario.clone(),
        bind: SocketAddr::new(ip, args.port),
        tls: !args.plain_http,
        latency: Duration::from_millis(args.latency_ms),
        client_ip,
        batch_api: match args.batch_api {
            BatchApiArg::On => BatchApi::On,
            BatchApiArg::Missing => BatchApi::Missing,
            BatchApiArg::Forbidden => BatchApi::Forbidden,
            BatchApiArg::RateLimited => BatchApi::RateLimited,
        },
        ..EmulatorOptions::default()
    })
    .await?;
    if let (Some(path), Some(pem)) = (&args.ca_out, emulator.ca_pem()) {
        std::fs::write(path, pem).map_err(|source| EmulatorError::Write {
            path: path.clone(),
            source,
        })?;
    }
    let url = emulator.base_url();
    let creds = emulator.credentials();
    let mut out = std::io::stdout().lock();
    let ca_flag = match (&args.ca_out, emulator.ca_pem().is_some()) {
        (Some(path), true) => format!("--cacert {} ", path.display()),
        (None, true) => "--cacert <CA file from --ca-out> ".to_string(),
        _ => String::new(),
    };
    let _ = writeln!(out, "listening on {url}");
    let _ = writeln!(out, "scenario:         {}", args.scenario);
    let _ = writeln!(out, "diagnosing user:  {}", creds.user);
    let _ = writeln!(out, "integration user: {}", creds.integration_user);
    let _ = writeln!(
        out,
        "OAuth entity:     {} (client_id {})",
        creds.oauth_entity, creds.client_id
    );
    let _ = writeln!(
        out,
        "passwords and the client secret are test values listed in fixtures/instances/README.md"
    );
    let _ = writeln!(out, "try:");
    let _ = writeln!(
        out,
        "  curl {ca_flag}-u {} -H 'Accept: application/json' '{url}/api/now/table/incident?sysparm_limit=2'",
        creds.user
    );
    let _ = writeln!(out, "press Ctrl-C to stop");
    let _ = out.flush();
    drop(out);
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| EmulatorError::Runtime(format!("waiting for Ctrl-C: {e}")))?;
    emulator.stop();
    Ok(())
}
