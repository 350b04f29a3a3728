//! `snowdoctor cleanup`: finds every record carrying a snowdoctor marker on the ticket table, lists it,
//! and (unless `--dry-run`) removes it with the same bounded, verified removal the round trip uses.

use std::io::Write;

use crate::cli::CleanupArgs;
use crate::config;
use crate::error::{Error, Result};
use crate::exit;
use crate::secrets::SecretRegistry;
use crate::servicenow::roundtrip::cleanup::{
    Budget, CLEANUP_BUDGET, Removal, find_any_marked, remove_record,
};
use crate::servicenow::roundtrip::marker::carries_any_marker;
use crate::servicenow::{Auth, Client};

/// `snowdoctor cleanup`: lists (and unless `--dry-run` removes) every record carrying a snowdoctor
/// marker on `--ticket-table`. Exit 0 when nothing is left, 1 when something remains.
pub async fn run(args: &CleanupArgs) -> Result<u8> {
    crate::servicenow::path::check_table_name(&args.ticket_table)
        .map_err(|reason| Error::Usage(format!("--ticket-table: {reason}")))?;
    let secrets = SecretRegistry::new();
    let file = config::config_file(args.config.as_deref())?;
    let connection = config::connection(&args.connection.input(), &file, &secrets)?;
    let client = Client::new(connection.client_options(&secrets))
        .map_err(|e| Error::Usage(e.to_string()))?;
    for warning in client.warnings() {
        eprintln!("warning: {warning}");
    }
    let auth = Auth::Basic {
        user: connection.user,
        password: connection.password,
    };
    let table = args.ticket_table.as_str();
    let rows = find_any_marked(&client, &auth, table)
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
    let (mut removed, mut left, mut refused) = (0, 0, 0);
    for row in &rows {
        // Each record gets its own budget: one hanging DELETE cannot stop the others being tried.
        let budget = Budget::start(CLEANUP_BUDGET);
        let what = format!("{} {}", row.sys_id(), row.text("number"));
        let removal = remove_record(
            &client,
            &[("the account", &auth)],
            table,
            row.sys_id(),
            &carries_any_marker,
            &budget,
        )
        .await;
        match removal {
            Removal::Deleted { .. } => {
                removed += 1;
                out.push_str(&format!("  deleted {what}\n"));
            }
            Removal::Gone => out.push_str(&format!("  already gone {what}\n")),
            Removal::NotOurs { reason } => {
                refused += 1;
                out.push_str(&format!("  NOT touched {what}: {reason}\n"));
            }
            Removal::Failed { reason } => {
                left += 1;
                out.push_str(&format!("  NOT removed {what}: {reason}\n"));
            }
        }
    }
    out.push_str(&format!("removed {removed} record(s)\n"));
    if left > 0 {
        out.push_str(&format!("{left} record(s) could not be removed\n"));
    }
    if refused > 0 {
        out.push_str(&format!(
            "{refused} listed record(s) did not carry a marker when read by id and were left alone: the list the instance answered does not match its records\n"
        ));
    }
    print(&secrets, &out);
    Ok(if left + refused == 0 {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

fn print(secrets: &SecretRegistry, text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(secrets.redact(text).as_bytes());
    let _ = stdout.flush();
}
