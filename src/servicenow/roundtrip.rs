//! The ticket round trip as the integration user — create, read back, update, delete (or close) — and
//! the guarantee that a record it created never stays behind.
//!
//! **How cleanup is guaranteed.** [`spawn`] runs the round trip in its own tokio task, tracked by a
//! `TaskTracker` the run waits on before it writes the report. The runner's per-check timeout drops the
//! *fact* future, not this task: dropping the future fires a cancellation token (a drop guard), and
//! the task, which checks that token and the run's signal token at every step, stops where it is,
//! removes what it created, records the outcome and ends. Cleanup goes on after the first signal (through
//! [`Client::for_cleanup`]; the run's own client refuses every request once signalled), retries transient
//! errors within one time budget ([`cleanup::CLEANUP_BUDGET`]), falls back to the diagnosing account when
//! the integration user may not delete, stops at a second signal, and when all of that fails reports the
//! record as a `leftover` (table, sys_id, number) in the report's `writes`, which makes the exit code
//! non-zero. A failed create (any error once the request may have been sent: the record may exist
//! without us knowing its sys_id) is followed by a search for this run's marker, so even that record is
//! found and removed.
//!
//! **Import sets.** A profile whose write path is an import set (ITSMC, Azure Pipelines) inserts into the
//! staging table instead (`import_set`): the transform map creates the target record, which is read
//! back, proven the run's own and removed like a Table API ticket; the staging row stays with the
//! platform's import set, and the report says so.
//!
//! **Whose record.** The id the create answers with is not trusted: it must be a well-formed sys_id, and
//! the record read back by that id must carry this run's marker before anything is written to it; if
//! not, the run forgets that id and searches for its marker. Every DELETE or PATCH of cleanup is preceded
//! by the same read-back proof (`cleanup::prove`).

pub mod cleanup;
pub mod failure;
mod import_set;
pub mod mapping;
pub mod marker;
pub mod outcome;
pub mod priority;
pub mod steps;
mod sweep;
pub mod ticket;
pub mod verify;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Auth, Client};
use mapping::FieldMapping;

pub use failure::{StepFailure, describe};
pub use outcome::{
    Disposition, ImportRecord, RoundTripOutcome, TrackedRecord, TransformProblem, WriteLog,
};
pub use steps::run;

/// Step names, shared with the check and the tests.
pub const STEP_CREATE: &str = "create";
pub const STEP_READ: &str = "read back";
pub const STEP_UPDATE: &str = "update";
pub const STEP_DELETE: &str = "delete";
pub const STEP_CLOSE: &str = "close";
pub const STEP_GONE: &str = "verify gone";
pub const STEP_CLEANUP: &str = "cleanup";
/// The import-set write path's steps: the insert into the staging table, and its transform result.
pub const STEP_IMPORT: &str = "import";
pub const STEP_TRANSFORM: &str = "transform";

/// The import set a profile writes through (`write.kind = "import_set"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPath {
    pub staging_table: String,
    /// The transform map the profile expects, for messages (empty: not named).
    pub transform_map: String,
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
    /// Write through this import set instead of the Table API (the target is [`Self::table`]).
    pub import: Option<ImportPath>,
}

impl RoundTripInputs {
    /// The accounts that may remove this run's records, in the order they are tried.
    fn accounts(&self) -> [(&'static str, &Auth); 2] {
        [
            ("the integration user", &self.bearer),
            ("the diagnosing account", &self.fallback),
        ]
    }
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
