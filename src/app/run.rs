//! `snowdoctor run`: diagnoses an instance (configuration checks, the OAuth connect, the ticket round
//! trip) and writes every requested output. [`execute`] is the one path every diagnosis takes: `demo`
//! reuses [`diagnose`] against its embedded emulator, and `run --targets` (`fleet.rs`) calls [`execute`]
//! once per target.

use std::sync::Arc;

use super::signals::Signals;

use crate::catalogue::Catalogue;
use crate::checks::Context;
use crate::cli::{OutputArgs, RunArgs};
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::exit::{self, FailOn};
use crate::model::{RunReport, Status, ToolInfo, Verdict, WriteState, WrittenRecord};
use crate::report::deliver::Deliverable;
use crate::report::targets::{OutputRequest, OutputTargets};
use crate::runner::gather::Gatherer;
use crate::runner::{self, Events, Limits, Plan};
use crate::servicenow::Client;
use crate::servicenow::roundtrip::cleanup::CLEANUP_BUDGET;
use crate::servicenow::transcript::Exchange;

/// Runs `snowdoctor run`.
pub async fn run(args: RunArgs) -> Result<u8> {
    if let Some(path) = &args.fleet.targets {
        return super::fleet::run(path, &args).await;
    }
    let config = crate::config::run_config(
        &args.connection.input(),
        &args.integration.input(),
        args.selection.selection(),
    )?;
    diagnose(config, &args.output, Vec::new()).await
}

/// What every diagnosis of a command shares: the checks and how findings map to the exit code.
pub struct Shared {
    pub catalogue: Catalogue,
    pub plan: Plan,
    pub fail_on: FailOn,
}

/// A finished diagnosis, nothing printed yet.
pub struct Diagnosis {
    pub report: RunReport,
    /// Every HTTP exchange, redacted.
    pub transcript: Vec<Exchange>,
    /// What `snowdoctor run` exits with for this report.
    pub exit_code: u8,
    /// With `--export-allow-rules`: the minimal Allow rules as CSV, not yet written.
    pub allow_rules: Option<String>,
}

/// Runs a diagnosis and writes every requested output. `notes` are prepended to the report's notes.
pub async fn diagnose(config: RunConfig, output: &OutputArgs, notes: Vec<String>) -> Result<u8> {
    let log = super::logging::init(output.verbose, config.secrets.clone(), true);
    let catalogue = Catalogue::load(config.selection.checks_dir.as_deref())?;
    let plan = Plan::select(&catalogue, &config.selection.only, &config.selection.skip)?;
    if plan.selected_count() == 0 {
        eprintln!("error: the selection (--only/--skip) leaves no check to run");
        return Ok(exit::NO_CHECKS);
    }
    // Every output path is checked before the first request: a run that cannot write its report
    // fails now, not after the diagnosis and the ticket round trip.
    let targets = OutputTargets::validate(OutputRequest {
        reports: &output.reports,
        bundle: output.bundle.as_deref(),
        pseudonymize: output.pseudonymize,
        allow_rules: config.settings.export_allow_rules.as_deref(),
        force: output.force,
    })?;
    let signals = install_signals()?;
    let progress = super::progress::Progress::new(
        plan.selected_count(),
        output.no_progress || output.quiet || output.verbose > 0,
    );
    let shared = Shared {
        catalogue,
        plan,
        fail_on: output.fail_on,
    };
    let diagnosis = execute(&config, &shared, notes, &signals, progress.clone(), "").await;
    progress.finish();
    let diagnosis = diagnosis?;
    let input = crate::report::RenderInput {
        report: &diagnosis.report,
        transcript: &diagnosis.transcript,
        color: super::term::stdout_color(output.color),
        width: super::term::stdout_width(),
    };
    let stdout_text = if output.quiet {
        crate::report::verdict_line(&diagnosis.report, input.color)
    } else {
        crate::report::render(output.format, &input)?
    };
    let items = deliverables(
        &input,
        stdout_text,
        &targets,
        diagnosis.allow_rules.clone(),
        &log.contents(),
        output.pseudonymize,
    )?;
    let delivered = match crate::report::deliver::prepare(items, &config.secrets) {
        Ok(delivered) => delivered,
        Err(error) => {
            // Withheld outputs must not hide a record left on the instance.
            eprintln!("error: {error}");
            return Ok(withheld_exit(&diagnosis.report, error.exit_code()));
        }
    };
    for warning in &delivered.warnings {
        eprintln!("warning: {warning}");
    }
    delivered.finish()?;
    if signals.received().is_some() {
        name_leftovers(&diagnosis.report.writes);
    }
    Ok(diagnosis.exit_code)
}

