//! The run's "now" for date rules (the service-tag file's age), with a fixed clock for tests.
//!
//! `SNOWDOCTOR_NOW` (RFC 3339, e.g. `2026-01-15T00:00:00Z`) pins the date the staleness rule compares
//! against, so a test can prove the rule on both sides of its threshold and a saved report can be
//! reproduced. Report timestamps and durations always use the real clock.

use chrono::{DateTime, Utc};

/// Environment variable that fixes the clock of the date rules.
pub const NOW_ENV: &str = "SNOWDOCTOR_NOW";

/// `SNOWDOCTOR_NOW` when set, else the system clock; an unparsable value is a usage error.
pub fn now() -> Result<DateTime<Utc>, crate::error::Error> {
    match std::env::var(NOW_ENV) {
        Ok(text) if !text.trim().is_empty() => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                crate::error::Error::Usage(format!(
                    "{NOW_ENV}={text:?} is not an RFC 3339 time such as 2026-01-15T00:00:00Z ({e})"
                ))
            }),
        _ => Ok(Utc::now()),
    }
}
