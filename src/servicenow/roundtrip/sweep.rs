//! Removing what this run created when its own steps did not: the pending record, or, after an
//! ambiguous, failed or interrupted create, every record carrying this run's marker. Nothing here stops
//! at the first signal (this is the work that must finish), but all of it shares one time budget and a
//! second signal ends it.

use std::time::Instant;

use super::cleanup::{Budget, CLEANUP_BUDGET, Removal, close_record, find_marked, remove_record};
use super::marker::Marker;
use super::outcome::{Disposition, RoundTripOutcome, TrackedRecord, elapsed_ms};
use super::{RoundTripInputs, STEP_CLEANUP};
use crate::model::Status;
use crate::servicenow::{ClientError, Row};

/// Removes a pending record (retrying, falling back to the diagnosing account, closing when asked).
pub(super) async fn cleanup_record(
    inputs: &RoundTripInputs,
    out: &mut RoundTripOutcome,
    index: usize,
    marker: &Marker,
    budget: &Budget,
) {
    let Some(record) = out.records.get(index).cloned() else {
        return;
    };
    if record.disposition != Disposition::Pending {
        return;
    }
    let started = Instant::now();
    let proof = |row: &Row| marker.is_on(row);
    // Cleanup goes on after the first signal (the run's client refuses to); the second ends it.
    let client = inputs.client.for_cleanup();
    let removal = remove_record(
        &client,
        &inputs.accounts(),
        &record.table,
        &record.sys_id,
        &proof,
        budget,
    )
    .await;
    let mut disposition = match removal {
        Removal::Deleted { by } => Disposition::Deleted { by },
        Removal::Gone => Disposition::Deleted {
            by: "nobody: it was already gone when cleanup read it".into(),
        },
        Removal::NotOurs { reason } | Removal::Failed { reason } => {
            Disposition::Leftover { reason }
        }
    };
    if matches!(disposition, Disposition::Leftover { .. }) && inputs.close_if_delete_denied {
        let closed = close_record(
            &client,
            &inputs.bearer,
            &record.table,
            &record.sys_id,
            &proof,
            budget,
        )
        .await;
        if closed.is_ok() {
            disposition = Disposition::Closed;
        }
    }
    let ms = elapsed_ms(started);
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
    out.step(STEP_CLEANUP, status, detail, ms);
    let record = TrackedRecord {
        disposition,
        ..record
    };
    inputs.writes.record(record.written());
    if let Some(slot) = out.records.get_mut(index) {
        *slot = record;
    }
}

/// After an ambiguous or interrupted create: finds this run's records by marker and removes them.
pub(super) async fn sweep(inputs: &RoundTripInputs, marker: &Marker, out: &mut RoundTripOutcome) {
    let started = Instant::now();
    let budget = Budget::start(CLEANUP_BUDGET);
    let client = inputs.client.for_cleanup();
    let found = budget
        .run(find_marked(
            &client,
            &inputs.accounts(),
            &inputs.table,
            marker,
        ))
        .await;
    let rows = match found {
        Ok(rows) => rows,
        // The create was refused for the same reason: there is no table to have inserted into.
        Err(ClientError::InvalidTable { .. }) => {
            out.step(
                STEP_CLEANUP,
                Status::Pass,
                format!(
                    "table {} does not exist: nothing was inserted",
                    inputs.table
                ),
                elapsed_ms(started),
            );
            return;
        }
        Err(error) => {
            out.step(
                STEP_CLEANUP,
                Status::Fail,
                format!(
                    "could not search for this run's marker {}: {error}; run `snowdoctor cleanup`",
                    marker.tag()
                ),
                elapsed_ms(started),
            );
            out.notes.push(format!(
                "the create may have inserted a record that could not be searched for; `snowdoctor cleanup` finds it by its marker {}",
                marker.tag()
            ));
            return;
        }
    };
    if rows.is_empty() {
        out.step(
            STEP_CLEANUP,
            Status::Pass,
            format!("no record with this run's marker {} exists", marker.tag()),
            elapsed_ms(started),
        );
        return;
    }
    out.notes.push(format!(
        "{} record(s) carrying this run's marker {} found by searching for it",
        rows.len(),
        marker.tag()
    ));
    for row in rows {
        let record = TrackedRecord {
            table: inputs.table.clone(),
            sys_id: row.sys_id().to_string(),
            number: row.text("number").to_string(),
            disposition: Disposition::Pending,
        };
        inputs.writes.record(record.written());
        out.records.push(record);
        cleanup_record(inputs, out, out.records.len() - 1, marker, &budget).await;
    }
}
