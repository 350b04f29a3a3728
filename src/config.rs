//! Run configuration: defaults < config file < environment < flags, validated once into a [`RunConfig`]
//! before any check runs. Secrets are read from a file, the environment or a terminal prompt, straight
//! into `SecretString`, and registered so every output redacts them.
//!
//! Over 500 lines: one idea, the layering defaults < file < environment < flags and its validation,
//! which reads best in one place; the file's profile types live in `src/profile/`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::secrets::SecretRegistry;
use crate::servicenow::ClientOptions;
use crate::servicenow::oauth::Grant;

pub use crate::profile::{DEFAULT_PROFILE, Profile};

/// The optional TOML config file: `--config`, else `SNOWDOCTOR_CONFIG`, else `./snowdoctor.toml`, else
/// `$XDG_CONFIG_HOME/snowdoctor/config.toml` (`~/.config/…` when XDG_CONFIG_HOME is unset).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Where it was read from (none: no config file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// Defaults a config file may set (flags and environment win): the profile, the service-tag file and
/// every connection option.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    pub profile: Option<String>,
    /// The Microsoft cloud (`public`, `gov`, `china`), as `--cloud`.
    pub cloud: Option<crate::profile::Cloud>,
    pub service_tags: Option<PathBuf>,
    pub instance: Option<String>,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub allow_http: Option<bool>,
    pub connect_timeout: Option<u64>,
    pub request_timeout: Option<u64>,
}

impl Defaults {
    /// The connection options among the defaults.
    pub fn connection(&self) -> ConnectionDefaults {
        ConnectionDefaults {
            instance: self.instance.clone(),
            user: self.user.clone(),
            password_file: self.password_file.clone(),
            ca_cert: self.ca_cert.clone(),
            insecure: self.insecure,
            allow_http: self.allow_http,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
        }
    }
}

/// Connection options a config file may set, in `[defaults]` or `[profiles.NAME.connection]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDefaults {
    pub instance: Option<String>,
    pub user: Option<String>,
    /// A file holding the diagnosing account's password (the password itself never goes in a config).
    pub password_file: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub allow_http: Option<bool>,
    pub connect_timeout: Option<u64>,
    pub request_timeout: Option<u64>,
}

/// Default connect timeout, seconds.
pub const CONNECT_TIMEOUT_SECS: u64 = 10;
/// Default per-request timeout, seconds.
pub const REQUEST_TIMEOUT_SECS: u64 = 30;

/// Where a setting came from, for `snowdoctor config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Env(&'static str),
    /// The config file's `[defaults]`.
    Defaults(PathBuf),
    /// The selected profile's `[profiles.NAME.connection]`.
    Profile(PathBuf, String),
    /// snowdoctor's own default.
    BuiltIn,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag => f.write_str("command line"),
            Origin::Env(name) => write!(f, "environment ({name})"),
            Origin::Defaults(path) => write!(f, "{} [defaults]", path.display()),
            Origin::Profile(path, name) => {
                write!(f, "{} [profiles.{name}.connection]", path.display())
            }
            Origin::BuiltIn => f.write_str("default"),
        }
    }
}

/// Finds the config file: `explicit` (`--config`/`SNOWDOCTOR_CONFIG`), else `./snowdoctor.toml`, else
/// `$XDG_CONFIG_HOME/snowdoctor/config.toml` (`$HOME/.config/…` when XDG_CONFIG_HOME is unset or not
/// absolute). `env` reads an environment variable (the process's, or a test's).
pub fn discover_config(
    explicit: Option<&Path>,
    cwd: &Path,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    let local = cwd.join("snowdoctor.toml");
    if local.is_file() {
        return Some(local);
    }
    let config_home = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    let user = config_home.join("snowdoctor").join("config.toml");
    user.is_file().then_some(user)
}

