//! Command-line types (clap derive) and their mapping onto the library's domain types: the library never
//! sees clap. Validation and defaults live in `config.rs`; `src/app/` runs each subcommand.
//!
//! Secrets are never flags: they come from the environment, a file (`--*-file`) or a terminal prompt.
//!
//! Over 500 lines on purpose: it is one idea, the clap derive types of every subcommand, kept together
//! so help, completions and the man page read one place; the commands themselves live in `src/app/`.

// The doc comments below are clap's help text, written for a terminal: bare URLs and
// placeholders such as DIR/<target>/ are meant as they stand.
#![allow(rustdoc::bare_urls, rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{ConnectionInput, IntegrationInput, Selection};
use crate::exit::FailOn;
use crate::profile::Cloud;
use crate::report::Format;
use crate::servicenow::oauth::Grant;

/// Tells why a ServiceNow instance will not work with the Microsoft 365 security center ticket
/// connector, and proves that it does when it does.
#[derive(Debug, Parser)]
#[command(name = "snowdoctor", version, about, long_about = None, infer_subcommands = false)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose an instance: configuration checks, a real OAuth connect and a ticket round trip.
    Run(RunArgs),
    /// Start the embedded instance emulator on loopback and diagnose it (no setup needed).
    Demo(DemoArgs),
    /// Serve a local emulated ServiceNow instance for trying the tool or reproducing a problem.
    Emulate(EmulateArgs),
    /// Print the check catalogue.
    List(CatalogueArgs),
    /// Print one check in full: what it reads, why it matters and how to fix a failure.
    Explain(ExplainArgs),
    /// Use the IP allowlist engine offline: merge Azure ranges, or test them against exported rules.
    Ranges(RangesArgs),
    /// Work with saved reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Print the JSON schema of the JSON report (--targets: the fleet report; --config: the config file).
    Schema(SchemaArgs),
    /// Find and remove round-trip records a previous run left behind (only snowdoctor's own).
    Cleanup(CleanupArgs),
    /// Print the effective settings (flags, environment, config file) and where each came from.
    Config(ConfigArgs),
    /// Print a shell completion script, e.g. `snowdoctor completions bash > ~/.local/share/bash-completion/completions/snowdoctor`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `snowdoctor man > ~/.local/share/man/man1/snowdoctor.1`.
    Man,
    /// Explain a pasted error message: its likely cause, the fix, and the run that confirms it.
    Why(WhyArgs),
    /// List the integration profiles, or show one in full with its sources.
    Profiles(ProfilesArgs),
}

/// Where the instance is and how to reach it.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Instance base URL, e.g. https://acme.service-now.com
    #[arg(long, env = "SNOWDOCTOR_INSTANCE", value_name = "URL")]
    pub instance: Option<String>,
    /// The diagnosing account (needs admin to read configuration tables).
    #[arg(long, env = "SNOWDOCTOR_USER", value_name = "NAME")]
    pub user: Option<String>,
    /// Read the diagnosing account's password from this file (else SNOWDOCTOR_PASSWORD, else a prompt).
    #[arg(long, value_name = "FILE", help_heading = "Credentials")]
    pub password_file: Option<PathBuf>,
    /// Trust only the CA certificates in this PEM file (instead of the system roots) for the instance's TLS.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify TLS certificates. Dangerous: only for a lab instance.
    #[arg(long)]
    pub insecure: bool,
    /// Allow http:// to a host that is not loopback. Dangerous: credentials travel in clear.
    #[arg(long)]
    pub allow_http: bool,
    /// Connect timeout, seconds [default: 10].
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<u64>,
    /// Per-request timeout, seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    pub request_timeout: Option<u64>,
}

/// Which checks run and how.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Selection")]
pub struct SelectionArgs {
    /// Run only these checks (ids or areas, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "ID|AREA")]
    pub only: Vec<String>,
    /// Skip these checks (ids or areas).
    #[arg(long, value_delimiter = ',', value_name = "ID|AREA")]
    pub skip: Vec<String>,
    /// Add or override checks from the TOML manifests in this directory.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,
    /// How many checks may run at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub jobs: usize,
    /// Per-check timeout, seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub check_timeout: u64,
}

