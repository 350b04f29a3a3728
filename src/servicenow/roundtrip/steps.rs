//! The round trip's steps as the integration user: create, read back, update, delete (or close) and
//! verify gone. Each step can be interrupted; whatever the steps leave pending goes to `super::sweep`.

use std::future::Future;
use std::time::Instant;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use super::cleanup::{Budget, CLEANUP_BUDGET, close_record};
use super::failure::{StepFailure, create_may_have_inserted, describe};
use super::mapping::FieldMapping;
use super::marker::Marker;
use super::outcome::{Disposition, RoundTripOutcome, TrackedRecord, elapsed_ms};
use super::sweep::{cleanup_record, sweep};
use super::ticket::TicketData;
use super::verify::{Expected, Mismatch, verify};
use super::{
    RoundTripInputs, STEP_CLOSE, STEP_CREATE, STEP_DELETE, STEP_GONE, STEP_READ, STEP_UPDATE,
};
use crate::model::Status;
use crate::servicenow::path::is_sys_id;
use crate::servicenow::{ClientError, Row};

/// Ctrl-C or the check's timeout fired before the step's request finished.
pub(super) struct Interrupted;

/// Runs `fut` unless cancelled first; returns the result and the elapsed milliseconds.
pub(super) async fn guarded<T>(
    cancel: &CancellationToken,
    fut: impl Future<Output = T>,
) -> (Result<T, Interrupted>, u64) {
    let started = Instant::now();
    let result = tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Interrupted),
        value = fut => Ok(value),
    };
    (result, elapsed_ms(started))
}

