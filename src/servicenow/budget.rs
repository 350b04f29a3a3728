//! The run's response budget: the total number of body bytes every response of a run may add up to.
//! Each body is capped on its own (see `client.rs`), but a hostile or broken instance could send the
//! cap again and again; everything received is held in memory and written to the HAR and the bundle,
//! so the total is what bounds memory and disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::ClientError;

/// Default total: far above any real diagnosis (a few MB), far below what hurts a CI runner.
const DEFAULT_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// Test knob: the budget in bytes (undocumented on purpose; tests keep hostile bodies small with it).
const BUDGET_ENV: &str = "SNOWDOCTOR_RESPONSE_BUDGET_BYTES";

/// A shared counter of response bytes against a limit.
#[derive(Debug, Clone)]
pub struct ResponseBudget {
    limit: u64,
    used: Arc<AtomicU64>,
}

impl ResponseBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        ResponseBudget {
            limit,
            used: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The default budget, or the test knob's value when it is set and a number.
    pub fn from_env() -> Self {
        let limit = std::env::var(BUDGET_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_BUDGET_BYTES);
        ResponseBudget::new(limit)
    }

    /// Fails once the budget is spent, so no further request is sent.
    pub fn check(&self) -> Result<(), ClientError> {
        if self.used.load(Ordering::Relaxed) > self.limit {
            return Err(self.exceeded());
        }
        Ok(())
    }

    /// Counts `bytes` received; fails when the total passes the limit.
    pub fn spend(&self, bytes: usize) -> Result<(), ClientError> {
        let total = self.used.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
        if total > self.limit {
            return Err(self.exceeded());
        }
        Ok(())
    }

    fn exceeded(&self) -> ClientError {
        ClientError::BudgetExceeded {
            limit_mb: self.limit.div_ceil(1024 * 1024),
        }
    }
}