impl ConfigFile {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = crate::local_file::read_to_string(path)?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            line: e.span().map(|s| line_of(&text, s.start)).unwrap_or(1),
            message: e.message().to_string(),
        })?;
        file.path = Some(path.to_path_buf());
        Ok(file)
    }

    /// The connection options the config file gives for `profile` (its own section over `[defaults]`),
    /// each with where it came from.
    pub fn connection_for(&self, profile: Option<&str>) -> Vec<(&'static str, String, Origin)> {
        let Some(path) = &self.path else {
            return Vec::new();
        };
        let profile_name = profile
            .map(str::to_string)
            .or_else(|| self.defaults.profile.clone());
        let mut layers = Vec::new();
        if let Some(name) = profile_name
            && let Some(p) = self.profiles.get(&name)
        {
            layers.push((p.connection.clone(), Origin::Profile(path.clone(), name)));
        }
        layers.push((self.defaults.connection(), Origin::Defaults(path.clone())));
        // A relative path in a config file is relative to the file, not to where snowdoctor runs.
        let beside = |p: &PathBuf| match path.parent() {
            Some(dir) if p.is_relative() => dir.join(p).display().to_string(),
            _ => p.display().to_string(),
        };
        let mut out: Vec<(&'static str, String, Origin)> = Vec::new();
        for (c, origin) in layers {
            let values: [(&'static str, Option<String>); 8] = [
                ("instance", c.instance.clone()),
                ("user", c.user.clone()),
                ("password_file", c.password_file.as_ref().map(beside)),
                ("ca_cert", c.ca_cert.as_ref().map(beside)),
                ("insecure", c.insecure.map(|b| b.to_string())),
                ("allow_http", c.allow_http.map(|b| b.to_string())),
                ("connect_timeout", c.connect_timeout.map(|n| n.to_string())),
                ("request_timeout", c.request_timeout.map(|n| n.to_string())),
            ];
            for (key, value) in values {
                if let Some(value) = value
                    && !out.iter().any(|(k, _, _)| *k == key)
                {
                    out.push((key, value, origin.clone()));
                }
            }
        }
        out
    }
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|prefix| prefix.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// Integration-specific settings every check can read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: Profile,
    pub client_id: Option<String>,
    pub grant: Grant,
    pub read_only: bool,
    pub close_if_delete_denied: bool,
    /// Carry the configuration reads in one Batch API request (`--no-batch` turns it off).
    pub batch: bool,
    /// The Microsoft cloud the integration runs in (`--cloud`; default public).
    pub cloud: crate::profile::Cloud,
    /// `--service-tags` (or the config's); `None`: the embedded file of [`Settings::cloud`].
    pub service_tags: Option<PathBuf>,
    pub service_tag_selection: Vec<String>,
    pub service_ips: Vec<IpAddr>,
    pub export_allow_rules: Option<PathBuf>,
    pub has_client_secret: bool,
    pub has_integration_password: bool,
    pub has_refresh_token: bool,
}

/// Secrets of a run; none of them is ever printed or serialised.
#[derive(Clone, Default)]
pub struct Credentials {
    /// The diagnosing account's; a run takes it from [`Connection::password`].
    pub password: Option<SecretString>,
    pub integration_password: Option<SecretString>,
    pub client_secret: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials([REDACTED])")
    }
}

/// Where the instance is and how to reach it, validated: what `run`, `cleanup` and `demo` share.
#[derive(Clone)]
pub struct Connection {
    pub instance: String,
    pub user: String,
    pub password: SecretString,
    pub ca_cert_pem: Option<Vec<u8>>,
    pub insecure: bool,
    pub allow_http: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("instance", &self.instance)
            .field("user", &self.user)
            .field("password", &"[REDACTED]")
            .field("insecure", &self.insecure)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The client options for this connection; `secrets` redacts every output of the client.
    pub fn client_options(&self, secrets: &SecretRegistry) -> ClientOptions {
        let mut options = ClientOptions::new(self.instance.clone());
        options.ca_cert_pem = self.ca_cert_pem.clone();
        options.insecure = self.insecure;
        options.allow_http = self.allow_http;
        options.connect_timeout = self.connect_timeout;
        options.request_timeout = self.request_timeout;
        options.secrets = secrets.clone();
        options
    }
}