/// Listens for SIGINT, SIGTERM and SIGHUP for the rest of the command (see `signals.rs`).
pub fn install_signals() -> Result<Signals> {
    Signals::install(CLEANUP_BUDGET)
        .map_err(|e| Error::Usage(format!("cannot listen for SIGINT/SIGTERM/SIGHUP: {e}")))
}

/// Diagnoses the instance of `config`: gathers, evaluates, settles the round trip's writes and builds
/// the report. Prints only the client's warnings on stderr, after `label` (a fleet target's name).
pub async fn execute(
    config: &RunConfig,
    shared: &Shared,
    mut notes: Vec<String>,
    signals: &Signals,
    events: Arc<dyn Events>,
    label: &str,
) -> Result<Diagnosis> {
    let client = Client::new(config.connection.client_options(&config.secrets))?
        .with_stop(signals.stop(), signals.force());
    for warning in client.warnings() {
        eprintln!("warning: {label}{warning}");
        notes.push(warning.clone());
    }
    if config.settings.read_only {
        notes.push(
            "read-only run (--read-only): the ticket round trip and every other write were skipped"
                .into(),
        );
    }
    let transcript = client.transcript().clone();
    let user = config.connection.user.clone();
    let ctx = Arc::new(Context {
        settings: config.settings.clone(),
        user: user.clone(),
        instance: client.base_url(),
        now: crate::clock::now()?,
    });
    let credentials = crate::config::Credentials {
        password: Some(config.connection.password.clone()),
        ..config.credentials.clone()
    };
    let gatherer = Arc::new(Gatherer::new(
        client.clone(),
        user.clone(),
        config.settings.clone(),
        credentials,
        signals.stop(),
    ));
    let started_at = chrono::Utc::now();
    let started = std::time::Instant::now();
    let limits = Limits {
        jobs: config.selection.jobs,
        check_timeout: config.selection.check_timeout,
    };
    let ctx_for_export = ctx.clone();
    let force = signals.force();
    let gathered = async {
        let results = runner::run(&shared.plan, ctx, gatherer.clone(), limits, events).await;
        // A round trip whose check timed out is still cleaning up: its writes belong in the report.
        gatherer.settle().await;
        results
    };
    let results = tokio::select! {
        results = gathered => results,
        // The second signal ends the process now: no report, only the records left behind.
        () = force.cancelled() => {
            name_leftovers(&gatherer.written_records());
            let code = signals.received().map_or(exit::INTERRUPTED, |s| s.exit_code());
            std::process::exit(i32::from(code));
        }
    };
    let interrupted = signals.received();
    let allow_rules = match (&config.settings.export_allow_rules, interrupted) {
        (Some(_), None) => export_allow_rules(&ctx_for_export, &gatherer).await,
        _ => None,
    };
    if let Some(note) = service_tags_notice(&results, &ctx_for_export, &gatherer).await {
        notes.push(note);
    }
    let verdict = match interrupted {
        Some(signal) => Verdict {
            status: Status::Interrupted,
            headline: format!(
                "INTERRUPTED by {}: the run stopped before its checks finished",
                signal.name()
            ),
            root_causes: Vec::new(),
        },
        None => runner::verdict(&results, &shared.plan),
    };
    let report = RunReport {
        schema_version: crate::model::REPORT_SCHEMA_VERSION.into(),
        tool: ToolInfo::current(),
        started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        duration_ms: started.elapsed().as_millis() as u64,
        instance: client.base_url(),
        target: None,
        profile: config.settings.profile.name.clone(),
        user,
        verdict,
        checks: results,
        writes: gatherer.written_records(),
        notes,
    };
    let exit_code = match interrupted {
        Some(signal) => signal.exit_code(),
        None => exit::exit_code(&report, shared.fail_on),
    };
    Ok(Diagnosis {
        report,
        transcript: transcript.snapshot(),
        exit_code,
        allow_rules,
    })
}

