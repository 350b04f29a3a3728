//! The ticket round trip as the integration user — create, read back, update, delete (or close) — and
//! the guarantee that a record it created never stays behind.
//!
//! **How cleanup is guaranteed.** [`spawn`] runs the round trip in its own tokio task, tracked by a
//! `TaskTracker` the run waits on before it writes the report. The runner's per-check timeout drops the
//! *fact* future, not this task: dropping the future fires a cancellation token (a drop guard), and
//! the task, which checks that token and Ctrl-C at every step, stops where it is, removes what it
//! created, records the outcome and ends. Cleanup itself ignores cancellation (it is the thing that must
//! finish), retries transient errors a bounded number of times, falls back to the diagnosing account
//! when the integration user may not delete, and when all of that fails reports the record as a
//! `leftover` (table, sys_id, number) in the report's `writes`, which makes the exit code non-zero.
//! An ambiguous create (reset, timeout, 5xx: the record may exist without us knowing its sys_id) is
//! followed by a search for this run's marker, so even that record is found and removed.

pub mod cleanup;
pub mod mapping;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Auth, Client, ClientError, Row};
use crate::model::{Status, Step, WrittenRecord};
pub use cleanup::cleanup_command;
use cleanup::{Removal, close_record, find_marked, remove_record};
use mapping::{FieldMapping, Marker, Mismatch, TicketData, verify};

/// Step names, shared with the check and the tests.
pub const STEP_CREATE: &str = "create";
pub const STEP_READ: &str = "read back";
pub const STEP_UPDATE: &str = "update";
pub const STEP_DELETE: &str = "delete";
pub const STEP_CLOSE: &str = "close";
pub const STEP_GONE: &str = "verify gone";
pub const STEP_CLEANUP: &str = "cleanup";

/// The records a run wrote, shared between the round-trip task and the report.
#[derive(Debug, Clone, Default)]
pub struct WriteLog(Arc<Mutex<Vec<WrittenRecord>>>);

impl WriteLog {
    /// Remembers (or updates, by sys_id) a written record.
    pub fn record(&self, record: WrittenRecord) {
        let mut written = match self.0.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        match written.iter_mut().find(|w| w.sys_id == record.sys_id) {
            Some(existing) => *existing = record,
            None => written.push(record),
        }
    }

    /// Every record written so far.
    pub fn snapshot(&self) -> Vec<WrittenRecord> {
        match self.0.lock() {
            Ok(w) => w.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// What became of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Still on the instance; cleanup has not run yet.
    Pending,
    Deleted {
        /// Who deleted it (the integration user, or the diagnosing account as a fallback).
        by: String,
    },
    Closed,
    /// Cleanup failed; `snowdoctor cleanup` removes it later.
    Leftover {
        reason: String,
    },
}

impl Disposition {
    /// The report's `writes[].state`.
    pub fn state(&self) -> &'static str {
        match self {
            Disposition::Deleted { .. } => "deleted",
            Disposition::Closed => "closed",
            Disposition::Pending | Disposition::Leftover { .. } => "leftover",
        }
    }
}

/// A record the round trip created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedRecord {
    pub table: String,
    pub sys_id: String,
    pub number: String,
    pub disposition: Disposition,
}

impl TrackedRecord {
    fn written(&self) -> WrittenRecord {
        WrittenRecord {
            table: self.table.clone(),
            sys_id: self.sys_id.clone(),
            number: self.number.clone(),
            state: self.disposition.state().to_string(),
        }
    }
}

/// The first step that failed: HTTP status, the platform's message and the likely cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    pub step: String,
    pub http_status: Option<u16>,
    pub message: String,
    pub cause: String,
    /// `Retry-After`, seconds, on a 429.
    pub retry_after: Option<u64>,
}