/// Where the instance is and how to reach it, as asked for (flags and environment), before the config
/// file fills the gaps and [`connection`] validates it.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInput {
    pub instance: Option<String>,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
    pub insecure: bool,
    pub allow_http: bool,
    /// Profile whose `[profiles.NAME.connection]` applies (else `[defaults]`'s profile).
    pub profile: Option<String>,
    /// Seconds; 0 counts as 1; absent: the config file's, else [`CONNECT_TIMEOUT_SECS`].
    pub connect_timeout: Option<u64>,
    /// Seconds; 0 counts as 1; absent: the config file's, else [`REQUEST_TIMEOUT_SECS`].
    pub request_timeout: Option<u64>,
    /// The environment variable holding the password, when named (a `--targets` file does); unset is
    /// then an error instead of a prompt or a file. `None`: `SNOWDOCTOR_PASSWORD`.
    pub password_env: Option<String>,
}

/// What the integration looks like, as asked for; [`integration_settings`] validates it.
#[derive(Debug, Clone, Default)]
pub struct IntegrationInput {
    pub profile: Option<String>,
    /// The config file (`--config`).
    pub config: Option<PathBuf>,
    pub integration_user: Option<String>,
    pub integration_password_file: Option<PathBuf>,
    pub oauth_entity: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub refresh_token_file: Option<PathBuf>,
    pub grant: Option<Grant>,
    pub expect_roles: Vec<String>,
    pub ticket_table: Option<String>,
    pub close_if_delete_denied: bool,
    pub read_only: bool,
    /// `--no-batch`.
    pub no_batch: bool,
    /// `--cloud`; absent: the config's `[defaults] cloud`, else public.
    pub cloud: Option<crate::profile::Cloud>,
    pub service_tags: Option<PathBuf>,
    pub service_tags_selected: Vec<String>,
    pub service_ips: Vec<String>,
    pub export_allow_rules: Option<PathBuf>,
    /// Ask on a terminal for a missing integration secret (not in `demo`, whose emulator has its own).
    pub prompt: bool,
    /// Environment variables holding the integration's secrets, when named (a `--targets` file does);
    /// a named variable that is unset is an error. `None`: the `SNOWDOCTOR_*` variable.
    pub secret_env: SecretEnv,
}

/// Names of the environment variables holding the integration's secrets (never the secrets).
#[derive(Debug, Clone, Default)]
pub struct SecretEnv {
    pub integration_password: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
}

/// Which checks run and how, checked once: at least one job, a timeout of at least a second.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Check ids or areas to run (empty: every check).
    pub only: Vec<String>,
    /// Check ids or areas to skip.
    pub skip: Vec<String>,
    /// Extra or overriding check manifests.
    pub checks_dir: Option<PathBuf>,
    /// How many checks may run at once.
    pub jobs: NonZeroUsize,
    /// How long one check may take.
    pub check_timeout: Duration,
}

impl Selection {
    /// A selection from raw values: `jobs` 0 counts as 1, `check_timeout_secs` 0 as 1 second.
    pub fn new(
        only: Vec<String>,
        skip: Vec<String>,
        checks_dir: Option<PathBuf>,
        jobs: usize,
        check_timeout_secs: u64,
    ) -> Selection {
        Selection {
            only,
            skip,
            checks_dir,
            jobs: NonZeroUsize::new(jobs).unwrap_or(NonZeroUsize::MIN),
            check_timeout: Duration::from_secs(check_timeout_secs.max(1)),
        }
    }
}

/// A validated run configuration.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub connection: Connection,
    pub settings: Settings,
    /// The integration's secrets; the diagnosing account's password is `connection.password`.
    pub credentials: Credentials,
    pub selection: Selection,
    pub secrets: SecretRegistry,
}

/// Where a secret may come from, in order.
pub struct SecretSource<'a> {
    pub what: &'a str,
    pub file: Option<&'a Path>,
    pub env: &'a str,
    /// Prompt on a terminal when neither is set.
    pub prompt: bool,
    /// The variable was named explicitly (in a `--targets` file): unset or empty is an error.
    pub required_env: bool,
}

impl<'a> SecretSource<'a> {
    /// A source reading `named` when it is given (then it must be set, and nothing is prompted), else
    /// `default`.
    fn env_or(
        what: &'a str,
        file: Option<&'a Path>,
        named: Option<&'a str>,
        default: &'a str,
        prompt: bool,
    ) -> Self {
        SecretSource {
            what,
            file,
            env: named.unwrap_or(default),
            prompt: prompt && named.is_none(),
            required_env: named.is_some(),
        }
    }
}

