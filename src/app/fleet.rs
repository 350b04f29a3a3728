//! `snowdoctor run --targets FILE`: diagnoses many instances in one run. Each target is an ordinary
//! diagnosis through [`super::run::execute`] — its own client and rate-limit budget, its own round trip
//! and cleanup — run `--parallel-targets` at a time. A target that cannot start (an unset secret
//! variable, a bad URL) is a usage error for that target only; the others still run. The fleet exits
//! with its worst target's code.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;

use super::run::{Diagnosis, Shared, execute, install_signals};
use super::signals::Signals;
use crate::catalogue::Catalogue;
use crate::cli::RunArgs;
use crate::config::{self, ConfigFile, ConnectionInput, IntegrationInput, Selection};
use crate::error::{Error, Result};
use crate::exit;
use crate::fleet::{FLEET_SCHEMA_VERSION, FleetReport, FleetSummary, Target, TargetSummary};
use crate::report::{FLEET_FORMATS, Format, RenderInput, TargetRun};
use crate::runner::{Plan, Silent};
use crate::secrets::SecretRegistry;

/// How one target ended.
enum Outcome {
    Ran(Box<Diagnosis>),
    /// Could not be diagnosed; the message and exit code say why.
    Failed {
        error: String,
        exit_code: u8,
        duration_ms: u64,
    },
}

/// What every target's run reads from the command line.
struct Inputs<'a> {
    connection: ConnectionInput,
    integration: IntegrationInput,
    selection: Selection,
    file: ConfigFile,
    secrets: SecretRegistry,
    shared: Shared,
    signals: &'a Signals,
}

/// Runs `snowdoctor run --targets FILE`.
pub async fn run(path: &Path, args: &RunArgs) -> Result<u8> {
    refuse_single_instance_flags(args)?;
    let output = &args.output;
    let targets = crate::fleet::targets::load(path)?;
    let stdout_format = fleet_format(output.format, "--format")?;
    let reports = output
        .reports
        .iter()
        .map(|arg| {
            let (format, path) = crate::report::parse_report_arg(arg)?;
            Ok((fleet_format(format, "--report")?, path))
        })
        .collect::<Result<Vec<_>>>()?;
    let secrets = SecretRegistry::new();
    let _log = super::logging::init(output.verbose, secrets.clone(), false);
    let selection = args.selection.selection();
    let catalogue = Catalogue::load(selection.checks_dir.as_deref())?;
    let plan = Plan::select(&catalogue, &selection.only, &selection.skip)?;
    if plan.selected_count() == 0 {
        eprintln!("error: the selection (--only/--skip) leaves no check to run");
        return Ok(exit::NO_CHECKS);
    }
    let signals = install_signals()?;
    let inputs = Inputs {
        connection: args.connection.input(),
        integration: args.integration.input(),
        file: config::config_file(args.integration.config.as_deref())?,
        selection,
        secrets: secrets.clone(),
        shared: Shared {
            catalogue,
            plan,
            fail_on: output.fail_on,
        },
        signals: &signals,
    };
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let mut outcomes: Vec<(usize, Outcome)> = futures::stream::iter(targets.iter().enumerate())
        .map(|(index, target)| {
            let inputs = &inputs;
            async move { (index, run_target(target, inputs).await) }
        })
        .buffer_unordered(args.fleet.parallel_targets.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|(index, _)| *index);

    let mut summaries = Vec::with_capacity(targets.len());
    let mut runs = Vec::new();
    let mut transcripts = Vec::new();
    for ((_, outcome), target) in outcomes.into_iter().zip(&targets) {
        match outcome {
            Outcome::Ran(diagnosis) => {
                let Diagnosis {
                    mut report,
                    transcript,
                    exit_code,
                    ..
                } = *diagnosis;
                report.target = Some(target.name.clone());
                summaries.push(TargetSummary::ran(&target.name, &report, exit_code));
                runs.push(report);
                transcripts.push(transcript);
            }
            Outcome::Failed {
                error,
                exit_code,
                duration_ms,
            } => {
                eprintln!("error: target {}: {error}", target.name);
                summaries.push(TargetSummary::failed(
                    &target.name,
                    &target.instance,
                    error,
                    exit_code,
                    duration_ms,
                ));
            }
        }
    }
    let fleet = FleetReport {
        schema_version: FLEET_SCHEMA_VERSION.into(),
        runs,
        summary: FleetSummary::new(
            started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            started.elapsed().as_millis() as u64,
            summaries,
        ),
    };
    let stdout_text = if output.quiet {
        // One verdict line per target, as `run --quiet` prints one.
        fleet
            .summary
            .targets
            .iter()
            .map(|t| {
                crate::report::visible_text(&format!(
                    "{}: {} — {}",
                    t.name,
                    t.verdict_word(),
                    t.headline
                )) + "\n"
            })
            .collect()
    } else {
        crate::report::render_fleet(
            stdout_format,
            &fleet,
            super::term::stdout_color(output.color),
            super::term::stdout_width(),
        )?
    };
    if secrets.leaks_into(&stdout_text) {
        return Err(Error::SecretLeak("the standard output".into()));
    }
    super::print_stdout(&stdout_text);
    for (format, path) in &reports {
        let text = crate::report::render_fleet(*format, &fleet, false, crate::report::FILE_WIDTH)?;
        if secrets.leaks_into(&text) {
            return Err(Error::SecretLeak(path.display().to_string()));
        }
        write_text(path, &text)?;
    }
    if let Some(dir) = &args.fleet.report_dir {
        let target_runs: Vec<TargetRun> = fleet
            .runs
            .iter()
            .zip(&transcripts)
            .map(|(report, transcript)| TargetRun {
                name: report.target.as_deref().unwrap_or("target"),
                input: RenderInput {
                    report,
                    transcript,
                    color: false,
                    width: crate::report::FILE_WIDTH,
                },
            })
            .collect();
        crate::report::write_report_dir(dir, &fleet, &target_runs, &secrets)?;
    }
    // A signal decides the status, as for one instance (130 / 143 / 129): the reports above say
    // which targets were interrupted and what was cleaned up.
    Ok(signals
        .received()
        .map_or(fleet.summary.exit_code, |signal| signal.exit_code()))
}

