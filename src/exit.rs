//! Documented exit codes (README, "Exit codes").

/// No finding at or above `--fail-on`.
pub const OK: u8 = 0;
/// At least one finding at or above `--fail-on`.
pub const FINDINGS: u8 = 1;
/// `snowdoctor why`: no known error matches the text.
pub const UNKNOWN_ERROR: u8 = 1;
/// Usage or configuration error (bad flag, unknown check id, invalid manifest).
pub const USAGE: u8 = 2;
/// The instance could not be assessed (unreachable, authentication failed, blocked).
pub const NOT_ASSESSED: u8 = 3;
/// The selection left no check to run.
pub const NO_CHECKS: u8 = 4;
/// Interrupted by SIGINT (Ctrl-C): 128 + 2, after the run's own records were removed or named.
pub const INTERRUPTED: u8 = 130;
/// Ended by SIGTERM: 128 + 15, after the same cleanup.
pub const TERMINATED: u8 = 143;
/// Ended by SIGHUP: 128 + 1, after the same cleanup.
pub const HANGUP: u8 = 129;

use crate::model::{RunReport, Status, WriteState};

/// Which statuses make a finished run exit [`FINDINGS`] (`--fail-on`). Strictest first: an undecided
/// check is not a pass, so by default ([`FailOn::Inconclusive`]) it fails the gate like a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// Failures only: the lenient opt-out.
    Fail,
    /// Failures, undecided checks and warnings.
    Warn,
    /// Failures and undecided checks (the default): a gate passes only on what was proven.
    #[default]
    Inconclusive,
    /// Never exit 1 for a finding (a record left behind still does).
    Never,
}

impl FailOn {
    /// Every level, in the order help lists them.
    pub const ALL: &'static [FailOn] = &[
        FailOn::Fail,
        FailOn::Warn,
        FailOn::Inconclusive,
        FailOn::Never,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FailOn::Fail => "fail",
            FailOn::Warn => "warn",
            FailOn::Inconclusive => "inconclusive",
            FailOn::Never => "never",
        }
    }

    /// True when a check with `status` makes the run exit [`FINDINGS`].
    pub fn counts(self, status: Status) -> bool {
        match self {
            FailOn::Never => false,
            FailOn::Fail => status == Status::Fail,
            FailOn::Inconclusive => matches!(status, Status::Fail | Status::Inconclusive),
            FailOn::Warn => matches!(status, Status::Fail | Status::Inconclusive | Status::Warn),
        }
    }
}

/// The exit policy, in one place: [`NOT_ASSESSED`] when the verdict is `not_assessed`; [`FINDINGS`]
/// when a record the run wrote was left behind (whatever `fail_on` says) or a check's status counts
/// under `fail_on`; else [`OK`]. Blocked checks never count on their own: the check that blocked them
/// does.
pub fn exit_code(report: &RunReport, fail_on: FailOn) -> u8 {
    if report.verdict.status == Status::NotAssessed {
        return NOT_ASSESSED;
    }
    if report
        .writes
        .iter()
        .any(|w| w.state == WriteState::Leftover)
    {
        return FINDINGS;
    }
    if report.checks.iter().any(|c| fail_on.counts(c.status)) {
        FINDINGS
    } else {
        OK
    }
}

/// The worst of several exit codes (a fleet run exits with its worst target's): a usage error beats
/// an instance that could not be assessed, which beats findings, which beat no checks and success.
/// A code this list does not know (a signal's) is worse than all of them.
pub fn worst(codes: impl IntoIterator<Item = u8>) -> u8 {
    let rank = |code: u8| match code {
        OK => 0,
        NO_CHECKS => 1,
        FINDINGS => 2,
        NOT_ASSESSED => 3,
        USAGE => 4,
        _ => 5,
    };
    codes
        .into_iter()
        .max_by_key(|&code| rank(code))
        .unwrap_or(OK)
}