/// Reads a secret from its file, its environment variable, or a terminal prompt.
pub fn read_secret(
    source: &SecretSource,
    registry: &SecretRegistry,
) -> Result<Option<SecretString>> {
    let value = if let Some(path) = source.file {
        let text = crate::local_file::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read the {}: {e}", source.what)))?;
        Some(text.trim_end_matches(['\r', '\n']).to_string())
    } else if let Some(raw) = std::env::var_os(source.env)
        && !(raw.is_empty() && source.required_env)
    {
        // A value that is not UTF-8 is a mistake to name, not a missing secret to prompt for.
        Some(raw.into_string().map_err(|_| {
            Error::Config(format!(
                "{} (the {}) is set but is not valid UTF-8; set it to the secret's text, or use a file",
                source.env, source.what
            ))
        })?)
    } else if source.required_env {
        return Err(Error::Usage(format!(
            "the environment variable {} (named for the {}) is not set or is empty; export it before the run",
            source.env, source.what
        )));
    } else if source.prompt && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let answer = rpassword::prompt_password(format!("{}: ", source.what))
            .map_err(|e| Error::Config(format!("cannot read the {}: {e}", source.what)))?;
        Some(answer)
    } else {
        None
    };
    let label = match source.file {
        Some(path) => format!("the {} read from {}", source.what, path.display()),
        None => source.env.to_string(),
    };
    Ok(value.filter(|v| !v.is_empty()).map(|v| {
        let secret = SecretString::from(v);
        registry.register_as(&label, &secret);
        secret
    }))
}

/// Resolves the profile by name from the built-ins and the config file.
pub fn resolve_profile(name: Option<&str>, file: &ConfigFile) -> Result<Profile> {
    let name = name
        .map(str::to_string)
        .or_else(|| file.defaults.profile.clone())
        .unwrap_or_else(|| DEFAULT_PROFILE.into());
    if let Some(profile) = file.profiles.get(&name) {
        let mut profile = profile.clone();
        profile.oauth_entity_origin = format!("profile {name} of the config file");
        profile.name = name;
        profile.settle();
        return Ok(profile);
    }
    Profile::builtin()
        .into_iter()
        .find(|p| p.name == name)
        .map(|mut profile| {
            profile.oauth_entity_origin = format!("the built-in profile {name}");
            profile
        })
        .ok_or_else(|| {
            let mut known: Vec<String> = Profile::builtin().into_iter().map(|p| p.name).collect();
            known.extend(file.profiles.keys().cloned());
            Error::Usage(format!(
                "unknown profile {name:?}{}; known profiles: {}",
                crate::suggest::hint(&name, known.iter().map(String::as_str)),
                known.join(", ")
            ))
        })
}

