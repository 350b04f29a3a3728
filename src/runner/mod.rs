//! The runner: selects checks (`--only`/`--skip`, by id or area, pulling in prerequisites), runs
//! independent checks concurrently under a bound, gives each a timeout, blocks dependants of checks that
//! did not pass, and builds the verdict with the root causes first.

pub mod facts;
pub mod gather;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::catalogue::{Catalogue, Manifest, Probe};
use crate::checks::{self, Context, Outcome};
use crate::error::{Error, Result};
use crate::model::{Area, CheckResult, Status, Verdict};
use facts::{FactKey, Facts};
use gather::Gatherer;

/// Receives progress events (the terminal spinner, logs).
pub trait Events: Send + Sync {
    fn started(&self, _id: &str) {}
    fn finished(&self, _result: &CheckResult) {}
}

/// No progress output.
pub struct Silent;
impl Events for Silent {}

/// Which checks run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every catalogue check in dependency order, with whether it runs.
    entries: Vec<(Manifest, bool)>,
}

impl Plan {
    /// Selects checks by id or area. Prerequisites of a selected check are pulled in; `--skip` wins.
    pub fn select(catalogue: &Catalogue, only: &[String], skip: &[String]) -> Result<Plan> {
        let matches = |m: &Manifest, name: &str| m.id == name || Area::parse(name) == Some(m.area);
        for name in only.iter().chain(skip) {
            if !catalogue.checks().iter().any(|m| matches(m, name)) {
                let names = catalogue
                    .checks()
                    .iter()
                    .map(|m| m.id.as_str())
                    .chain(Area::ALL.map(|a| a.as_str()));
                return Err(Error::Usage(format!(
                    "unknown check or area {name:?}{}; see `snowdoctor list` (areas: {})",
                    crate::suggest::hint(name, names),
                    Area::ALL.map(|a| a.as_str()).join(", ")
                )));
            }
        }
        let skipped = |m: &Manifest| skip.iter().any(|name| matches(m, name));
        let mut selected: HashSet<String> = catalogue
            .checks()
            .iter()
            .filter(|m| only.is_empty() || only.iter().any(|name| matches(m, name)))
            .filter(|m| !skipped(m))
            .map(|m| m.id.clone())
            .collect();
        // Pull in prerequisites (reverse dependency order reaches transitive ones in one pass).
        for manifest in catalogue.checks().iter().rev() {
            if selected.contains(&manifest.id) {
                for dep in &manifest.depends_on {
                    if let Some(dep_manifest) = catalogue.get(dep)
                        && !skipped(dep_manifest)
                    {
                        selected.insert(dep.clone());
                    }
                }
            }
        }
        Ok(Plan {
            entries: catalogue
                .checks()
                .iter()
                .map(|m| (m.clone(), selected.contains(&m.id)))
                .collect(),
        })
    }

    /// Number of checks that will run.
    pub fn selected_count(&self) -> usize {
        self.entries.iter().filter(|(_, run)| *run).count()
    }
}

/// Run-wide limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub jobs: std::num::NonZeroUsize,
    pub check_timeout: Duration,
}

/// Runs the plan and returns every check's result in catalogue order.
pub async fn run(
    plan: &Plan,
    ctx: Arc<Context>,
    gatherer: Arc<Gatherer>,
    limits: Limits,
    events: Arc<dyn Events>,
) -> Vec<CheckResult> {
    let semaphore = Arc::new(Semaphore::new(limits.jobs.get()));
    let mut results: HashMap<String, CheckResult> = HashMap::new();
    for (manifest, run) in &plan.entries {
        if !run {
            results.insert(
                manifest.id.clone(),
                result_of(manifest, Outcome::skipped("not selected"), 0, Vec::new()),
            );
        }
    }
    let mut pending: Vec<&Manifest> = plan
        .entries
        .iter()
        .filter(|(_, r)| *r)
        .map(|(m, _)| m)
        .collect();
    let mut running: JoinSet<CheckResult> = JoinSet::new();
    loop {
        // Start every check whose prerequisites have finished.
        let mut index = 0;
        while index < pending.len() {
            let manifest = pending[index];
            if !manifest.depends_on.iter().all(|d| results.contains_key(d)) {
                index += 1;
                continue;
            }
            pending.remove(index);
            let blockers: Vec<String> = manifest
                .depends_on
                .iter()
                .filter(|d| {
                    // Only a failed (or itself blocked) prerequisite blocks: after an inconclusive
                    // one the dependant still runs and decides for itself what it can tell.
                    results
                        .get(*d)
                        .is_some_and(|r| matches!(r.status, Status::Fail | Status::Blocked))
                })
                .cloned()
                .collect();
            if !blockers.is_empty() {
                let summary = format!("blocked: prerequisite {} did not pass", blockers.join(", "));
                let result = result_of(
                    manifest,
                    Outcome::new(Status::Blocked, summary),
                    0,
                    blockers,
                );
                events.finished(&result);
                results.insert(manifest.id.clone(), result);
                continue;
            }
            let manifest = manifest.clone();
            let (ctx, gatherer, semaphore, events) = (
                ctx.clone(),
                gatherer.clone(),
                semaphore.clone(),
                events.clone(),
            );
            running.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                events.started(&manifest.id);
                let started = Instant::now();
                let outcome = match tokio::time::timeout(
                    limits.check_timeout,
                    execute(&manifest, &ctx, &gatherer),
                )
                .await
                {
                    Ok(outcome) => outcome,
                    Err(_) => Outcome::inconclusive(format!(
                        "timed out after {}s (raise --check-timeout for a slow instance)",
                        limits.check_timeout.as_secs()
                    )),
                };
                let result = result_of(
                    &manifest,
                    outcome,
                    started.elapsed().as_millis() as u64,
                    Vec::new(),
                );
                events.finished(&result);
                result
            });
        }
        match running.join_next().await {
            Some(Ok(result)) => {
                results.insert(result.id.clone(), result);
            }
            Some(Err(join_error)) => {
                tracing::error!("a check task failed: {join_error}");
            }
            None => break,
        }
    }
    // A check whose task died is reported, not lost.
    for manifest in pending {
        results.entry(manifest.id.clone()).or_insert_with(|| {
            result_of(
                manifest,
                Outcome::inconclusive("not run: a prerequisite could not finish"),
                0,
                Vec::new(),
            )
        });
    }
    let mut ordered: Vec<CheckResult> = plan
        .entries
        .iter()
        .filter_map(|(m, _)| results.remove(&m.id))
        .collect();
    mark_root_causes(&mut ordered, plan);
    ordered
}