/// The whole round trip. Never returns with a created record still pending.
pub async fn run(inputs: RoundTripInputs) -> RoundTripOutcome {
    if inputs.import.is_some() {
        return super::import_set::run(inputs).await;
    }
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
            out.fail(STEP_CREATE, &error, ms, table);
            if create_may_have_inserted(&error) {
                sweep(&inputs, &marker, &mut out).await;
            }
            return out;
        }
        Err(Interrupted) => {
            out.interrupted = Some(STEP_CREATE.into());
            out.step(STEP_CREATE, Status::Skipped, "interrupted", ms);
            sweep(&inputs, &marker, &mut out).await;
            return out;
        }
    };
    if !is_sys_id(row.sys_id()) {
        out.step(
            STEP_CREATE,
            Status::Fail,
            format!(
                "the answer to the insert has no usable sys_id ({:?})",
                row.sys_id()
            ),
            ms,
        );
        out.failure = Some(StepFailure {
            step: STEP_CREATE.into(),
            http_status: None,
            message: "the created record has no well-formed sys_id".into(),
            cause: "the instance's answer to the insert is not a Table API record (a proxy or script rewrote it); nothing was written by the id it gave".into(),
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
    out.step(
        STEP_CREATE,
        Status::Pass,
        format!("{table} {} created ({})", record.number, record.sys_id),
        ms,
    );
    let sys_id = record.sys_id.clone();
    out.records.push(record);
    let trip = exercise(&inputs, &marker, &sys_id, &expected, &mut out).await;
    conclude(trip, &inputs, &marker, &sys_id, &mut out).await;
    out
}

/// After the steps on the run's one record: note it done, clean it up, or — when the id the create
/// answered with is someone else's record — forget that id and find ours by its marker.
pub(super) async fn conclude(
    trip: Trip,
    inputs: &RoundTripInputs,
    marker: &Marker,
    sys_id: &str,
    out: &mut RoundTripOutcome,
) {
    match trip {
        Trip::Finished => inputs.writes.record(out.records[0].written()),
        Trip::Cleanup => {
            let budget = Budget::start(CLEANUP_BUDGET);
            cleanup_record(inputs, out, 0, marker, &budget).await;
        }
        Trip::NotOurs => {
            out.records.clear();
            inputs.writes.forget(sys_id);
            sweep(inputs, marker, out).await;
        }
    }
}

/// How the integration user's own steps ended.
pub(super) enum Trip {
    /// The record is gone or closed.
    Finished,
    /// The record may still be there: cleanup removes it.
    Cleanup,
    /// Read by the id the create answered with, the record is not this run's.
    NotOurs,
}

/// Read back (which proves the record is this run's), update, delete (or close).
async fn exercise(
    inputs: &RoundTripInputs,
    marker: &Marker,
    sys_id: &str,
    expected: &[Expected],
    out: &mut RoundTripOutcome,
) -> Trip {
    let row = match read_back(inputs, marker, sys_id, expected, out).await {
        Ok(row) => row,
        Err(trip) => return trip,
    };
    if !update(inputs, sys_id, &row, out).await {
        return Trip::Cleanup;
    }
    if delete(inputs, marker, sys_id, out).await {
        Trip::Finished
    } else {
        Trip::Cleanup
    }
}

/// Reads the record back, proves it is this run's (that id, carrying the marker) and verifies every
/// field. Fails with [`Trip::Cleanup`] when the read itself failed, [`Trip::NotOurs`] when the record
/// is not this run's.
pub(super) async fn read_back(
    inputs: &RoundTripInputs,
    marker: &Marker,
    sys_id: &str,
    expected: &[Expected],
    out: &mut RoundTripOutcome,
) -> Result<Row, Trip> {
    let table = inputs.table.as_str();
    let (read, ms) = guarded(
        &inputs.cancel,
        inputs.client.table_get(&inputs.bearer, table, sys_id),
    )
    .await;
    let row = settle(out, STEP_READ, read, ms, table).ok_or(Trip::Cleanup)?;
    if row.sys_id() != sys_id || !marker.is_on(&row) {
        out.step(
            STEP_READ,
            Status::Fail,
            format!(
                "{table} {sys_id}, named by the answer to the create, does not carry this run's marker {}: it is not this run's ticket and nothing is written to it",
                marker.tag()
            ),
            ms,
        );
        out.failure.get_or_insert(StepFailure {
            step: STEP_READ.into(),
            http_status: None,
            message: format!(
                "the create answered with sys_id {sys_id}, a record this run did not create"
            ),
            cause: "the answer to the insert names another record (a business rule, proxy or script rewrote it); the ticket is searched for by its marker instead".into(),
            retry_after: None,
        });
        return Err(Trip::NotOurs);
    }
    let verification = verify(&row, expected);
    let (status, detail) = if verification.mismatches.is_empty() {
        (
            Status::Pass,
            format!("{} fields read back as sent", expected.len()),
        )
    } else {
        let list = verification
            .mismatches
            .iter()
            .map(|m| format!("{}: sent {:?}, stored {:?}", m.field, m.sent, m.stored))
            .collect::<Vec<_>>()
            .join("; ");
        (Status::Fail, list)
    };
    out.step(STEP_READ, status, detail, ms);
    out.mismatches.extend(verification.mismatches);
    out.notes.extend(verification.notes);
    Ok(row)
}

/// Updates the first text column and verifies it; false when the request failed (a rewritten value
/// is a mismatch, not a failure: the trip goes on to delete).
async fn update(
    inputs: &RoundTripInputs,
    sys_id: &str,
    row: &Row,
    out: &mut RoundTripOutcome,
) -> bool {
    let table = inputs.table.as_str();
    let column = first_text_column(&inputs.mapping);
    let new_short = format!("{} (updated)", row.text(column));
    let mut update = Map::new();
    update.insert(column.to_string(), Value::String(new_short.clone()));
    update.insert(
        "work_notes".into(),
        Value::String("snowdoctor round-trip update".into()),
    );
    let (updated, ms) = guarded(
        &inputs.cancel,
        inputs
            .client
            .table_update(&inputs.bearer, table, sys_id, &update),
    )
    .await;
    let Some(updated) = settle(out, STEP_UPDATE, updated, ms, table) else {
        return false;
    };
    let stored = updated.text(column).to_string();
    if stored.trim_end() == new_short.trim_end() {
        out.step(
            STEP_UPDATE,
            Status::Pass,
            format!("{column} updated and read back"),
            ms,
        );
    } else {
        out.step(
            STEP_UPDATE,
            Status::Fail,
            format!("sent {new_short:?}, stored {stored:?}"),
            ms,
        );
        out.mismatches.push(Mismatch {
            field: column.to_string(),
            sent: new_short,
            stored,
            cause: "a business rule or data policy rewrites the field on update".into(),
        });
    }
    true
}

/// Deletes (or closes, when deletion is denied and the user asked for that), then verifies the record
/// is gone. Returns true when it is gone or closed.
pub(super) async fn delete(
    inputs: &RoundTripInputs,
    marker: &Marker,
    sys_id: &str,
    out: &mut RoundTripOutcome,
) -> bool {
    let (client, table, cancel) = (&inputs.client, inputs.table.as_str(), &inputs.cancel);
    let (deleted, ms) = guarded(cancel, client.table_delete(&inputs.bearer, table, sys_id)).await;
    match deleted {
        Ok(Ok(())) => out.step(STEP_DELETE, Status::Pass, "DELETE answered 204", ms),
        Ok(Err(ClientError::Forbidden { message, detail })) => {
            out.delete_denied = true;
            let text = format!("403 {message}: {detail}");
            if inputs.close_if_delete_denied {
                out.step(
                    STEP_DELETE,
                    Status::Warn,
                    format!("{text}; closing instead (--close-if-delete-denied)"),
                    ms,
                );
                return close(inputs, marker, sys_id, out).await;
            }
            out.step(
                STEP_DELETE,
                Status::Warn,
                format!("{text}: the integration user may not delete {table} records"),
                ms,
            );
            return false;
        }
        Ok(Err(error)) => {
            out.fail(STEP_DELETE, &error, ms, table);
            return false;
        }
        Err(Interrupted) => {
            out.interrupt(STEP_DELETE, ms);
            return false;
        }
    }
    let unconfirmed = || Disposition::Deleted {
        by: "the integration user (not confirmed)".into(),
    };
    let (gone, ms) = guarded(cancel, client.table_get(&inputs.bearer, table, sys_id)).await;
    match gone {
        Ok(Err(ClientError::NotFound { .. })) => {
            out.step(
                STEP_GONE,
                Status::Pass,
                "GET answers 404: the record is gone",
                ms,
            );
            out.set_disposition(Disposition::Deleted {
                by: "the integration user".into(),
            });
            true
        }
        Ok(Ok(_)) => {
            out.step(
                STEP_GONE,
                Status::Fail,
                "the record is still readable after DELETE answered 204",
                ms,
            );
            false
        }
        Ok(Err(error)) => {
            // The DELETE answered 204; only the confirmation failed.
            let failure = describe(STEP_GONE, &error, table);
            out.step(
                STEP_GONE,
                Status::Warn,
                format!("could not confirm: {}", failure.cause),
                ms,
            );
            out.notes.push(format!(
                "the deletion could not be confirmed ({}); `snowdoctor cleanup` lists any record left",
                failure.cause
            ));
            out.set_disposition(unconfirmed());
            true
        }
        Err(Interrupted) => {
            // Deleted already (204); the interruption only skipped the confirmation.
            out.interrupt(STEP_GONE, ms);
            out.set_disposition(unconfirmed());
            true
        }
    }
}

/// Closes the record instead of deleting it (`--close-if-delete-denied`).
async fn close(
    inputs: &RoundTripInputs,
    marker: &Marker,
    sys_id: &str,
    out: &mut RoundTripOutcome,
) -> bool {
    let started = Instant::now();
    let closed = close_record(
        &inputs.client,
        &inputs.bearer,
        &inputs.table,
        sys_id,
        &|row: &Row| marker.is_on(row),
        &Budget::start(CLEANUP_BUDGET),
    )
    .await;
    let ms = elapsed_ms(started);
    match closed {
        Ok(()) => {
            out.step(
                STEP_CLOSE,
                Status::Pass,
                "state set to 7 (Closed) and read back",
                ms,
            );
            out.set_disposition(Disposition::Closed);
            true
        }
        Err(error) => {
            out.fail(STEP_CLOSE, &error, ms, &inputs.table);
            false
        }
    }
}

/// The text column the update step rewrites.
fn first_text_column(mapping: &FieldMapping) -> &str {
    &mapping.task_name
}

/// A step's row, or `None` with the failure (or the interruption) recorded.
fn settle(
    out: &mut RoundTripOutcome,
    name: &str,
    result: Result<Result<Row, ClientError>, Interrupted>,
    ms: u64,
    table: &str,
) -> Option<Row> {
    match result {
        Ok(Ok(row)) => Some(row),
        Ok(Err(error)) => {
            out.fail(name, &error, ms, table);
            None
        }
        Err(Interrupted) => {
            out.interrupt(name, ms);
            None
        }
    }
}