/// Builds the integration settings and reads the integration secrets.
pub fn integration_settings(
    args: &IntegrationInput,
    file: &ConfigFile,
    registry: &SecretRegistry,
) -> Result<(Settings, Credentials)> {
    let mut profile = resolve_profile(args.profile.as_deref(), file)?;
    if let Some(user) = &args.integration_user {
        profile.integration_user = Some(user.clone());
    }
    if let Some(entity) = &args.oauth_entity {
        profile.oauth_entity = Some(entity.clone());
        profile.oauth_entity_origin = "--oauth-entity".into();
    }
    if !args.expect_roles.is_empty() {
        profile.expected_roles = args.expect_roles.clone();
    }
    if let Some(table) = &args.ticket_table {
        profile.ticket_table = table.clone();
    }
    // The round trip writes to this table: a name that is not one never reaches a request.
    crate::servicenow::path::check_table_name(&profile.ticket_table).map_err(|reason| {
        Error::Usage(format!(
            "the ticket table (--ticket-table, or the profile's ticket_table): {reason}"
        ))
    })?;
    let integration_password = read_secret(
        &SecretSource::env_or(
            "integration user's password",
            args.integration_password_file.as_deref(),
            args.secret_env.integration_password.as_deref(),
            "SNOWDOCTOR_INTEGRATION_PASSWORD",
            args.prompt && args.grant != Some(Grant::ClientCredentials),
        ),
        registry,
    )?;
    let client_secret = read_secret(
        &SecretSource::env_or(
            "OAuth client secret",
            args.client_secret_file.as_deref(),
            args.secret_env.client_secret.as_deref(),
            "SNOWDOCTOR_CLIENT_SECRET",
            args.prompt,
        ),
        registry,
    )?;
    let refresh_token = read_secret(
        &SecretSource::env_or(
            "refresh token",
            args.refresh_token_file.as_deref(),
            args.secret_env.refresh_token.as_deref(),
            "SNOWDOCTOR_REFRESH_TOKEN",
            args.prompt && args.grant == Some(Grant::RefreshToken),
        ),
        registry,
    )?;
    let service_ips = args
        .service_ips
        .iter()
        .map(|raw| {
            raw.trim()
                .parse::<IpAddr>()
                .map_err(|_| Error::Usage(format!("--service-ip {raw:?} is not an IP address")))
        })
        .collect::<Result<Vec<_>>>()?;
    let grant = args.grant.unwrap_or(if refresh_token.is_some() {
        Grant::RefreshToken
    } else {
        Grant::Password
    });
    let service_tags = args
        .service_tags
        .clone()
        .or_else(|| file.defaults.service_tags.clone());
    // a misspelt builtin:NAME is a usage error now, not an inconclusive check later
    crate::azure::TagSource::from_arg(service_tags.as_deref())?;
    let settings = Settings {
        profile,
        client_id: args.client_id.clone(),
        grant,
        read_only: args.read_only,
        close_if_delete_denied: args.close_if_delete_denied,
        batch: !args.no_batch,
        cloud: args.cloud.or(file.defaults.cloud).unwrap_or_default(),
        service_tags,
        service_tag_selection: args.service_tags_selected.clone(),
        service_ips,
        export_allow_rules: args.export_allow_rules.clone(),
        has_client_secret: client_secret.is_some(),
        has_integration_password: integration_password.is_some(),
        has_refresh_token: refresh_token.is_some(),
    };
    let credentials = Credentials {
        password: None,
        integration_password,
        client_secret,
        refresh_token,
    };
    Ok((settings, credentials))
}

/// Loads the config file: `path` (`--config`/`SNOWDOCTOR_CONFIG`) or the one [`discover_config`] finds;
/// the empty one when there is none.
pub fn config_file(path: Option<&Path>) -> Result<ConfigFile> {
    let cwd = std::env::current_dir().unwrap_or_default();
    match discover_config(path, &cwd, |name| std::env::var_os(name)) {
        Some(path) => ConfigFile::load(&path),
        None => Ok(ConfigFile::default()),
    }
}

/// Loads only a config file named explicitly (`demo`: a local file must not change the demo).
pub fn explicit_config_file(path: Option<&Path>) -> Result<ConfigFile> {
    match path {
        Some(path) => ConfigFile::load(path),
        None => Ok(ConfigFile::default()),
    }
}

