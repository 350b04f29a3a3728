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
}

/// Runs a diagnosis and writes every requested output. `notes` are prepended to the report's notes.
pub async fn diagnose(config: RunConfig, output: &OutputArgs, notes: Vec<String>) -> Result<u8> {
    let log = super::logging::init(output.verbose, config.secrets.clone());
    let catalogue = Catalogue::load(config.selection.checks_dir.as_deref())?;
    let plan = Plan::select(&catalogue, &config.selection.only, &config.selection.skip)?;
    if plan.selected_count() == 0 {
        eprintln!("error: the selection (--only/--skip) leaves no check to run");
        return Ok(exit::NO_CHECKS);
    }
    let targets = output
        .reports
        .iter()
        .map(|arg| crate::report::parse_report_arg(arg))
        .collect::<Result<Vec<_>>>()?;
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
    if config.secrets.leaks_into(&stdout_text) {
        return Err(Error::SecretLeak("the standard output".into()));
    }
    super::print_stdout(&stdout_text);
    crate::report::write_reports(&input, &targets, &config.secrets)?;
    if let Some(path) = &output.bundle {
        crate::report::write_bundle(
            path,
            &input,
            &log.contents(),
            output.pseudonymize,
            &config.secrets,
        )?;
    }
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
    let client = Client::new(config.connection.client_options(&config.secrets))
        .map_err(|e| Error::Usage(e.to_string()))?
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
    if let (Some(path), None) = (&config.settings.export_allow_rules, interrupted) {
        export_allow_rules(path, &ctx_for_export, &gatherer).await?;
    }
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
        None => runner::verdict(&results),
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
        None => exit_code(&report, &shared.catalogue, shared.fail_on),
    };
    Ok(Diagnosis {
        report,
        transcript: transcript.snapshot(),
        exit_code,
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

/// Writes the minimal Allow rules from the facts the ip-allowlist check used (memoised: no new request).
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

async fn export_allow_rules(
    path: &std::path::Path,
    ctx: &Context,
    gatherer: &Gatherer,
) -> Result<()> {
    use crate::checks::Check;
    let check = crate::checks::ip_allowlist::IpAllowlist;
    let keys = check.needs(ctx);
    let facts = runner::gather_all(gatherer, keys).await;
    match crate::checks::ip_allowlist::allow_rules_export(ctx, &facts) {
        Some(csv) => std::fs::write(path, csv).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        }),
        None => {
            eprintln!(
                "warning: --export-allow-rules: no rules were written (ip_access or the service-tag file could not be read)"
            );
            Ok(())
        }
    }
}

/// 3 when a gate check (connectivity, authentication) failed or could not decide; else `--fail-on`.
fn exit_code(report: &RunReport, catalogue: &Catalogue, fail_on: FailOn) -> u8 {
    let gate_failed = report
        .checks
        .iter()
        .any(|c| c.status == Status::Fail && catalogue.get(&c.id).is_some_and(|m| m.gate));
    if gate_failed {
        return exit::NOT_ASSESSED;
    }
    // A record the run could not remove is always a finding, whatever --fail-on says.
    if report
        .writes
        .iter()
        .any(|w| w.state == WriteState::Leftover)
    {
        return exit::FINDINGS;
    }
    crate::report::exit_code(report, fail_on)
}
