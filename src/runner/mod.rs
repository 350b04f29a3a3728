//! The runner: selects checks (`--only`/`--skip`, by id or area, pulling in prerequisites), runs
//! independent checks concurrently under a bound, gives each a timeout, blocks dependants of checks that
//! did not pass, and builds the verdict with the root causes first.

pub mod facts;
pub mod gather;
mod merge;

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
    let keys = planned_keys(plan, &ctx);
    gatherer.plan_wave(&keys);
    // Started at once rather than when a check first asks: the identity read leaves with the
    // reachability probe instead of after it (the chain of round trips is one shorter, and the probe
    // is still there to explain a failure), and the service-tag file is decompressed and parsed while
    // the configuration wave is in flight instead of after it.
    for key in [FactKey::WhoAmI, FactKey::ServiceTags] {
        if keys.contains(&key) {
            let early = gatherer.clone();
            tokio::spawn(async move {
                early.get(&key).await;
            });
        }
    }
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
                let summary = blocked_summary(&blockers, &results);
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

/// `not run: needs oauth-connect, which failed` — or, through a blocked prerequisite, the failure at
/// the bottom of the chain, so a row never just repeats that it is blocked.
fn blocked_summary(blockers: &[String], results: &HashMap<String, CheckResult>) -> String {
    let mut failed: Vec<String> = Vec::new();
    let mut stack: Vec<String> = blockers.to_vec();
    while let Some(id) = stack.pop() {
        match results.get(&id) {
            Some(r) if r.status == Status::Blocked => stack.extend(r.blocked_by.iter().cloned()),
            Some(_) if !failed.contains(&id) => failed.push(id),
            _ => {}
        }
    }
    failed.sort();
    let direct_failed = blockers.iter().all(|b| failed.contains(b));
    if direct_failed {
        format!("not run: needs {}, which failed", blockers.join(" and "))
    } else {
        format!(
            "not run: needs {}, which could not run because {} failed",
            blockers.join(" and "),
            failed.join(" and ")
        )
    }
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

/// Every fact the selected checks will ask for, as far as it is known before the run.
fn planned_keys(plan: &Plan, ctx: &Context) -> Vec<FactKey> {
    let mut keys: Vec<FactKey> = plan
        .entries
        .iter()
        .filter(|(_, run)| *run)
        .flat_map(|(manifest, _)| match &manifest.probe {
            Probe::Builtin { builtin } => checks::builtin(builtin)
                .map(|check| check.needs(ctx))
                .unwrap_or_default(),
            Probe::Table(probe) => checks::declarative::needs(probe, ctx),
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
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
    // One entry per code: two properties refused alike are one finding code with two fixes.
    let mut codes: Vec<String> = Vec::new();
    for found in outcome.codes.iter().filter(|_| needs_fix) {
        let full = found.code.full(&manifest.id);
        if !codes.contains(&full) {
            codes.push(full);
        }
    }
    let by_code: Vec<String> = outcome
        .codes
        .iter()
        .filter_map(|found| fix_text(manifest, found))
        .collect();
    // A finding's fix is chosen by its code; a code without a fix of its own (a declarative probe's
    // `rows` or `value`) falls back to the manifest's remediation.
    let remediation = match needs_fix {
        false => None,
        true if !by_code.is_empty() => Some(checks::code::join_fixes(&by_code)),
        true => Some(manifest.remediation.trim().to_string()),
    };
    CheckResult {
        id: manifest.id.clone(),
        title: manifest.title.clone(),
        area: manifest.area,
        severity: manifest.severity,
        status: outcome.status,
        summary: outcome.summary,
        evidence: outcome.evidence,
        codes,
        remediation,
        docs: manifest.docs.clone(),
        blocked_by,
        explained_by: outcome.explained_by,
        steps: outcome.steps,
        root_cause: false,
        duration_ms,
        manifest: manifest.manifest_path.clone(),
    }
}

/// The fix a finding code selects: the check manifest's `[findings.<name>]` (placeholders filled), or
/// the fix of a code every check shares.
pub fn fix_text(manifest: &Manifest, found: &checks::Found) -> Option<String> {
    if found.code.common {
        return checks::code::common_fix(&found.code).map(|fix| found.fill(fix));
    }
    manifest
        .findings
        .get(found.code.name)
        .map(|f| found.fill(&f.fix))
}

/// A root cause is a failing check none of whose prerequisites failed or was blocked (they passed,
/// warned, were skipped or could not decide: a dependant runs after an inconclusive prerequisite)
/// and that no failing check explains (see [`CheckResult::explained_by`]).
fn mark_root_causes(results: &mut [CheckResult], plan: &Plan) {
    let status: HashMap<String, Status> =
        results.iter().map(|r| (r.id.clone(), r.status)).collect();
    let failed_with: HashMap<String, Vec<String>> = results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .map(|r| (r.id.clone(), r.codes.clone()))
        .collect();
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
            let explained = is_explained(&result.explained_by, &failed_with);
            result.root_cause = prerequisites_ok && !explained;
        }
    }
}

/// Whether a failing check is explained: by a check id when that check failed, by a finding code
/// (`check/name`) only when its check failed with that very finding. `failed_with` maps each
/// failing check to its codes.
fn is_explained(explained_by: &[String], failed_with: &HashMap<String, Vec<String>>) -> bool {
    explained_by.iter().any(|by| match by.split_once('/') {
        Some((check, _)) => failed_with
            .get(check)
            .is_some_and(|codes| codes.contains(by)),
        None => failed_with.contains_key(by),
    })
}

/// The overall verdict. A gate check (connectivity, the diagnosing account) that failed or could not
/// decide leaves the instance `not_assessed`; otherwise the root causes lead, most severe first; then
/// what was not proven and what would prove it; then the warnings, by name. The headline always
/// names the check it is about.
pub fn verdict(results: &[CheckResult], plan: &Plan) -> Verdict {
    let gate = |r: &CheckResult| plan.entries.iter().any(|(m, _)| m.id == r.id && m.gate);
    if let Some(stop) = results
        .iter()
        .find(|r| gate(r) && matches!(r.status, Status::Fail | Status::Inconclusive))
    {
        let not_run = results
            .iter()
            .filter(|r| r.status == Status::Blocked)
            .count();
        return Verdict {
            status: Status::NotAssessed,
            headline: format!(
                "NOT ASSESSED: {} — {} ({not_run} other check(s) could not run)",
                stop.id, stop.summary
            ),
            root_causes: vec![stop.id.clone()],
        };
    }
    let mut roots: Vec<&CheckResult> = results.iter().filter(|r| r.root_cause).collect();
    roots.sort_by_key(|r| std::cmp::Reverse(r.severity));
    let with = |s: Status| {
        results
            .iter()
            .filter(move |r| r.status == s)
            .collect::<Vec<_>>()
    };
    let (status, headline) = if let Some(first) = roots.first() {
        (
            Status::Fail,
            format!(
                "NOT READY: {} — {}{}",
                first.id,
                first.summary,
                more(&roots, "root cause")
            ),
        )
    } else if let Some(first) = with(Status::Fail).first() {
        (
            Status::Fail,
            format!("NOT READY: {} — {}", first.id, first.summary),
        )
    } else if !with(Status::Inconclusive).is_empty() {
        (Status::Inconclusive, undecided(&with(Status::Inconclusive)))
    } else if let Some(first) = with(Status::Warn).first() {
        (
            Status::Warn,
            format!(
                "READY WITH WARNINGS: {} — {}{}",
                first.id,
                first.summary,
                more(&with(Status::Warn), "warning")
            ),
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

/// ` (and 2 more root causes: a, b)` after the first of `list`.
fn more(list: &[&CheckResult], what: &str) -> String {
    match list.len() {
        0 | 1 => String::new(),
        n => format!(
            " (and {} more {what}{}: {})",
            n - 1,
            if n > 2 { "s" } else { "" },
            list[1..]
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What was not proven and what would prove it: the first undecided check's reason and the first
/// sentence of its fix; when every undecided check lacks the same right, that right.
fn undecided(list: &[&CheckResult]) -> String {
    let first = list[0];
    let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
    let fix = |r: &CheckResult| r.remediation.clone().unwrap_or_default();
    let same_fix = list.iter().all(|r| fix(r) == fix(first));
    let how = first_sentence(&fix(first));
    match list.len() {
        1 => format!(
            "UNDECIDED: {} not proven — {}. To prove it: {how}",
            first.id,
            first.summary.trim_end_matches('.')
        ),
        n if same_fix => format!(
            "UNDECIDED: {n} checks not proven ({}). To prove them: {how}",
            ids.join(", ")
        ),
        n => format!(
            "UNDECIDED: {n} checks not proven ({}); {} — {}. To prove it: {how}",
            ids.join(", "),
            first.id,
            first.summary.trim_end_matches('.')
        ),
    }
}

fn first_sentence(text: &str) -> String {
    let text = text.trim();
    match text.find(". ").or_else(|| text.find(": ")) {
        Some(end) if text[..end].len() > 20 => format!("{}.", &text[..end]),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod explanation_tests {
    use super::*;

    #[test]
    fn a_finding_code_explains_only_when_its_check_failed_with_it() {
        let failed_with: HashMap<String, Vec<String>> = [(
            "integration-user".to_string(),
            vec!["integration-user/web-service-only".to_string()],
        )]
        .into_iter()
        .collect();
        let by = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // the user check failed, but not for a missing role
        assert!(!is_explained(
            &by(&["integration-user/missing-roles"]),
            &failed_with
        ));
        assert!(is_explained(
            &by(&[
                "integration-user/missing-roles",
                "integration-user/web-service-only"
            ]),
            &failed_with
        ));
        // a check id: any failure of that check
        assert!(is_explained(&by(&["integration-user"]), &failed_with));
        assert!(!is_explained(&by(&["connector-app"]), &failed_with));
        assert!(!is_explained(&[], &failed_with));
    }
}
