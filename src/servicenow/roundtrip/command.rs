//! `snowdoctor cleanup`: finds every record carrying a snowdoctor marker on the ticket table, lists it,
//! and (unless `--dry-run`) removes it with the same bounded, verified removal the round trip uses.

use std::io::Write;
use std::time::Duration;

use super::cleanup::{Removal, remove_record, search};
use super::mapping::carries_any_marker;
use crate::cli::CleanupArgs;
use crate::config::{SecretSource, read_secret};
use crate::error::{Error, Result};
use crate::exit;
use crate::secrets::SecretRegistry;
use crate::servicenow::{Auth, Client, ClientOptions};

/// `snowdoctor cleanup`: lists (and unless `--dry-run` removes) every record carrying a snowdoctor
/// marker on `--ticket-table`. Exit 0 when nothing is left, 1 when something remains.
pub async fn cleanup_command(args: &CleanupArgs) -> Result<u8> {
    let secrets = SecretRegistry::new();
    let connection = &args.connection;
    let instance = connection.instance.clone().ok_or_else(|| {
        Error::Usage("no instance: pass --instance URL or set SNOWDOCTOR_INSTANCE".into())
    })?;
    let user = connection.user.clone().ok_or_else(|| {
        Error::Usage("no account: pass --user NAME or set SNOWDOCTOR_USER".into())
    })?;
    let password = read_secret(
        &SecretSource {
            what: "password of the account",
            file: connection.password_file.as_deref(),
            env: "SNOWDOCTOR_PASSWORD",
            prompt: true,
        },
        &secrets,
    )?
    .ok_or_else(|| {
        Error::Usage(
            "no password: set SNOWDOCTOR_PASSWORD, pass --password-file FILE, or run on a terminal to be prompted".into(),
        )
    })?;
    let mut options = ClientOptions::new(instance);
    options.ca_cert_pem = match &connection.ca_cert {
        Some(path) => Some(std::fs::read(path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    options.insecure = connection.insecure;
    options.allow_http = connection.allow_http;
    options.connect_timeout = Duration::from_secs(connection.connect_timeout.max(1));
    options.request_timeout = Duration::from_secs(connection.request_timeout.max(1));
    options.secrets = secrets.clone();
    let client = Client::new(options).map_err(|e| Error::Usage(e.to_string()))?;
    for warning in client.warnings() {
        eprintln!("warning: {warning}");
    }
    let auth = Auth::Basic { user, password };
    let table = args.ticket_table.as_str();
    let queries = [
        "short_descriptionLIKE[snowdoctor:".to_string(),
        "correlation_idSTARTSWITHsnowdoctor-".to_string(),
    ];
    let rows = search(&client, &auth, table, &queries, carries_any_marker)
        .await
        .map_err(|e| Error::NotAssessed(format!("cannot list {table}: {e}")))?;
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str(&format!("no snowdoctor records on {table}\n"));
        print(&secrets, &out);
        return Ok(exit::OK);
    }
    out.push_str(&format!(
        "{} snowdoctor record(s) on {table}:\n",
        rows.len()
    ));
    for row in &rows {
        out.push_str(&format!(
            "  {} {} created {} {:?}\n",
            row.sys_id(),
            row.text("number"),
            row.text("sys_created_on"),
            row.text("short_description")
        ));
    }
    if args.dry_run {
        out.push_str("dry run: nothing removed\n");
        print(&secrets, &out);
        return Ok(exit::FINDINGS);
    }
    let mut left = 0;
    for row in &rows {
        let removal = remove_record(&client, &[("the account", &auth)], table, row.sys_id()).await;
        match removal {
            Removal::Deleted { .. } => {
                out.push_str(&format!(
                    "  deleted {} {}\n",
                    row.sys_id(),
                    row.text("number")
                ));
            }
            Removal::Failed { reason } => {
                left += 1;
                out.push_str(&format!(
                    "  NOT removed {} {}: {reason}\n",
                    row.sys_id(),
                    row.text("number")
                ));
            }
        }
    }
    if left == 0 {
        out.push_str(&format!("removed {} record(s)\n", rows.len()));
        print(&secrets, &out);
        Ok(exit::OK)
    } else {
        out.push_str(&format!("{left} record(s) could not be removed\n"));
        print(&secrets, &out);
        Ok(exit::FINDINGS)
    }
}

fn print(secrets: &SecretRegistry, text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(secrets.redact(text).as_bytes());
    let _ = stdout.flush();
}