/// Validates where the instance is and how to reach it (flags and environment, else the config file's
/// `[defaults]`), and reads the account's password (SNOWDOCTOR_PASSWORD, `--password-file`, a prompt).
pub fn connection(
    args: &ConnectionInput,
    file: &ConfigFile,
    secrets: &SecretRegistry,
) -> Result<Connection> {
    // The selected profile's connection section, then [defaults].
    let from_file = file.connection_for(args.profile.as_deref());
    let pick = |key: &str| {
        from_file
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, v, _)| v.clone())
    };
    let flag_or = |set: bool, key: &str| set || pick(key).is_some_and(|v| v == "true");
    let secs = |given: Option<u64>, key: &str, default: u64| {
        given
            .or_else(|| pick(key).and_then(|v| v.parse().ok()))
            .unwrap_or(default)
            .max(1)
    };
    let instance = args
        .instance
        .clone()
        .or_else(|| pick("instance"))
        .ok_or_else(|| {
            Error::Usage("no instance: pass --instance URL or set SNOWDOCTOR_INSTANCE".into())
        })?;
    let user = args.user.clone().or_else(|| pick("user")).ok_or_else(|| {
        Error::Usage("no diagnosing account: pass --user NAME or set SNOWDOCTOR_USER".into())
    })?;
    let password = read_secret(
        &SecretSource {
            what: "password of the diagnosing account",
            // A named variable is the only source: no file from the config, no prompt.
            file: match &args.password_env {
                Some(_) => None,
                None => args
                    .password_file
                    .clone()
                    .or_else(|| pick("password_file").map(PathBuf::from)),
            }
            .as_deref(),
            env: args.password_env.as_deref().unwrap_or("SNOWDOCTOR_PASSWORD"),
            prompt: args.password_env.is_none(),
            required_env: args.password_env.is_some(),
        },
        secrets,
    )?
    .ok_or_else(|| {
        Error::Usage(
            "no password for the diagnosing account: set SNOWDOCTOR_PASSWORD, pass --password-file FILE, or run on a terminal to be prompted".into(),
        )
    })?;
    let ca_cert = args
        .ca_cert
        .clone()
        .or_else(|| pick("ca_cert").map(PathBuf::from));
    let ca_cert_pem = match &ca_cert {
        Some(path) => Some(ca_certificates(path)?),
        None => None,
    };
    Ok(Connection {
        instance,
        user,
        password,
        ca_cert_pem,
        insecure: flag_or(args.insecure, "insecure"),
        allow_http: flag_or(args.allow_http, "allow_http"),
        connect_timeout: Duration::from_secs(secs(
            args.connect_timeout,
            "connect_timeout",
            CONNECT_TIMEOUT_SECS,
        )),
        request_timeout: Duration::from_secs(secs(
            args.request_timeout,
            "request_timeout",
            REQUEST_TIMEOUT_SECS,
        )),
    })
}

/// Reads `--ca-cert`: one or more PEM certificates that parse as trust anchors. Checked here, before
/// any request, so an empty file, garbage or a private key is a usage error that says so instead of
/// a TLS "UnknownIssuer" later.
pub fn ca_certificates(path: &Path) -> Result<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bytes = crate::local_file::read(path)?;
    let refuse = |reason: String| Error::CaCert {
        path: path.to_path_buf(),
        reason,
    };
    let mut roots = rustls::RootCertStore::empty();
    for (index, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let cert =
            cert.map_err(|e| refuse(format!("certificate {} is not valid PEM ({e})", index + 1)))?;
        roots.add(cert).map_err(|e| {
            refuse(format!(
                "certificate {} is not a usable X.509 certificate ({e})",
                index + 1
            ))
        })?;
    }
    if roots.is_empty() {
        let text = String::from_utf8_lossy(&bytes);
        let reason = if text.contains("PRIVATE KEY-----") {
            "it holds a private key, not a certificate; pass the CA's certificate (-----BEGIN CERTIFICATE-----)"
        } else if text.trim().is_empty() {
            "the file is empty; pass the PEM certificate of the CA that signed the instance's certificate"
        } else {
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----); pass the CA's certificate in PEM form"
        };
        return Err(refuse(reason.into()));
    }
    Ok(bytes)
}

/// Validates the `run` command's inputs.
pub fn run_config(
    connection_args: &ConnectionInput,
    integration: &IntegrationInput,
    selection: Selection,
) -> Result<RunConfig> {
    let file = config_file(integration.config.as_deref())?;
    run_config_in(
        connection_args,
        integration,
        selection,
        &file,
        SecretRegistry::new(),
    )
}

/// Validates one run's inputs against a config file already loaded, registering the secrets it reads
/// in `secrets`: a fleet shares one registry, so every output redacts every target's secrets.
pub fn run_config_in(
    connection_args: &ConnectionInput,
    integration: &IntegrationInput,
    selection: Selection,
    file: &ConfigFile,
    secrets: SecretRegistry,
) -> Result<RunConfig> {
    let connection_args = ConnectionInput {
        profile: integration.profile.clone(),
        ..connection_args.clone()
    };
    let connection = connection(&connection_args, file, &secrets)?;
    let (settings, credentials) = integration_settings(integration, file, &secrets)?;
    Ok(RunConfig {
        connection,
        settings,
        credentials,
        selection,
        secrets,
    })
}
