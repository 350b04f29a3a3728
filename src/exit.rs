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

/// The lowest status that makes the exit code [`FINDINGS`] (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Fail,
    Warn,
    Inconclusive,
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
