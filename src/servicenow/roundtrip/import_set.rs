//! The round trip through an import set, as the integrations that write that way do (Azure Monitor
//! ITSMC into `x_mioms_microsoft_oms_incident`, Azure Pipelines into
//! `x_mioms_azpipeline_change_request_import`): insert one marked row into the staging table, read the
//! transform result, read the target record back by the sys_id it names (proving it carries this run's
//! marker), verify the fields, and delete it with the same machinery as a Table API ticket.
//!
//! What is never touched: the staging row (it belongs to the platform's import set, which its scheduled
//! cleanup removes), and a target record the transform *updated* instead of inserting (a coalesce matched
//! a record that existed before the run: it is reported, not deleted, and no marker sweep runs, since
//! that record now carries the marker too).

use super::failure::{StepFailure, create_may_have_inserted};
use super::marker::Marker;
use super::outcome::{
    Disposition, ImportRecord, RoundTripOutcome, TrackedRecord, TransformProblem,
};
use super::steps::{Interrupted, Trip, conclude, delete, guarded, read_back};
use super::sweep::sweep;
use super::ticket::TicketData;
use super::{RoundTripInputs, STEP_IMPORT, STEP_TRANSFORM};
use crate::model::Status;
use crate::servicenow::import_set::{TransformResult, TransformStatus};
use crate::servicenow::path::{check_table_name, is_sys_id};

/// The whole import-set round trip. Never returns with a created target record still pending.
pub(super) async fn run(inputs: RoundTripInputs) -> RoundTripOutcome {
    let marker = Marker::new();
    let mut out = RoundTripOutcome {
        table: inputs.table.clone(),
        marker: marker.tag(),
        ..RoundTripOutcome::default()
    };
    let Some(path) = inputs.import.clone() else {
        out.not_started = Some("no import set to write through".into());
        return out;
    };
    let mut record = ImportRecord {
        staging_table: path.staging_table.clone(),
        transform_map: path.transform_map.clone(),
        ..ImportRecord::default()
    };
    let data = TicketData::sample(inputs.now);
    let (fields, expected) = inputs.mapping.build(&data, &marker);
    let staging = path.staging_table.as_str();

    let (answer, ms) = guarded(
        &inputs.cancel,
        inputs
            .client
            .import_insert(&inputs.bearer, staging, &fields),
    )
    .await;
    let answer = match answer {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => {
            out.fail(STEP_IMPORT, &error, ms, staging);
            // the transform may have created the target before the answer was lost
            if create_may_have_inserted(&error) {
                sweep(&inputs, &marker, &mut out).await;
            }
            out.import = Some(record);
            return out;
        }
        Err(Interrupted) => {
            out.interrupted = Some(STEP_IMPORT.into());
            out.step(STEP_IMPORT, Status::Skipped, "interrupted", ms);
            sweep(&inputs, &marker, &mut out).await;
            out.import = Some(record);
            return out;
        }
    };
    record.import_set.clone_from(&answer.import_set);
    out.step(
        STEP_IMPORT,
        Status::Pass,
        format!(
            "row inserted into {staging} ({})",
            if answer.import_set.is_empty() {
                "the answer names no import set".to_string()
            } else {
                format!("import set {}", answer.import_set)
            }
        ),
        ms,
    );
    // the transform writing the profile's target table, else the first one that ran
    let result = answer
        .results
        .iter()
        .find(|r| r.table == inputs.table)
        .or(answer.results.first())
        .cloned();
    let Some(result) = result else {
        let why = format!(
            "the Import Set API answered without a transform result: no transform map ran on {staging}"
        );
        record.problem = Some(TransformProblem::NoMap {
            map: display_map(&record),
            target: inputs.table.clone(),
        });
        transform_failed(
            &mut out,
            &why,
            "no transform map transforms the staging table",
        );
        sweep(&inputs, &marker, &mut out).await;
        return finish(out, record);
    };
    if !result.transform_map.is_empty() {
        record.transform_map.clone_from(&result.transform_map);
    }
    record.status = result.status.as_str().to_string();
    record.message.clone_from(&result.message);
    let sys_id = match judge_result(&inputs, &result, &mut record, &mut out) {
        Judged::Created(sys_id) => sys_id,
        Judged::Failed => {
            sweep(&inputs, &marker, &mut out).await;
            return finish(out, record);
        }
        Judged::OtherTable(table) => {
            // a record the transform created elsewhere is removed there, proven ours by the marker
            let elsewhere = RoundTripInputs {
                table,
                ..inputs.clone()
            };
            sweep(&elsewhere, &marker, &mut out).await;
            return finish(out, record);
        }
        Judged::NotRemovable => return finish(out, record),
    };
    let tracked = TrackedRecord {
        table: inputs.table.clone(),
        sys_id: sys_id.clone(),
        number: result.display_value.clone(),
        disposition: Disposition::Pending,
    };
    // Pessimistic until proven removed: a run killed from here on reports a leftover.
    inputs.writes.record(tracked.written());
    out.records.push(tracked);
    let trip = match read_back(&inputs, &marker, &sys_id, &expected, &mut out).await {
        Ok(row) => {
            if let Some(first) = out.records.first_mut()
                && first.number.is_empty()
            {
                first.number = row.text("number").to_string();
            }
            if delete(&inputs, &marker, &sys_id, &mut out).await {
                Trip::Finished
            } else {
                Trip::Cleanup
            }
        }
        Err(trip) => trip,
    };
    conclude(trip, &inputs, &marker, &sys_id, &mut out).await;
    finish(out, record)
}

