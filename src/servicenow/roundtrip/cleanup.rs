//! Removing round-trip records: bounded retries of transient errors, a fallback account, closing as a
//! last resort when asked, and finding records by marker. The round trip ([`super::sweep`]) and
//! `snowdoctor cleanup` (`src/app/cleanup.rs`) both remove records through here.
//!
//! Nothing here deletes a row without first checking, on the client side, that it carries a
//! snowdoctor marker: ServiceNow silently ignores invalid parts of an encoded query (a table without
//! `correlation_id`, say), so a server-side filter alone could match every record.

use std::time::Duration;

use serde_json::{Map, Value};

use super::marker::{Marker, carries_any_marker};
use crate::servicenow::{Auth, Client, ClientError, Row, TableQuery};

/// Attempts per account; the client adds its own retries of transient errors on each.
const ATTEMPTS: u32 = 3;
/// Longest `Retry-After` honoured between attempts.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// Fields read when listing marked records (never the whole row).
const LIST_FIELDS: [&str; 5] = [
    "sys_id",
    "number",
    "short_description",
    "correlation_id",
    "sys_created_on",
];

/// What a removal achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    Deleted { by: String },
    Failed { reason: String },
}

/// Deletes one record and verifies it is gone, trying each account in turn. 404 counts as gone.
pub async fn remove_record(
    client: &Client,
    auths: &[(&str, &Auth)],
    table: &str,
    sys_id: &str,
) -> Removal {
    let mut reason = String::from("no account to delete with");
    for (who, auth) in auths {
        if matches!(auth, Auth::None) {
            continue;
        }
        for attempt in 0..ATTEMPTS {
            let result: std::result::Result<(), ClientError> =
                match client.table_delete(auth, table, sys_id).await {
                    Ok(()) | Err(ClientError::NotFound { .. }) => {
                        match client.table_get(auth, table, sys_id).await {
                            Err(ClientError::NotFound { .. }) => {
                                return Removal::Deleted {
                                    by: (*who).to_string(),
                                };
                            }
                            Ok(_) => Err(ClientError::Status {
                                status: 200,
                                what: "the record is still readable after DELETE".into(),
                            }),
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                };
            let Err(error) = result else { continue };
            reason = format!("{who}: {}", short(&error));
            match &error {
                // This account may not delete: try the next one.
                ClientError::Forbidden { .. }
                | ClientError::Unauthorized { .. }
                | ClientError::IpBlocked => break,
                // Limits are per user: the next account may still have quota; waiting would not help.
                ClientError::RateLimited { retry_after, .. }
                    if retry_after.is_none_or(|d| d > MAX_WAIT) =>
                {
                    break;
                }
                ClientError::RateLimited { retry_after, .. } if attempt + 1 < ATTEMPTS => {
                    tokio::time::sleep(retry_after.unwrap_or(MAX_WAIT)).await;
                }
                _ if attempt + 1 < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt + 1))).await;
                }
                _ => {}
            }
        }
    }
    Removal::Failed { reason }
}

/// An error in a few words, for the leftover's reason.
fn short(error: &ClientError) -> String {
    match error {
        ClientError::RateLimited { retry_after, .. } => format!(
            "rate limited (429){}",
            retry_after
                .map(|d| format!(", retry after {} s", d.as_secs()))
                .unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

/// Closes a record (incident state 7) and verifies the state was stored.
pub async fn close_record(
    client: &Client,
    auth: &Auth,
    table: &str,
    sys_id: &str,
) -> std::result::Result<(), ClientError> {
    let mut fields = Map::new();
    fields.insert("state".into(), Value::String("7".into()));
    fields.insert(
        "close_code".into(),
        Value::String("Closed/Resolved by Caller".into()),
    );
    fields.insert(
        "close_notes".into(),
        Value::String("Closed by snowdoctor: deletion was denied to the integration user".into()),
    );
    client.table_update(auth, table, sys_id, &fields).await?;
    let row = client.table_get(auth, table, sys_id).await?;
    if row.text("state") == "7" {
        Ok(())
    } else {
        Err(ClientError::Status {
            status: 200,
            what: format!(
                "closing the record: state stored as {:?}",
                row.text("state")
            ),
        })
    }
}

/// This run's records, found by marker with the first account that can search.
pub async fn find_marked(
    client: &Client,
    auths: &[(&str, &Auth)],
    table: &str,
    marker: &Marker,
) -> std::result::Result<Vec<Row>, ClientError> {
    let queries = [
        format!("short_descriptionLIKE{}", marker.tag()),
        format!("correlation_id={}", marker.correlation_id()),
    ];
    let mut last_error = None;
    for (_, auth) in auths {
        if matches!(auth, Auth::None) {
            continue;
        }
        match search(client, auth, table, &queries, |row| marker.is_on(row)).await {
            Ok(rows) => return Ok(rows),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or(ClientError::Unauthorized {
        message: "no account to search with".into(),
    }))
}

/// Every record carrying some snowdoctor run's marker (what `snowdoctor cleanup` lists).
pub async fn find_any_marked(
    client: &Client,
    auth: &Auth,
    table: &str,
) -> std::result::Result<Vec<Row>, ClientError> {
    let queries = [
        "short_descriptionLIKE[snowdoctor:".to_string(),
        "correlation_idSTARTSWITHsnowdoctor-".to_string(),
    ];
    search(client, auth, table, &queries, carries_any_marker).await
}

/// Runs each query, keeps the rows `keep` accepts, deduplicated by sys_id. A table without
/// `correlation_id` answers the second query with every row; `keep` throws those away.
async fn search(
    client: &Client,
    auth: &Auth,
    table: &str,
    queries: &[String],
    keep: impl Fn(&Row) -> bool,
) -> std::result::Result<Vec<Row>, ClientError> {
    let mut rows: Vec<Row> = Vec::new();
    for query in queries {
        let q = TableQuery::new(table)
            .query(query.clone())
            .fields(LIST_FIELDS)
            .limit(1000);
        let found = client.table_list(auth, &q).await?;
        for row in found.rows {
            if keep(&row)
                && !row.sys_id().is_empty()
                && !rows.iter().any(|r| r.sys_id() == row.sys_id())
            {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}