/// What the integration looks like on the instance.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Integration")]
pub struct IntegrationArgs {
    /// Profile name (see `snowdoctor profiles`; default m365-security-center) or one defined in --config.
    #[arg(long, env = "SNOWDOCTOR_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// A TOML file defining profiles and defaults.
    #[arg(long, env = "SNOWDOCTOR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The integration user the connector acts as.
    #[arg(long, env = "SNOWDOCTOR_INTEGRATION_USER", value_name = "NAME")]
    pub integration_user: Option<String>,
    /// Read the integration user's password from this file (else SNOWDOCTOR_INTEGRATION_PASSWORD).
    #[arg(long, value_name = "FILE", help_heading = "Credentials")]
    pub integration_password_file: Option<PathBuf>,
    /// Name of the OAuth application registry entity (else found through the app).
    #[arg(long, env = "SNOWDOCTOR_OAUTH_ENTITY", value_name = "NAME")]
    pub oauth_entity: Option<String>,
    /// OAuth client id (else read from the entity).
    #[arg(long, env = "SNOWDOCTOR_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the OAuth client secret from this file (else SNOWDOCTOR_CLIENT_SECRET).
    #[arg(long, value_name = "FILE", help_heading = "Credentials")]
    pub client_secret_file: Option<PathBuf>,
    /// Read a refresh token from this file (else SNOWDOCTOR_REFRESH_TOKEN); enables the refresh grant.
    #[arg(long, value_name = "FILE", help_heading = "Credentials")]
    pub refresh_token_file: Option<PathBuf>,
    /// OAuth grant for the connect.
    #[arg(long, value_enum, value_name = "GRANT")]
    pub grant: Option<Grant>,
    /// Expected role of the integration user (repeatable; default: any role of the app's scope).
    #[arg(long = "expect-role", value_name = "ROLE")]
    pub expect_roles: Vec<String>,
    /// Table for the ticket round trip.
    #[arg(long, value_name = "TABLE", help_heading = "Round trip")]
    pub ticket_table: Option<String>,
    /// Close the round-trip ticket instead of failing when deletion is denied.
    #[arg(long, help_heading = "Round trip")]
    pub close_if_delete_denied: bool,
    /// Skip every write (the round trip) and say so.
    #[arg(long, help_heading = "Round trip")]
    pub read_only: bool,
    /// Never use the Batch API: send each configuration read on its own (more requests, the same
    /// findings). Without it a refused batch (404, 400, 403, 429) falls back to this by itself.
    #[arg(long)]
    pub no_batch: bool,
    /// The Microsoft cloud the integration runs in: picks the profile's callback URL and source ranges
    /// of that cloud, and the embedded service-tag file (builtin:gov for gov).
    #[arg(
        long,
        value_enum,
        env = "SNOWDOCTOR_CLOUD",
        value_name = "CLOUD",
        help_heading = "IP allowlist"
    )]
    pub cloud: Option<Cloud>,
    /// Azure ServiceTags JSON file for the IP allowlist check, or builtin:public (the default, an
    /// embedded dated snapshot; builtin:gov with --cloud gov), builtin:gov, builtin:china, builtin:sample.
    #[arg(
        long,
        env = "SNOWDOCTOR_SERVICE_TAGS",
        value_name = "FILE",
        help_heading = "IP allowlist"
    )]
    pub service_tags: Option<PathBuf>,
    /// Restrict the Azure ranges to these service tags (repeatable; default every prefix in the file).
    #[arg(
        long = "service-tag",
        value_name = "NAME",
        help_heading = "IP allowlist"
    )]
    pub service_tags_selected: Vec<String>,
    /// Also check these single addresses (e.g. the six Microsoft 365 support integration IPs).
    #[arg(
        long = "service-ip",
        value_name = "ADDR",
        help_heading = "IP allowlist"
    )]
    pub service_ips: Vec<String>,
    /// Write the minimal Allow rules that would admit every selected range, as CSV for ip_access.
    #[arg(long, value_name = "FILE", help_heading = "IP allowlist")]
    pub export_allow_rules: Option<PathBuf>,
}