async fn execute(manifest: &Manifest, ctx: &Context, gatherer: &Gatherer) -> Outcome {
    match &manifest.probe {
        Probe::Builtin { builtin } => {
            let Some(check) = checks::builtin(builtin) else {
                return Outcome::inconclusive(format!("unknown built-in probe {builtin:?}"));
            };
            let facts = gather_all(gatherer, check.needs(ctx)).await;
            check.evaluate(ctx, &facts)
        }
        Probe::Table(probe) => {
            let facts = gather_all(gatherer, checks::declarative::needs(probe, ctx)).await;
            checks::declarative::evaluate(probe, ctx, &facts)
        }
    }
}

/// Gathers `keys` (memoised) into a fact set.
pub async fn gather_all(gatherer: &Gatherer, keys: Vec<FactKey>) -> Facts {
    let fetched = futures::future::join_all(keys.iter().map(|k| gatherer.get(k))).await;
    let mut facts = Facts::default();
    for (key, fact) in keys.into_iter().zip(fetched) {
        facts.insert(key, fact);
    }
    facts
}

fn result_of(
    manifest: &Manifest,
    outcome: Outcome,
    duration_ms: u64,
    blocked_by: Vec<String>,
) -> CheckResult {
    let needs_fix = matches!(
        outcome.status,
        Status::Fail | Status::Warn | Status::Inconclusive
    );
    let remediation = match (needs_fix, outcome.remediation) {
        (true, Some(specific)) => Some(specific),
        (true, None) => Some(manifest.remediation.trim().to_string()),
        (false, _) => None,
    };
    CheckResult {
        id: manifest.id.clone(),
        title: manifest.title.clone(),
        area: manifest.area,
        severity: manifest.severity,
        status: outcome.status,
        summary: outcome.summary,
        evidence: outcome.evidence,
        remediation,
        docs: manifest.docs.clone(),
        blocked_by,
        steps: outcome.steps,
        root_cause: false,
        duration_ms,
        manifest: manifest.manifest_path.clone(),
    }
}

/// A root cause is a failing check none of whose prerequisites failed or was blocked (they passed,
/// warned, were skipped or could not decide: a dependant runs after an inconclusive prerequisite).
fn mark_root_causes(results: &mut [CheckResult], plan: &Plan) {
    let status: HashMap<String, Status> =
        results.iter().map(|r| (r.id.clone(), r.status)).collect();
    let deps: HashMap<&str, &Vec<String>> = plan
        .entries
        .iter()
        .map(|(m, _)| (m.id.as_str(), &m.depends_on))
        .collect();
    for result in results.iter_mut() {
        if result.status == Status::Fail {
            let prerequisites_ok = deps.get(result.id.as_str()).is_none_or(|ds| {
                ds.iter().all(|d| {
                    matches!(
                        status.get(d),
                        Some(Status::Pass | Status::Warn | Status::Skipped | Status::Inconclusive)
                    )
                })
            });
            result.root_cause = prerequisites_ok;
        }
    }
}

/// The overall verdict: root causes first, most severe first.
pub fn verdict(results: &[CheckResult]) -> Verdict {
    let mut roots: Vec<&CheckResult> = results.iter().filter(|r| r.root_cause).collect();
    roots.sort_by_key(|r| std::cmp::Reverse(r.severity));
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let (status, headline) = if !roots.is_empty() {
        let first = roots[0];
        let more = match roots.len() {
            1 => String::new(),
            n => format!(
                " (and {} more root cause{})",
                n - 1,
                if n > 2 { "s" } else { "" }
            ),
        };
        (Status::Fail, format!("NOT READY: {}{more}", first.summary))
    } else if count(Status::Fail) > 0 {
        (Status::Fail, "NOT READY: checks failed".to_string())
    } else if count(Status::Inconclusive) > 0 {
        (
            Status::Inconclusive,
            format!(
                "UNDECIDED: {} check(s) could not decide",
                count(Status::Inconclusive)
            ),
        )
    } else if count(Status::Warn) > 0 {
        (
            Status::Warn,
            format!("READY WITH WARNINGS: {} warning(s)", count(Status::Warn)),
        )
    } else {
        (
            Status::Pass,
            "READY: every selected check passed".to_string(),
        )
    };
    Verdict {
        status,
        headline,
        root_causes: roots.iter().map(|r| r.id.clone()).collect(),
    }
}
