//! A spinner on stderr while checks run (only on a terminal); stdout stays clean for `--format json | jq`.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::model::CheckResult;
use crate::runner::Events;

/// Progress display fed by runner events.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress bar for `total` checks, hidden when stderr is not a terminal or `hidden` is set.
    pub fn new(total: usize, hidden: bool) -> Arc<Progress> {
        let bar = (!hidden && std::io::stderr().is_terminal()).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {pos}/{len} checks {wide_msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Arc::new(Progress { bar })
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Events for Progress {
    fn started(&self, id: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(id.to_string());
        }
    }

    fn finished(&self, result: &CheckResult) {
        tracing::info!(check = %result.id, status = %result.status, ms = result.duration_ms, "{}", result.summary);
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}
