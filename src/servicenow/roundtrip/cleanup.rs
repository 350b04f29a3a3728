//! Removing round-trip records: bounded retries of transient errors, a fallback account, closing as a
//! last resort when asked, and finding records by marker. The round trip (`super::sweep`) and
//! `snowdoctor cleanup` (`src/app/cleanup.rs`) both remove records through here.
//!
//! Nothing here writes to a record the tool cannot prove is its own: the id must be a well-formed
//! `sys_id`, and the record, read by that id just before the DELETE or PATCH, must be that record and
//! carry the marker (`prove`). A list's answer is never enough: ServiceNow silently ignores invalid
//! parts of an encoded query (a table without `correlation_id`, say), so a server-side filter alone could
//! match every record, and a rewritten list could name any id. Every request of one cleanup shares a
//! time [`Budget`], so a hanging instance cannot hold the run.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use serde_json::{Map, Value};

use super::marker::{Marker, carries_any_marker};
use crate::servicenow::path::is_sys_id;
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

/// How long cleanup may take in all, whatever the instance does: a hanging DELETE or a rate limit
/// cannot hold the run (or an interrupted user) for minutes.
pub const CLEANUP_BUDGET: Duration = Duration::from_secs(30);

/// A deadline shared by every request of one cleanup.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    deadline: Instant,
    total: Duration,
}

impl Budget {
    /// A budget of `total`, starting now.
    pub fn start(total: Duration) -> Budget {
        Budget {
            deadline: Instant::now() + total,
            total,
        }
    }

    /// Runs one request, failing with a timeout when the budget runs out first.
    pub async fn run<T>(
        &self,
        request: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        tokio::time::timeout_at(self.deadline, request)
            .await
            .unwrap_or_else(|_| Err(self.spent()))
    }

    /// Sleeps `wait`, unless that would outlast the budget.
    async fn sleep(&self, wait: Duration) -> Result<(), ClientError> {
        if Instant::now() + wait >= self.deadline {
            return Err(self.spent());
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn spent(&self) -> ClientError {
        ClientError::Timeout {
            what: "cleanup (its whole budget)".into(),
            after: self.total,
        }
    }
}

/// What a removal achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    Deleted {
        by: String,
    },
    /// No account could read the record any more: it is already gone.
    Gone,
    /// Read by its id, the record does not carry the marker: it is not the tool's and was not touched.
    NotOurs {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

/// One account's try at removing a record.
enum Attempt {
    Deleted,
    Gone,
    NotOurs(String),
    Error(ClientError),
}

/// Reads the record by its id and checks it is the one asked for and that `proof` accepts it: the
/// only way a record becomes the tool's to write.
pub(super) async fn prove(
    client: &Client,
    auth: &Auth,
    table: &str,
    sys_id: &str,
    proof: &(impl Fn(&Row) -> bool + ?Sized),
    budget: &Budget,
) -> Result<Result<Row, String>, ClientError> {
    let row = budget.run(client.table_get(auth, table, sys_id)).await?;
    if row.sys_id() != sys_id {
        return Ok(Err(format!(
            "read by its id {sys_id}, the instance answered with another record ({:?}); not touched",
            row.sys_id()
        )));
    }
    if !proof(&row) {
        return Ok(Err(format!(
            "{table} {sys_id} does not carry the snowdoctor marker when read by its id; not touched"
        )));
    }
    Ok(Ok(row))
}

/// Proves the record is the tool's, deletes it and checks it is gone, as one account.
async fn attempt(
    client: &Client,
    auth: &Auth,
    table: &str,
    sys_id: &str,
    proof: &(impl Fn(&Row) -> bool + ?Sized),
    budget: &Budget,
) -> Attempt {
    match prove(client, auth, table, sys_id, proof, budget).await {
        Err(ClientError::NotFound { .. }) => return Attempt::Gone,
        Err(error) => return Attempt::Error(error),
        Ok(Err(reason)) => return Attempt::NotOurs(reason),
        Ok(Ok(_)) => {}
    }
    match budget.run(client.table_delete(auth, table, sys_id)).await {
        Ok(()) | Err(ClientError::NotFound { .. }) => {}
        Err(error) => return Attempt::Error(error),
    }
    match budget.run(client.table_get(auth, table, sys_id)).await {
        Err(ClientError::NotFound { .. }) => Attempt::Deleted,
        Ok(_) => Attempt::Error(ClientError::Status {
            status: 200,
            what: "the record is still readable after DELETE".into(),
        }),
        Err(error) => Attempt::Error(error),
    }
}

/// Deletes one record the tool can prove is its own (read by its id, `proof` accepts it) and verifies
/// it is gone, trying each account in turn, within `budget`. A record no account can read is gone.
pub async fn remove_record(
    client: &Client,
    auths: &[(&str, &Auth)],
    table: &str,
    sys_id: &str,
    proof: &(impl Fn(&Row) -> bool + ?Sized),
    budget: &Budget,
) -> Removal {
    if !is_sys_id(sys_id) {
        return Removal::NotOurs {
            reason: format!("{sys_id:?} is not a sys_id (32 hexadecimal digits): not touched"),
        };
    }
    let mut reason = String::from("no account to delete with");
    let (mut gone, mut not_ours, mut tried) = (true, None, false);
    for (who, auth) in auths {
        if matches!(auth, Auth::None) {
            continue;
        }
        tried = true;
        for attempt_no in 0..ATTEMPTS {
            let error = match attempt(client, auth, table, sys_id, proof, budget).await {
                Attempt::Deleted => {
                    return Removal::Deleted {
                        by: (*who).to_string(),
                    };
                }
                // Another account may still see it (a read ACL hides it from this one).
                Attempt::Gone => break,
                Attempt::NotOurs(why) => {
                    gone = false;
                    not_ours = Some(why);
                    break;
                }
                Attempt::Error(error) => error,
            };
            gone = false;
            reason = format!("{who}: {}", short(&error));
            let wait = match &error {
                // Out of time, or told to stop now: nothing more is tried.
                ClientError::Timeout { .. } if budget.deadline <= Instant::now() => {
                    return Removal::Failed { reason };
                }
                ClientError::Cancelled => return Removal::Failed { reason },
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
                ClientError::RateLimited { retry_after, .. } => retry_after.unwrap_or(MAX_WAIT),
                _ => Duration::from_millis(300 * u64::from(attempt_no + 1)),
            };
            if attempt_no + 1 < ATTEMPTS && budget.sleep(wait).await.is_err() {
                return Removal::Failed {
                    reason: format!("{reason}; {}", short(&budget.spent())),
                };
            }
        }
    }
    match not_ours {
        Some(reason) => Removal::NotOurs { reason },
        None if gone && tried => Removal::Gone,
        None => Removal::Failed { reason },
    }
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
        ClientError::Cancelled => "interrupted (a second signal)".into(),
        other => other.to_string(),
    }
}

/// Closes a record proven to be the tool's (incident state 7) and verifies the state was stored.
pub async fn close_record(
    client: &Client,
    auth: &Auth,
    table: &str,
    sys_id: &str,
    proof: &(impl Fn(&Row) -> bool + ?Sized),
    budget: &Budget,
) -> std::result::Result<(), ClientError> {
    if let Err(reason) = prove(client, auth, table, sys_id, proof, budget).await? {
        return Err(ClientError::Status {
            status: 200,
            what: reason,
        });
    }
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
    budget
        .run(client.table_update(auth, table, sys_id, &fields))
        .await?;
    let row = budget.run(client.table_get(auth, table, sys_id)).await?;
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