/// Where the results go.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Format written to stdout.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    pub format: Format,
    /// Also write FORMAT to PATH (repeatable), e.g. --report junit=out/junit.xml; PATH `-` is stdout
    /// (instead of --format). The directory must exist; an existing file needs --force.
    #[arg(long = "report", value_name = "FMT=PATH")]
    pub reports: Vec<String>,
    /// Write a support bundle (zip: JSON, HTML, HAR, log) to PATH.
    #[arg(long, value_name = "PATH")]
    pub bundle: Option<PathBuf>,
    /// Replace host, user names, emails, sys_ids and IPs consistently in the bundle.
    #[arg(long, requires = "bundle")]
    pub pseudonymize: bool,
    /// Exit 1 when a check's status reaches this level: `inconclusive` (default) also fails on an
    /// undecided check, `warn` also on warnings, `fail` only on failures, `never` not at all.
    #[arg(long, value_enum, default_value_t = FailOn::Inconclusive)]
    pub fail_on: FailOn,
    /// More log output on stderr (-v, -vv, -vvv). Secrets are redacted at every level.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress display.
    #[arg(long)]
    pub no_progress: bool,
    /// Replace existing report, bundle, mapping and export files (a symlink is replaced, not followed).
    #[arg(long)]
    pub force: bool,
    /// Print only the verdict line on stdout (reports, the bundle and the exit code are unchanged).
    #[arg(short, long)]
    pub quiet: bool,
    /// Colour in the terminal format: auto follows NO_COLOR, CLICOLOR_FORCE, TERM=dumb and whether
    /// stdout is a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// When to colour the terminal output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl Default for OutputArgs {
    fn default() -> Self {
        OutputArgs {
            format: Format::Terminal,
            reports: Vec::new(),
            bundle: None,
            pseudonymize: false,
            fail_on: FailOn::Inconclusive,
            verbose: 0,
            no_progress: false,
            force: false,
            quiet: false,
            color: ColorChoice::Auto,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub fleet: FleetArgs,
    #[command(flatten)]
    pub integration: IntegrationArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Many instances in one run (`--targets`).
#[derive(Debug, Args, Clone, Default)]
pub struct FleetArgs {
    /// Diagnose every `[[target]]` of this TOML file (see examples/targets.toml) instead of one
    /// --instance; each target names the environment variables holding its secrets.
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// How many targets are diagnosed at once (with --targets).
    #[arg(long, default_value_t = 4, value_name = "N", requires = "targets")]
    pub parallel_targets: usize,
    /// Write every report format of every target under DIR/<target>/ (with --targets).
    #[arg(long, value_name = "DIR", requires = "targets")]
    pub report_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Emulator scenario to diagnose (see `snowdoctor emulate --list-scenarios`); default: the
    /// `--profile`'s healthy scenario (named after the profile), else `healthy`. Without --profile,
    /// a scenario named after a built-in profile (`azure-monitor-itsmc-…`) is diagnosed with it.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Simulated network latency per request, milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    #[command(flatten)]
    pub integration: IntegrationArgs,
    #[command(flatten)]
    pub selection: SelectionArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// Scenario to serve.
    #[arg(long, default_value = "healthy")]
    pub scenario: String,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8443)]
    pub port: u16,
    /// Address to bind; loopback unless told otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Added latency per request, milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Serve plain HTTP instead of TLS.
    #[arg(long)]
    pub plain_http: bool,
    /// Write the generated CA certificate (PEM) here, for --ca-cert or curl --cacert.
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,
    /// Pretend requests come from this address when enforcing ip_access rules.
    #[arg(long, value_name = "ADDR")]
    pub client_ip: Option<String>,
    /// How the Batch API (POST /api/now/v1/batch) answers: on, or missing (404), forbidden (403),
    /// rate-limited (429), to try the fallback to individual requests.
    #[arg(long, value_enum, default_value_t = BatchApiArg::On, value_name = "MODE")]
    pub batch_api: BatchApiArg,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list_scenarios: bool,
}

/// `emulate --batch-api`: how the emulator's Batch API answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum BatchApiArg {
    #[default]
    On,
    Missing,
    Forbidden,
    RateLimited,
}

