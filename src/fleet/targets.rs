//! The targets file of `run --targets FILE`: one `[[target]]` per instance, validated once before any
//! target runs. A target names the environment variables that hold its secrets, never the secrets, so
//! the file can be committed next to a CI pipeline.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{ConnectionInput, IntegrationInput, SecretEnv, line_of};
use crate::error::{Error, Result};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    #[serde(default)]
    target: Vec<Target>,
}

/// One instance to diagnose. Fields left out keep what the command line says (`--profile`, `--ca-cert`…).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Unique, file-name safe: it names the target in every output and its `--report-dir` folder.
    pub name: String,
    /// Instance base URL.
    pub instance: String,
    /// The diagnosing account.
    pub user: String,
    /// Profile name (built in or from `--config`).
    #[serde(default)]
    pub profile: Option<String>,
    /// A PEM CA file to trust for this instance; relative to the targets file.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    #[serde(default)]
    pub integration_user: Option<String>,
    #[serde(default)]
    pub oauth_entity: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Skip the round trip on this target.
    #[serde(default)]
    pub read_only: bool,
    /// Name of the variable holding the diagnosing account's password (default `SNOWDOCTOR_PASSWORD`).
    #[serde(default)]
    pub password_env: Option<String>,
    /// Name of the variable holding the integration user's password.
    #[serde(default)]
    pub integration_password_env: Option<String>,
    /// Name of the variable holding the OAuth client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Name of the variable holding a refresh token.
    #[serde(default)]
    pub refresh_token_env: Option<String>,
}

/// Reads and validates a targets file: at least one target, unique file-name-safe names, variable names
/// that look like variable names. Relative `ca_cert` paths are made relative to the file.
pub fn load(path: &Path) -> Result<Vec<Target>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let parsed: TargetsFile = toml::from_str(&text).map_err(|e| Error::Manifest {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(&text, s.start)).unwrap_or(1),
        message: e.message().to_string(),
    })?;
    let invalid = |message: String| Error::Usage(format!("{}: {message}", path.display()));
    if parsed.target.is_empty() {
        return Err(invalid(
            "no [[target]] table; each instance is a [[target]] with name, instance and user (see examples/targets.toml)".into(),
        ));
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let mut seen = HashSet::new();
    let mut targets = Vec::with_capacity(parsed.target.len());
    for mut target in parsed.target {
        if !is_safe_name(&target.name) {
            return Err(invalid(format!(
                "target name {:?} must be 1-64 characters of letters, digits, '.', '_' or '-', not starting with '.'",
                target.name
            )));
        }
        if !seen.insert(target.name.clone()) {
            return Err(invalid(format!(
                "target name {:?} is used twice; names must be unique",
                target.name
            )));
        }
        for (field, value) in target.env_names() {
            if value.is_some_and(|name| !is_env_name(name)) {
                return Err(invalid(format!(
                    // The value is not echoed: it may be the secret put there by mistake.
                    "target {:?}: {field} is not an environment variable name; \
                     give the variable's NAME (e.g. CONTOSO_PASSWORD), never the secret itself",
                    target.name
                )));
            }
        }
        if let Some(ca) = target.ca_cert.take() {
            target.ca_cert = Some(if ca.is_relative() { base.join(ca) } else { ca });
        }
        targets.push(target);
    }
    Ok(targets)
}

impl Target {
    fn env_names(&self) -> [(&'static str, Option<&str>); 4] {
        [
            ("password_env", self.password_env.as_deref()),
            (
                "integration_password_env",
                self.integration_password_env.as_deref(),
            ),
            ("client_secret_env", self.client_secret_env.as_deref()),
            ("refresh_token_env", self.refresh_token_env.as_deref()),
        ]
    }

    /// The connection as asked for: this target's instance, account, CA and password variable over
    /// the command line's transport flags.
    pub fn connection(&self, flags: &ConnectionInput) -> ConnectionInput {
        ConnectionInput {
            instance: Some(self.instance.clone()),
            user: Some(self.user.clone()),
            // A password file is one account's: a fleet reads each password from its variable.
            password_file: None,
            ca_cert: self.ca_cert.clone().or_else(|| flags.ca_cert.clone()),
            password_env: Some(
                self.password_env
                    .clone()
                    .unwrap_or_else(|| "SNOWDOCTOR_PASSWORD".into()),
            ),
            ..flags.clone()
        }
    }

    /// The integration as asked for: this target's fields over the command line's.
    pub fn integration(&self, flags: &IntegrationInput) -> IntegrationInput {
        let or = |mine: &Option<String>, theirs: &Option<String>| mine.clone().or(theirs.clone());
        IntegrationInput {
            profile: or(&self.profile, &flags.profile),
            integration_user: or(&self.integration_user, &flags.integration_user),
            oauth_entity: or(&self.oauth_entity, &flags.oauth_entity),
            client_id: or(&self.client_id, &flags.client_id),
            read_only: self.read_only || flags.read_only,
            no_batch: flags.no_batch,
            // Secret files are one instance's: a fleet reads secrets from the variables it names, and
            // never stops to prompt for one target while the others run.
            prompt: false,
            integration_password_file: None,
            client_secret_file: None,
            refresh_token_file: None,
            secret_env: SecretEnv {
                integration_password: self.integration_password_env.clone(),
                client_secret: self.client_secret_env.clone(),
                refresh_token: self.refresh_token_env.clone(),
            },
            ..flags.clone()
        }
    }
}

/// Letters, digits, `.`, `_`, `-`; 1 to 64 characters; no leading dot (no `..`, no hidden folder).
fn is_safe_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A portable environment variable name: a letter or `_`, then letters, digits or `_`.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Vec<Target>> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("targets.toml");
        std::fs::write(&path, text).expect("write");
        load(&path)
    }

    #[test]
    fn reads_targets_and_resolves_the_ca_next_to_the_file() {
        let targets = load_text(
            "[[target]]\nname = \"a\"\ninstance = \"https://a.example\"\nuser = \"u\"\nca_cert = \"ca.pem\"\npassword_env = \"A_PASSWORD\"\n",
        )
        .expect("valid");
        assert_eq!(targets.len(), 1);
        assert!(
            targets[0]
                .ca_cert
                .as_ref()
                .is_some_and(|p| p.ends_with("ca.pem") && p.is_absolute())
        );
    }

    #[test]
    fn refuses_duplicate_unsafe_names_and_secrets_in_place_of_names() {
        let t = |name: &str, env: &str| {
            format!(
                "[[target]]\nname = \"{name}\"\ninstance = \"https://x\"\nuser = \"u\"\npassword_env = \"{env}\"\n"
            )
        };
        let dup = format!("{}{}", t("a", "P"), t("a", "P"));
        assert!(load_text(&dup).is_err());
        assert!(load_text(&t("../etc", "P")).is_err());
        assert!(load_text(&t(".hidden", "P")).is_err());
        let secret = load_text(&t("a", "hunter2 with spaces")).expect_err("a secret is refused");
        assert!(!secret.to_string().contains("hunter2"), "{secret}");
        assert!(load_text("").is_err(), "no target");
        assert!(
            load_text(
                "[[target]]\nname = \"a\"\ninstance = \"x\"\nuser = \"u\"\npassword = \"s\"\n"
            )
            .is_err(),
            "unknown field"
        );
    }
}
