//! `snowdoctor emulate`: serves a scenario until Ctrl-C, printing how to reach it.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{BatchApiArg, EmulateArgs};
use crate::emulator::{
    BatchApi, DemoCredentials, Emulator, EmulatorError, EmulatorOptions, scenarios,
};
use crate::error::{Error, Result};
use crate::exit;
use crate::secrets::ExposeSecret;

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
        // `emulate --list-scenarios | head` must end quietly, not panic in println!.
        let mut out = super::pipe::QuietStdout::new();
        let list = scenarios();
        let width = list.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for s in list {
            let _ = writeln!(out, "{:width$}  {}", s.name, s.description);
        }
        let _ = out.flush();
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
    let url = emulator.base_url();
    let ca_path = match emulator.ca_pem() {
        Some(pem) => {
            let path = args
                .ca_out
                .clone()
                .unwrap_or_else(|| default_ca_path(emulator.addr().port()));
            write_ca(&path, &pem)?;
            Some(path)
        }
        None => None,
    };
    let banner = Banner {
        url: &url,
        scenario: &args.scenario,
        credentials: &emulator.credentials(),
        ca_path: ca_path.as_deref(),
        allow_http: args.plain_http && !ip.is_loopback(),
    };
    let mut out = super::pipe::QuietStdout::new();
    let _ = out.write_all(banner.render().as_bytes());
    let _ = out.flush();
    drop(out);
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| EmulatorError::Runtime(format!("waiting for Ctrl-C: {e}")))?;
    emulator.stop();
    Ok(())
}

/// Where the CA goes without `--ca-out`: a per-user runtime or cache directory, one file per port.
fn default_ca_path(port: u16) -> PathBuf {
    let base = ["XDG_RUNTIME_DIR", "XDG_CACHE_HOME"]
        .iter()
        .find_map(|name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("snowdoctor")
        .join(format!("emulator-ca-{port}.pem"))
}

fn write_ca(path: &Path, pem: &str) -> std::result::Result<(), EmulatorError> {
    let failed = |source| EmulatorError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    std::fs::write(path, pem).map_err(failed)
}

/// What `emulate` prints once it listens: how to reach it and a command that diagnoses it.
struct Banner<'a> {
    url: &'a str,
    scenario: &'a str,
    credentials: &'a DemoCredentials,
    ca_path: Option<&'a Path>,
    allow_http: bool,
}

impl Banner<'_> {
    fn render(&self) -> String {
        let c = self.credentials;
        let mut lines = vec![
            format!("listening on {}", self.url),
            format!("scenario:         {}", self.scenario),
            // Emulator-only test values, printed so an installed binary needs no fixture file.
            format!(
                "diagnosing user:  {} (password {})",
                c.user,
                c.password.expose_secret()
            ),
            format!(
                "integration user: {} (password {})",
                c.integration_user,
                c.integration_password.expose_secret()
            ),
            format!(
                "OAuth entity:     {} (client_id {}, client secret {})",
                c.oauth_entity,
                c.client_id,
                c.client_secret.expose_secret()
            ),
            "these are the emulator's own test values, not secrets of any real instance".into(),
        ];
        if let Some(path) = self.ca_path {
            lines.push(format!("CA certificate:   {}", path.display()));
        }
        let mut run = vec![
            "snowdoctor run".to_string(),
            format!("--instance {}", self.url),
            format!("--user {}", shell_quote(&c.user)),
        ];
        if let Some(profile) = profile_for(self.scenario) {
            run.push(format!("--profile {profile}"));
        }
        run.push(format!(
            "--integration-user {}",
            shell_quote(&c.integration_user)
        ));
        run.push(format!("--oauth-entity {}", shell_quote(&c.oauth_entity)));
        run.push(format!("--client-id {}", shell_quote(&c.client_id)));
        if let Some(path) = self.ca_path {
            run.push(format!(
                "--ca-cert {}",
                shell_quote(&path.display().to_string())
            ));
        }
        if self.allow_http {
            run.push("--allow-http".into());
        }
        lines.push("diagnose it:".into());
        lines.push(format!(
            "  SNOWDOCTOR_PASSWORD={} SNOWDOCTOR_INTEGRATION_PASSWORD={} SNOWDOCTOR_CLIENT_SECRET={} \\",
            shell_quote(c.password.expose_secret()),
            shell_quote(c.integration_password.expose_secret()),
            shell_quote(c.client_secret.expose_secret()),
        ));
        lines.push(format!("    {}", run.join(" ")));
        let ca_flag = self
            .ca_path
            .map(|p| format!("--cacert {} ", shell_quote(&p.display().to_string())))
            .unwrap_or_default();
        lines.push("or read a table:".into());
        lines.push(format!(
            "  curl {ca_flag}-u {}:{} -H 'Accept: application/json' '{}/api/now/table/incident?sysparm_limit=2'",
            shell_quote(&c.user),
            shell_quote(c.password.expose_secret()),
            self.url
        ));
        lines.push("press Ctrl-C to stop".into());
        let mut text = lines.join("\n");
        text.push('\n');
        text
    }
}

/// The built-in profile a scenario belongs to: `azure-monitor-itsmc-refresh-short` →
/// `azure-monitor-itsmc`. The connector's own scenarios use the default profile (none printed).
fn profile_for(scenario: &str) -> Option<String> {
    crate::profile::Profile::builtin()
        .into_iter()
        .map(|p| p.name)
        .filter(|name| {
            name != crate::profile::DEFAULT_PROFILE
                && scenario
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
        })
        .max_by_key(String::len)
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_keeps_plain_words_and_quotes_the_rest() {
        assert_eq!(shell_quote("m365.integration"), "m365.integration");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn scenarios_map_to_their_profile() {
        assert_eq!(
            profile_for("azure-monitor-itsmc-refresh-short").as_deref(),
            Some("azure-monitor-itsmc")
        );
        assert_eq!(
            profile_for("copilot-servicenow-knowledge").as_deref(),
            Some("copilot-servicenow-knowledge")
        );
        assert_eq!(profile_for("healthy"), None);
    }
}