/// Everything the round trip did.
#[derive(Debug, Clone, Default)]
pub struct RoundTripOutcome {
    pub table: String,
    pub marker: String,
    /// Why nothing was attempted (no token, read-only …).
    pub not_started: Option<String>,
    pub steps: Vec<Step>,
    pub records: Vec<TrackedRecord>,
    pub failure: Option<StepFailure>,
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
    /// The step during which the run was interrupted (Ctrl-C or the check's timeout).
    pub interrupted: Option<String>,
    /// A step was denied deletion and the record was closed or removed another way.
    pub delete_denied: bool,
}

impl RoundTripOutcome {
    /// Records that could not be removed.
    pub fn leftovers(&self) -> Vec<&TrackedRecord> {
        self.records
            .iter()
            .filter(|r| r.disposition.state() == "leftover")
            .collect()
    }
}

/// What the round trip needs.
#[derive(Clone, Debug)]
pub struct RoundTripInputs {
    pub client: Client,
    pub table: String,
    pub mapping: FieldMapping,
    /// The integration user's bearer token.
    pub bearer: Auth,
    /// The diagnosing account, used only to remove the run's own records when the integration user
    /// may not.
    pub fallback: Auth,
    pub close_if_delete_denied: bool,
    /// Ctrl-C (the run's token) and the check's timeout (a child fired when the fact is dropped).
    pub cancel: CancellationToken,
    pub writes: WriteLog,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Starts the round trip on its own task (see the module docs) and waits for it. If this future is
/// dropped, the task is told to stop, and still cleans up; `tracker` lets the run wait for that.
pub async fn spawn(tracker: &TaskTracker, mut inputs: RoundTripInputs) -> RoundTripOutcome {
    let stop = inputs.cancel.child_token();
    inputs.cancel = stop.clone();
    let guard = stop.drop_guard();
    let (table, marker) = (inputs.table.clone(), String::new());
    let handle = tracker.spawn(run(inputs));
    let result = handle.await;
    guard.disarm();
    result.unwrap_or_else(|e| RoundTripOutcome {
        table,
        marker,
        not_started: Some(format!("the round-trip task failed: {e}")),
        ..RoundTripOutcome::default()
    })
}

enum Interrupted {
    Yes,
}

/// Runs `fut` unless cancelled first; returns the result and the elapsed milliseconds.
async fn guarded<T>(
    cancel: &CancellationToken,
    fut: impl Future<Output = T>,
) -> (Result<T, Interrupted>, u64) {
    let started = Instant::now();
    let result = tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Interrupted::Yes),
        value = fut => Ok(value),
    };
    (result, started.elapsed().as_millis() as u64)
}

fn step(name: &str, status: Status, detail: impl Into<String>, ms: u64) -> Step {
    Step {
        name: name.to_string(),
        status,
        detail: detail.into(),
        duration_ms: ms,
    }
}

/// The whole round trip. Never returns with a created record still pending.
pub async fn run(inputs: RoundTripInputs) -> RoundTripOutcome {
    let marker = Marker::new();
    let mut out = RoundTripOutcome {
        table: inputs.table.clone(),
        marker: marker.tag(),
        ..RoundTripOutcome::default()
    };
    let data = TicketData::sample(inputs.now);
    let (fields, expected) = inputs.mapping.build(&data, &marker);
    let client = &inputs.client;
    let table = inputs.table.as_str();

    let (created, ms) = guarded(
        &inputs.cancel,
        client.table_create(&inputs.bearer, table, &fields),
    )
    .await;
    let row = match created {
        Ok(Ok(row)) => row,
        Ok(Err(error)) => {
            fail(&mut out, STEP_CREATE, &error, ms, table);
            if create_is_ambiguous(&error) {
                sweep(&inputs, &marker, &mut out).await;
            }
            return out;
        }
        Err(Interrupted::Yes) => {
            out.interrupted = Some(STEP_CREATE.into());
            out.steps
                .push(step(STEP_CREATE, Status::Skipped, "interrupted", ms));
            sweep(&inputs, &marker, &mut out).await;
            return out;
        }
    };
    if row.sys_id().is_empty() {
        out.steps.push(step(
            STEP_CREATE,
            Status::Fail,
            "the answer to the insert has no sys_id",
            ms,
        ));
        out.failure = Some(StepFailure {
            step: STEP_CREATE.into(),
            http_status: None,
            message: "the created record has no sys_id".into(),
            cause: "the instance's answer to the insert is not a Table API record".into(),
            retry_after: None,
        });
        sweep(&inputs, &marker, &mut out).await;
        return out;
    }
    let record = TrackedRecord {
        table: table.to_string(),
        sys_id: row.sys_id().to_string(),
        number: row.text("number").to_string(),
        disposition: Disposition::Pending,
    };
    // Pessimistic until proven removed: a run killed from here on reports a leftover.
    inputs.writes.record(record.written());
    out.steps.push(step(
        STEP_CREATE,
        Status::Pass,
        format!("{table} {} created ({})", record.number, record.sys_id),
        ms,
    ));
    out.records.push(record);
    let sys_id = out.records[0].sys_id.clone();
    if exercise(&inputs, &sys_id, &expected, &mut out).await {
        inputs.writes.record(out.records[0].written());
    } else {
        cleanup_record(&inputs, &mut out, 0).await;
    }
    out
}