#[derive(Debug, Args)]
pub struct CatalogueArgs {
    /// Add or override checks from the TOML manifests in this directory.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,
    /// Print the catalogue as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Check id.
    pub id: String,
    /// Add or override checks from the TOML manifests in this directory.
    #[arg(long, value_name = "DIR")]
    pub checks_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RangesArgs {
    /// Azure ServiceTags JSON file (Public, Government, China, or the Discovery API shape), or
    /// builtin:public (the default, an embedded dated snapshot), builtin:gov, builtin:china,
    /// builtin:sample.
    #[arg(long, value_name = "FILE")]
    pub service_tags: Option<PathBuf>,
    /// Restrict to these service tags (repeatable).
    #[arg(long = "service-tag", value_name = "NAME")]
    pub service_tags_selected: Vec<String>,
    /// ip_access rules exported from an instance (JSON Table API export or CSV); prints coverage.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Write the minimal Allow rules as CSV.
    #[arg(long, value_name = "FILE")]
    pub export_allow_rules: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also check these single addresses against --rules (repeatable), e.g. the six Microsoft 365
    /// support integration IPs.
    #[arg(long = "service-ip", value_name = "ADDR")]
    pub service_ips: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the schema of the fleet report (`run --targets FILE --format json`) instead.
    #[arg(long)]
    pub targets: bool,
    /// Print the schema of the config file (`[defaults]`, `[profiles.NAME]` with every profile key,
    /// the shape of the built-in profiles) instead.
    #[arg(long, conflicts_with = "targets")]
    pub config: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Turn a saved JSON report into another format.
    Render(RenderArgs),
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// A JSON report written by `--format json` or `--report json=PATH`.
    pub file: PathBuf,
    /// Format to render (every format but har: a saved report has no HTTP transcript).
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    pub format: Format,
    /// Colour in the terminal format (see `run --color`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub integration: IntegrationArgs,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// A TOML file whose `[defaults]` may give the instance and the account.
    #[arg(long, env = "SNOWDOCTOR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Table the round trip wrote to.
    #[arg(long, default_value = "incident", value_name = "TABLE")]
    pub ticket_table: String,
    /// List what would be removed without removing it.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The error text as shown by Azure, Microsoft 365 or ServiceNow (quote it, or pass - or nothing
    /// to read it from stdin).
    #[arg(value_name = "ERROR TEXT")]
    pub text: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WhyFormat::Text)]
    pub format: WhyFormat,
    /// List every known error instead.
    #[arg(long, conflicts_with = "text")]
    pub list: bool,
}

/// Output formats of `why`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WhyFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: Option<ProfilesCommand>,
    /// A TOML file whose `[profiles.NAME]` tables are listed too.
    #[arg(long, env = "SNOWDOCTOR_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Show one profile in full: what it checks and where each requirement comes from.
    Show {
        /// Profile name.
        name: String,
    },
}

/// Domain enums with a `name()` and an `ALL` list become clap value enums here, not in the library.
macro_rules! value_enum {
    ($($ty:ty),*) => {$(
        impl ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                <$ty>::ALL
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.name()))
            }
        }
    )*};
}

value_enum!(Grant, Format, FailOn, Cloud);

impl ConnectionArgs {
    /// What the flags and environment ask for, before the config file and validation.
    pub fn input(&self) -> ConnectionInput {
        ConnectionInput {
            instance: self.instance.clone(),
            user: self.user.clone(),
            password_file: self.password_file.clone(),
            ca_cert: self.ca_cert.clone(),
            insecure: self.insecure,
            allow_http: self.allow_http,
            profile: None,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            password_env: None,
        }
    }
}

impl IntegrationArgs {
    /// What the flags and environment ask for, before the config file and validation.
    pub fn input(&self) -> IntegrationInput {
        IntegrationInput {
            profile: self.profile.clone(),
            config: self.config.clone(),
            integration_user: self.integration_user.clone(),
            integration_password_file: self.integration_password_file.clone(),
            oauth_entity: self.oauth_entity.clone(),
            client_id: self.client_id.clone(),
            client_secret_file: self.client_secret_file.clone(),
            refresh_token_file: self.refresh_token_file.clone(),
            grant: self.grant,
            expect_roles: self.expect_roles.clone(),
            ticket_table: self.ticket_table.clone(),
            close_if_delete_denied: self.close_if_delete_denied,
            read_only: self.read_only,
            no_batch: self.no_batch,
            cloud: self.cloud,
            service_tags: self.service_tags.clone(),
            service_tags_selected: self.service_tags_selected.clone(),
            service_ips: self.service_ips.clone(),
            export_allow_rules: self.export_allow_rules.clone(),
            secret_env: Default::default(),
            prompt: true,
        }
    }
}

impl SelectionArgs {
    /// The checked selection (`--jobs 0` counts as 1, `--check-timeout 0` as one second).
    pub fn selection(&self) -> Selection {
        Selection::new(
            self.only.clone(),
            self.skip.clone(),
            self.checks_dir.clone(),
            self.jobs,
            self.check_timeout,
        )
    }
}
