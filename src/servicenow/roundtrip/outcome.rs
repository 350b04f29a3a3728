//! What a round trip did: its steps, the records it created and what became of them, the first
//! failure — and the run-wide log of written records the report reads even if the run is cut short.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::failure::{StepFailure, describe};
use super::verify::Mismatch;
use crate::model::{Status, Step, WriteState, WrittenRecord};
use crate::servicenow::ClientError;

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

    /// Forgets a record: the instance named it, but it is not the run's.
    pub fn forget(&self, sys_id: &str) {
        let mut written = match self.0.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        written.retain(|w| w.sys_id != sys_id);
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
    /// The report's `writes[].state`: a record not yet removed counts as left behind.
    pub fn state(&self) -> WriteState {
        match self {
            Disposition::Deleted { .. } => WriteState::Deleted,
            Disposition::Closed => WriteState::Closed,
            Disposition::Pending | Disposition::Leftover { .. } => WriteState::Leftover,
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
    /// The report's view of this record.
    pub(super) fn written(&self) -> WrittenRecord {
        WrittenRecord {
            table: self.table.clone(),
            sys_id: self.sys_id.clone(),
            number: self.number.clone(),
            state: self.disposition.state(),
        }
    }
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
    /// The import set the row went through, when the write path is an import set.
    pub import: Option<ImportRecord>,
}

/// What an import-set round trip left in the import set, and what its transform said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportRecord {
    pub staging_table: String,
    /// The import set's number (or sys_id) as the API answered; empty when it did not say.
    pub import_set: String,
    /// The transform map that ran (else the one the profile names).
    pub transform_map: String,
    /// The transform result's status (`inserted`, `error` …); empty when no result came back.
    pub status: String,
    /// Its `error_message` or `status_message`.
    pub message: String,
    /// Why the transform did not write the target record (the check picks the fix by it).
    pub problem: Option<TransformProblem>,
}

/// What went wrong in an import set's transform; `map` is the transform map as shown (quoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransformProblem {
    /// No active transform map transforms the staging table into the target.
    NoMap { map: String, target: String },
    /// The map inserted into another table than the integration's.
    OtherTable {
        map: String,
        table: String,
        target: String,
    },
    /// The result reported an insert without a usable sys_id.
    NoSysId { map: String },
    /// A coalesce field matched a record that existed before the run, which was updated.
    Coalesced {
        map: String,
        target: String,
        record: String,
    },
    /// A script ignored or skipped the row.
    Ignored { map: String },
    /// The transform failed on the instance.
    Failed { map: String },
}

impl ImportRecord {
    /// What the platform keeps after the run, for the evidence.
    pub fn kept(&self) -> String {
        let set = if self.import_set.is_empty() {
            "its import set".to_string()
        } else {
            format!("import set {}", self.import_set)
        };
        format!(
            "the staging row stays in {} ({set}): snowdoctor removes only the target record it created; the platform's scheduled import-set cleanup (the \"Import Set Deleter\" job) deletes old import sets and their rows",
            self.staging_table
        )
    }
}

impl RoundTripOutcome {
    /// Records that could not be removed.
    pub fn leftovers(&self) -> Vec<&TrackedRecord> {
        self.records
            .iter()
            .filter(|r| r.disposition.state() == WriteState::Leftover)
            .collect()
    }

    /// Appends a step.
    pub(super) fn step(&mut self, name: &str, status: Status, detail: impl Into<String>, ms: u64) {
        self.steps.push(Step {
            name: name.to_string(),
            status,
            detail: detail.into(),
            duration_ms: ms,
        });
    }

    /// Records a failed step; the first failure is the one the verdict names.
    pub(super) fn fail(&mut self, name: &str, error: &ClientError, ms: u64, table: &str) {
        let failure = describe(name, error, table);
        self.step(
            name,
            Status::Fail,
            format!(
                "{}{}: {}",
                failure.status_prefix(),
                failure.message,
                failure.cause
            ),
            ms,
        );
        if self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    /// Records the step during which Ctrl-C or the check's timeout stopped the run.
    pub(super) fn interrupt(&mut self, name: &str, ms: u64) {
        self.interrupted = Some(name.to_string());
        self.step(
            name,
            Status::Skipped,
            "interrupted (Ctrl-C or the check's timeout)",
            ms,
        );
    }

    /// Sets what became of the created record (the round trip's steps only ever touch the first).
    pub(super) fn set_disposition(&mut self, disposition: Disposition) {
        if let Some(record) = self.records.first_mut() {
            record.disposition = disposition;
        }
    }
}

/// Milliseconds since `started`, for a step's duration.
pub(super) fn elapsed_ms(started: Instant) -> u64 {
    started.elapsed().as_millis() as u64
}