/// Read back, update, delete (or close). Returns true when the record is gone or closed.
async fn exercise(
    inputs: &RoundTripInputs,
    sys_id: &str,
    expected: &[mapping::Expected],
    out: &mut RoundTripOutcome,
) -> bool {
    let (client, table, cancel) = (&inputs.client, inputs.table.as_str(), &inputs.cancel);
    // Read back and verify every field.
    let (read, ms) = guarded(cancel, client.table_get(&inputs.bearer, table, sys_id)).await;
    let Some(row) = settle_step(out, STEP_READ, read, ms, table) else {
        return false;
    };
    let verification = verify(&row, expected);
    let detail = if verification.mismatches.is_empty() {
        format!("{} fields read back as sent", expected.len())
    } else {
        verification
            .mismatches
            .iter()
            .map(|m| format!("{}: sent {:?}, stored {:?}", m.field, m.sent, m.stored))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let status = if verification.mismatches.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    out.steps.push(step(STEP_READ, status, detail, ms));
    out.mismatches.extend(verification.mismatches);
    out.notes.extend(verification.notes);

    // Update and verify.
    let new_short = format!("{} (updated)", row.text(first_text_column(&inputs.mapping)));
    let mut update = Map::new();
    update.insert(
        first_text_column(&inputs.mapping).to_string(),
        Value::String(new_short.clone()),
    );
    update.insert(
        "work_notes".into(),
        Value::String("snowdoctor round-trip update".into()),
    );
    let (updated, ms) = guarded(
        cancel,
        client.table_update(&inputs.bearer, table, sys_id, &update),
    )
    .await;
    let Some(updated) = settle_step(out, STEP_UPDATE, updated, ms, table) else {
        return false;
    };
    let stored = updated.text(first_text_column(&inputs.mapping)).to_string();
    if stored.trim_end() == new_short.trim_end() {
        out.steps.push(step(
            STEP_UPDATE,
            Status::Pass,
            format!(
                "{} updated and read back",
                first_text_column(&inputs.mapping)
            ),
            ms,
        ));
    } else {
        out.steps.push(step(
            STEP_UPDATE,
            Status::Fail,
            format!("sent {new_short:?}, stored {stored:?}"),
            ms,
        ));
        out.mismatches.push(Mismatch {
            field: first_text_column(&inputs.mapping).to_string(),
            sent: new_short,
            stored,
            cause: "a business rule or data policy rewrites the field on update".into(),
        });
    }

    // Delete (or close when deletion is denied and the user asked for that), then verify.
    let (deleted, ms) = guarded(cancel, client.table_delete(&inputs.bearer, table, sys_id)).await;
    match deleted {
        Ok(Ok(())) => {
            out.steps
                .push(step(STEP_DELETE, Status::Pass, "DELETE answered 204", ms));
        }
        Ok(Err(ClientError::Forbidden { message, detail })) => {
            out.delete_denied = true;
            let text = format!("403 {message}: {detail}");
            if inputs.close_if_delete_denied {
                out.steps.push(step(
                    STEP_DELETE,
                    Status::Warn,
                    format!("{text}; closing instead (--close-if-delete-denied)"),
                    ms,
                ));
                return close_step(inputs, sys_id, out).await;
            }
            out.steps.push(step(
                STEP_DELETE,
                Status::Warn,
                format!("{text}: the integration user may not delete {table} records"),
                ms,
            ));
            return false;
        }
        Ok(Err(error)) => {
            fail(out, STEP_DELETE, &error, ms, table);
            return false;
        }
        Err(Interrupted::Yes) => {
            interrupted(out, STEP_DELETE, ms);
            return false;
        }
    }
    let (gone, ms) = guarded(cancel, client.table_get(&inputs.bearer, table, sys_id)).await;
    match gone {
        Ok(Err(ClientError::NotFound { .. })) => {
            out.steps.push(step(
                STEP_GONE,
                Status::Pass,
                "GET answers 404: the record is gone",
                ms,
            ));
            set_disposition(
                out,
                Disposition::Deleted {
                    by: "the integration user".into(),
                },
            );
            true
        }
        Ok(Ok(_)) => {
            out.steps.push(step(
                STEP_GONE,
                Status::Fail,
                "the record is still readable after DELETE answered 204",
                ms,
            ));
            false
        }
        Ok(Err(error)) => {
            // The DELETE answered 204; only the confirmation failed.
            let failure = describe(STEP_GONE, &error, table);
            out.steps.push(step(
                STEP_GONE,
                Status::Warn,
                format!("could not confirm: {}", failure.cause),
                ms,
            ));
            out.notes.push(format!(
                "the deletion could not be confirmed ({}); `snowdoctor cleanup` lists any record left",
                failure.cause
            ));
            set_disposition(
                out,
                Disposition::Deleted {
                    by: "the integration user (not confirmed)".into(),
                },
            );
            true
        }
        Err(Interrupted::Yes) => {
            // Deleted already (204); the interruption only skipped the confirmation.
            interrupted(out, STEP_GONE, ms);
            set_disposition(
                out,
                Disposition::Deleted {
                    by: "the integration user (not confirmed)".into(),
                },
            );
            true
        }
    }
}

async fn close_step(inputs: &RoundTripInputs, sys_id: &str, out: &mut RoundTripOutcome) -> bool {
    let started = Instant::now();
    let closed = close_record(&inputs.client, &inputs.bearer, &inputs.table, sys_id).await;
    let ms = started.elapsed().as_millis() as u64;
    match closed {
        Ok(()) => {
            out.steps.push(step(
                STEP_CLOSE,
                Status::Pass,
                "state set to 7 (Closed) and read back",
                ms,
            ));
            set_disposition(out, Disposition::Closed);
            true
        }
        Err(error) => {
            fail(out, STEP_CLOSE, &error, ms, &inputs.table);
            false
        }
    }
}

fn first_text_column(mapping: &FieldMapping) -> &str {
    &mapping.task_name
}

fn set_disposition(out: &mut RoundTripOutcome, disposition: Disposition) {
    if let Some(record) = out.records.first_mut() {
        record.disposition = disposition;
    }
}

/// Records a step's result: the value, or a failure (or an interruption) and `None`.
fn settle_step(
    out: &mut RoundTripOutcome,
    name: &str,
    result: Result<Result<Row, ClientError>, Interrupted>,
    ms: u64,
    table: &str,
) -> Option<Row> {
    match result {
        Ok(Ok(row)) => Some(row),
        Ok(Err(error)) => {
            fail(out, name, &error, ms, table);
            None
        }
        Err(Interrupted::Yes) => {
            interrupted(out, name, ms);
            None
        }
    }
}

fn interrupted(out: &mut RoundTripOutcome, name: &str, ms: u64) {
    out.interrupted = Some(name.to_string());
    out.steps.push(step(
        name,
        Status::Skipped,
        "interrupted (Ctrl-C or the check's timeout)",
        ms,
    ));
}

fn fail(out: &mut RoundTripOutcome, name: &str, error: &ClientError, ms: u64, table: &str) {
    let failure = describe(name, error, table);
    out.steps.push(step(
        name,
        Status::Fail,
        format!(
            "{}{}: {}",
            failure
                .http_status
                .map(|s| format!("HTTP {s} "))
                .unwrap_or_default(),
            failure.message,
            failure.cause
        ),
        ms,
    ));
    if out.failure.is_none() {
        out.failure = Some(failure);
    }
}

/// True when a failed create may still have inserted the record.
fn create_is_ambiguous(error: &ClientError) -> bool {
    !matches!(
        error,
        ClientError::Unauthorized { .. }
            | ClientError::Forbidden { .. }
            | ClientError::IpBlocked
            | ClientError::InvalidTable { .. }
            | ClientError::BadRequest { .. }
            | ClientError::RateLimited { .. }
            | ClientError::InvalidUrl { .. }
            | ClientError::CrossHostRedirect { .. }
    )
}

/// The HTTP status, the platform's message and the likely cause of a failed step.
pub fn describe(step_name: &str, error: &ClientError, table: &str) -> StepFailure {
    let (http_status, message) = match error {
        ClientError::Unauthorized { message } => (Some(401), message.clone()),
        ClientError::Forbidden { message, detail } => (Some(403), format!("{message}: {detail}")),
        ClientError::IpBlocked => (Some(403), "non-JSON 403".into()),
        ClientError::NotFound { message } => (Some(404), message.clone()),
        ClientError::InvalidTable { .. } => (Some(400), format!("Invalid table {table}")),
        ClientError::BadRequest { message, detail } => (Some(400), format!("{message}: {detail}")),
        ClientError::RateLimited { message, .. } => (Some(429), message.clone()),
        ClientError::Server { status, message } => (Some(*status), message.clone()),
        ClientError::Status { status, .. } => (Some(*status), error.to_string()),
        other => (None, other.to_string()),
    };
    let retry_after = match error {
        ClientError::RateLimited { retry_after, .. } => retry_after.map(|d| d.as_secs()),
        _ => None,
    };
    let cause = match (step_name, error) {
        (STEP_CREATE, ClientError::Forbidden { .. }) => format!(
            "the integration user lacks the role to create tickets on {table} (an ACL denied the insert)"
        ),
        (STEP_UPDATE | STEP_CLOSE, ClientError::Forbidden { .. }) => format!(
            "the integration user may not update tickets on {table} (an ACL or data policy denied the update)"
        ),
        (STEP_DELETE, ClientError::Forbidden { .. }) => {
            format!("the integration user may not delete {table} records")
        }
        (STEP_READ, ClientError::NotFound { .. }) => format!(
            "the integration user cannot read the ticket it created: a read ACL or query business rule on {table} hides it"
        ),
        (_, ClientError::Forbidden { .. }) => format!("an ACL on {table} denied the request"),
        (_, ClientError::RateLimited { .. }) => format!(
            "the instance's REST rate limit for the integration user is exhausted (sys_rate_limit_rules){}",
            retry_after
                .map(|s| format!("; retry after {s} s"))
                .unwrap_or_default()
        ),
        (_, ClientError::Unauthorized { .. }) => {
            "the bearer token was not accepted (expired or revoked)".into()
        }
        (_, ClientError::InvalidTable { .. }) => {
            format!("table {table} does not exist on the instance; pass --ticket-table")
        }
        (_, ClientError::BadRequest { .. }) => {
            format!("the instance rejected the record: a mandatory field or data policy on {table}")
        }
        (_, ClientError::Server { .. }) => {
            "the instance failed while processing the request (a business rule or script error)"
                .into()
        }
        (_, ClientError::Timeout { .. }) => "no answer within the request timeout".into(),
        (_, ClientError::Connect { .. }) => "the connection failed or was reset".into(),
        (_, ClientError::Tls { .. }) => {
            "the connection was cut during the exchange (reset, or a TLS-intercepting proxy)".into()
        }
        (_, ClientError::Decode { .. }) => "the response was cut off or malformed".into(),
        (_, ClientError::Html { .. }) => {
            "an HTML page came back instead of the Table API (SSO, proxy or hibernation)".into()
        }
        (_, other) => other.to_string(),
    };
    StepFailure {
        step: step_name.to_string(),
        http_status,
        message,
        cause,
        retry_after,
    }
}

/// Removes a pending record (retrying, falling back to the diagnosing account, closing when asked).
async fn cleanup_record(inputs: &RoundTripInputs, out: &mut RoundTripOutcome, index: usize) {
    let Some(record) = out.records.get(index).cloned() else {
        return;
    };
    if record.disposition != Disposition::Pending {
        return;
    }
    let started = Instant::now();
    let auths = [
        ("the integration user", &inputs.bearer),
        ("the diagnosing account", &inputs.fallback),
    ];
    let removal = remove_record(&inputs.client, &auths, &record.table, &record.sys_id).await;
    let mut disposition = match removal {
        Removal::Deleted { by } => Disposition::Deleted { by },
        Removal::Failed { reason } => Disposition::Leftover { reason },
    };
    if matches!(disposition, Disposition::Leftover { .. }) && inputs.close_if_delete_denied {
        let closed = close_record(
            &inputs.client,
            &inputs.bearer,
            &record.table,
            &record.sys_id,
        )
        .await;
        if closed.is_ok() {
            disposition = Disposition::Closed;
        }
    }
    let ms = started.elapsed().as_millis() as u64;
    let what = format!("{} {} ({})", record.table, record.number, record.sys_id);
    let (status, detail) = match &disposition {
        Disposition::Deleted { by } => (Status::Pass, format!("{what} deleted by {by}")),
        Disposition::Closed => (
            Status::Warn,
            format!("{what} could not be deleted; closed instead"),
        ),
        Disposition::Leftover { reason } => (
            Status::Fail,
            format!("{what} is left behind: {reason}; run `snowdoctor cleanup`"),
        ),
        Disposition::Pending => (Status::Fail, format!("{what}: cleanup did not run")),
    };
    out.steps.push(step(STEP_CLEANUP, status, detail, ms));
    out.records[index].disposition = disposition;
    inputs.writes.record(out.records[index].written());
}

/// After an ambiguous or interrupted create: finds this run's records by marker and removes them.
async fn sweep(inputs: &RoundTripInputs, marker: &Marker, out: &mut RoundTripOutcome) {
    let started = Instant::now();
    let auths = [
        ("the integration user", &inputs.bearer),
        ("the diagnosing account", &inputs.fallback),
    ];
    let found = find_marked(&inputs.client, &auths, &inputs.table, marker).await;
    let rows = match found {
        Ok(rows) => rows,
        Err(error) => {
            out.steps.push(step(
                STEP_CLEANUP,
                Status::Fail,
                format!(
                    "could not search for this run's marker {}: {error}; run `snowdoctor cleanup`",
                    marker.tag()
                ),
                started.elapsed().as_millis() as u64,
            ));
            out.notes.push(format!(
                "the create may have inserted a record that could not be searched for; `snowdoctor cleanup` finds it by its marker {}",
                marker.tag()
            ));
            return;
        }
    };
    if rows.is_empty() {
        out.steps.push(step(
            STEP_CLEANUP,
            Status::Pass,
            format!("no record with this run's marker {} exists", marker.tag()),
            started.elapsed().as_millis() as u64,
        ));
        return;
    }
    for row in rows {
        out.records.push(TrackedRecord {
            table: inputs.table.clone(),
            sys_id: row.sys_id().to_string(),
            number: row.text("number").to_string(),
            disposition: Disposition::Pending,
        });
        let index = out.records.len() - 1;
        inputs.writes.record(out.records[index].written());
        cleanup_record(inputs, out, index).await;
    }
}