/// After a signal, stderr names every record left on the instance, whatever else was (not) written.
fn name_leftovers(writes: &[WrittenRecord]) {
    for write in writes.iter().filter(|w| w.state == WriteState::Leftover) {
        eprintln!(
            "left behind: {} {} (sys_id {}); remove it with `snowdoctor cleanup`",
            write.table,
            if write.number.is_empty() {
                "-"
            } else {
                &write.number
            },
            write.sys_id
        );
    }
}
/// The report-level line naming the Azure ranges `ip-allowlist` judged and their age (a `warning:`
/// when stale), so every format shows which snapshot a verdict rests on. `None` when the check did not
/// run or had no file.
async fn service_tags_notice(
    results: &[crate::model::CheckResult],
    ctx: &Context,
    gatherer: &Gatherer,
) -> Option<String> {
    let ran = results.iter().any(|r| {
        r.id == "ip-allowlist"
            && matches!(
                r.status,
                Status::Pass | Status::Warn | Status::Fail | Status::Inconclusive
            )
    });
    if !ran {
        return None;
    }
    // memoised: the check already loaded it
    match gatherer
        .get(&crate::runner::facts::FactKey::ServiceTags)
        .await
        .as_ref()
    {
        Ok(crate::runner::facts::FactValue::ServiceTags(file)) => Some(file.notice(ctx.now)),
        _ => None,
    }
}

/// The minimal Allow rules as CSV, from the facts the ip-allowlist check used (memoised: no new
/// request); `None`, with a warning, when they could not be worked out.
async fn export_allow_rules(ctx: &Context, gatherer: &Gatherer) -> Option<String> {
    use crate::checks::Check;
    let check = crate::checks::ip_allowlist::IpAllowlist;
    let keys = check.needs(ctx);
    let facts = runner::gather_all(gatherer, keys).await;
    let csv = crate::checks::ip_allowlist::allow_rules_export(ctx, &facts);
    if csv.is_none() {
        eprintln!(
            "warning: --export-allow-rules: no rules were written (ip_access or the service-tag file could not be read)"
        );
    }
    csv
}

/// Every output of the run, rendered: standard output (the `--format`, or the one `--report FMT=-`),
/// each report file, the bundle and its mapping, and the exported allow rules.
fn deliverables(
    input: &crate::report::RenderInput,
    stdout_text: String,
    targets: &OutputTargets,
    allow_rules: Option<String>,
    log: &str,
    pseudonymize: bool,
) -> Result<Vec<Deliverable>> {
    use crate::report::targets::Destination;
    let mut items = Vec::new();
    let report_to_stdout = targets
        .reports
        .iter()
        .any(|(_, d)| *d == Destination::Stdout)
        || targets.allow_rules == Some(Destination::Stdout);
    if !report_to_stdout {
        items.push(Deliverable::text(
            "the standard output".into(),
            None,
            stdout_text,
        ));
    }
    let input = input.for_file();
    for (format, destination) in &targets.reports {
        let text = crate::report::render(*format, &input)?;
        items.push(match destination {
            Destination::Stdout => Deliverable::text("the standard output".into(), None, text),
            Destination::File(path) => Deliverable::text(
                crate::report::report_name(*format, path),
                Some(path.clone()),
                text,
            ),
        });
    }
    if let Some(path) = &targets.bundle {
        items.extend(crate::report::build_bundle(
            path,
            &input,
            log,
            pseudonymize,
        )?);
    }
    if let (Some(destination), Some(csv)) = (&targets.allow_rules, allow_rules) {
        items.push(match destination {
            Destination::Stdout => Deliverable::text("the standard output".into(), None, csv),
            Destination::File(path) => Deliverable::text(
                format!("the exported allow rules {}", path.display()),
                Some(path.clone()),
                csv,
            ),
        });
    }
    Ok(items)
}

/// When the outputs were withheld: every record left on the instance is still named on stderr, and
/// the exit code says so (1) rather than only "withheld" (`code`).
fn withheld_exit(report: &RunReport, code: u8) -> u8 {
    let leftovers: Vec<_> = report
        .writes
        .iter()
        .filter(|w| w.state == WriteState::Leftover)
        .collect();
    for write in &leftovers {
        eprintln!(
            "error: the test record {} (table {}, sys_id {}) is still on the instance: delete it, or run `snowdoctor cleanup`",
            if write.number.is_empty() {
                "without a number"
            } else {
                &write.number
            },
            write.table,
            write.sys_id
        );
    }
    if leftovers.is_empty() {
        code
    } else {
        exit::FINDINGS
    }
}