/// One target: its configuration (a usage error stays this target's), then the diagnosis.
async fn run_target(target: &Target, inputs: &Inputs<'_>) -> Outcome {
    let started = Instant::now();
    let failed = |error: &Error| Outcome::Failed {
        error: error.to_string(),
        exit_code: error.exit_code(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    if inputs.signals.stop().is_cancelled() {
        return Outcome::Failed {
            error: "not diagnosed: the run was interrupted before this target started".into(),
            exit_code: exit::NOT_ASSESSED,
            duration_ms: 0,
        };
    }
    // The target's own registry: its requests and transcript redact its secrets only (redacting
    // every target's in every target would cost the fleet the square of its size); the fleet's
    // registry adopts them all for the outputs that span the targets.
    let secrets = inputs.secrets.child();
    let config = match config::run_config_in(
        &target.connection(&inputs.connection),
        &target.integration(&inputs.integration),
        inputs.selection.clone(),
        &inputs.file,
        secrets.clone(),
    ) {
        Ok(config) => config,
        Err(error) => return failed(&error),
    };
    tracing::info!(target = %target.name, instance = %target.instance, "diagnosing");
    let label = format!("target {}: ", target.name);
    match execute(
        &config,
        &inputs.shared,
        Vec::new(),
        inputs.signals,
        Arc::new(Silent),
        &label,
    )
    .await
    {
        Ok(diagnosis) => match own_secret_in(&diagnosis, &secrets) {
            Some(error) => failed(&error),
            None => Outcome::Ran(Box::new(diagnosis)),
        },
        Err(error) => failed(&error),
    }
}

/// The target's report, scanned for the target's secrets in every encoding (mixed ones included)
/// before it joins the fleet, whose outputs are scanned for every target's secrets in one pass.
fn own_secret_in(diagnosis: &Diagnosis, secrets: &SecretRegistry) -> Option<Error> {
    let text = serde_json::to_string(&diagnosis.report).unwrap_or_default();
    secrets
        .leaks(&text)
        .iter()
        .any(|leak| !leak.is_short())
        .then(|| {
            Error::Report(
                "a secret of this target was found in its report, so the report was withheld from the fleet's outputs"
                    .into(),
            )
        })
}

/// The fleet renders terminal, JSON, JUnit and Markdown as one document; the rest are per target.
fn fleet_format(format: Format, flag: &str) -> Result<Format> {
    if FLEET_FORMATS.contains(&format) {
        Ok(format)
    } else {
        Err(Error::Usage(format!(
            "{flag} {format} describes one instance; with --targets use terminal, json, junit or md, \
             and --report-dir DIR for every format of every target"
        )))
    }
}

/// Flags that name one instance's files make no sense for a fleet: say so rather than ignore them.
fn refuse_single_instance_flags(args: &RunArgs) -> Result<()> {
    let given = [
        ("--password-file", args.connection.password_file.is_some()),
        (
            "--integration-password-file",
            args.integration.integration_password_file.is_some(),
        ),
        (
            "--client-secret-file",
            args.integration.client_secret_file.is_some(),
        ),
        (
            "--refresh-token-file",
            args.integration.refresh_token_file.is_some(),
        ),
        (
            "--export-allow-rules",
            args.integration.export_allow_rules.is_some(),
        ),
        ("--bundle", args.output.bundle.is_some()),
    ];
    match given.iter().find(|(_, set)| *set) {
        Some((flag, _)) => Err(Error::Usage(format!(
            "{flag} is for one instance and cannot be used with --targets; name each target's secret \
             variables in the targets file (password_env, client_secret_env, …) and use --report-dir \
             for per-target files"
        ))),
        None => Ok(()),
    }
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