/// What the transform result allows next.
enum Judged {
    /// The target record was inserted: its (still unproven) sys_id.
    Created(String),
    /// Nothing usable was created; a marker sweep of the target table makes sure.
    Failed,
    /// The transform inserted into another table than the profile's target.
    OtherTable(String),
    /// The transform wrote a record the run must not remove (it updated an existing one).
    NotRemovable,
}

fn judge_result(
    inputs: &RoundTripInputs,
    result: &TransformResult,
    record: &mut ImportRecord,
    out: &mut RoundTripOutcome,
) -> Judged {
    let map = display_map(record);
    let target = inputs.table.as_str();
    match &result.status {
        TransformStatus::Inserted if result.table != target && !result.table.is_empty() => {
            record.problem = Some(TransformProblem::OtherTable {
                map: map.clone(),
                table: result.table.clone(),
                target: target.to_string(),
            });
            transform_failed(
                out,
                &format!("{map} inserted into {}, not {target}", result.table),
                "the transform map's target table is not the integration's",
            );
            match check_table_name(&result.table) {
                Ok(()) => Judged::OtherTable(result.table.clone()),
                Err(_) => Judged::Failed,
            }
        }
        TransformStatus::Inserted if !is_sys_id(&result.sys_id) => {
            record.problem = Some(TransformProblem::NoSysId { map: map.clone() });
            transform_failed(
                out,
                &format!(
                    "{map} reports an insert but names no usable sys_id ({:?})",
                    result.sys_id
                ),
                "the transform result is not the Import Set API's shape",
            );
            Judged::Failed
        }
        TransformStatus::Inserted => {
            out.step(
                STEP_TRANSFORM,
                Status::Pass,
                format!(
                    "{map} inserted {target} {} ({})",
                    if result.display_value.is_empty() {
                        "(no display value)"
                    } else {
                        &result.display_value
                    },
                    result.sys_id
                ),
                0,
            );
            Judged::Created(result.sys_id.clone())
        }
        TransformStatus::Updated => {
            record.problem = Some(TransformProblem::Coalesced {
                map: map.clone(),
                target: target.to_string(),
                record: format!("{} {}", result.display_value, result.sys_id),
            });
            transform_failed(
                out,
                &format!(
                    "{map} updated an existing {target} record {} ({}) instead of inserting one",
                    result.display_value, result.sys_id
                ),
                "a coalesce field of the transform map matched a record that existed before the run",
            );
            Judged::NotRemovable
        }
        status => {
            let said = if result.message.is_empty() {
                "no message".to_string()
            } else {
                format!("{:?}", result.message)
            };
            record.problem = Some(transform_problem(status, &result.message, target, record));
            transform_failed(
                out,
                &format!(
                    "{map} answered status {} ({said}): no {target} record was written",
                    status.as_str()
                ),
                &transform_cause(status, &result.message),
            );
            Judged::Failed
        }
    }
}

/// Records the failed transform step and the verdict's failure.
fn transform_failed(out: &mut RoundTripOutcome, message: &str, cause: &str) {
    out.step(STEP_TRANSFORM, Status::Fail, message, 0);
    out.failure.get_or_insert(StepFailure {
        step: STEP_TRANSFORM.into(),
        http_status: None,
        message: message.to_string(),
        cause: cause.to_string(),
        retry_after: None,
    });
}

/// Why a transform did not write the target, from its status and message.
fn transform_cause(status: &TransformStatus, message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("no transform map") {
        "no active transform map transforms the staging table".into()
    } else if lower.contains("target record not found")
        || lower.contains("invalid table")
        || lower.contains("invalid staging table")
    {
        "a transform script or an edit to the app's transform map rejected the row (Microsoft: custom scripts or edits to the app)".into()
    } else {
        match status {
            TransformStatus::Ignored => "a transform script ignored the row (ignore = true)".into(),
            TransformStatus::Skipped => {
                "the transform skipped the row (nothing to insert or update)".into()
            }
            _ => "the transform failed on the instance".into(),
        }
    }
}

/// Why a transform did not write the target, for the fix.
fn transform_problem(
    status: &TransformStatus,
    message: &str,
    target: &str,
    record: &ImportRecord,
) -> TransformProblem {
    let map = display_map(record);
    if message.to_ascii_lowercase().contains("no transform map") {
        return TransformProblem::NoMap {
            map,
            target: target.to_string(),
        };
    }
    match status {
        TransformStatus::Ignored | TransformStatus::Skipped => TransformProblem::Ignored { map },
        _ => TransformProblem::Failed { map },
    }
}

fn display_map(record: &ImportRecord) -> String {
    if record.transform_map.is_empty() {
        "(unnamed transform map)".to_string()
    } else {
        format!("{:?}", record.transform_map)
    }
}

/// Attaches the import record and what the platform keeps.
fn finish(mut out: RoundTripOutcome, record: ImportRecord) -> RoundTripOutcome {
    out.import = Some(record);
    out
}
