//! Shared test helpers: the real binary with a clean environment, JSON-report assertions, the secret
//! canaries (`canary`) and the misbehaving HTTP server of the hostile-input tests (`hostile_server`).

pub mod canary;
pub mod hostile_server;

use std::path::{Path, PathBuf};
use std::process::Output;

use secrecy::ExposeSecret;
use serde_json::Value;
use snowdoctor::emulator::{DemoCredentials, Emulator, EmulatorOptions};

/// The `snowdoctor` binary with no inherited `SNOWDOCTOR_*` variables and no colour.
pub fn snowdoctor() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("snowdoctor").expect("binary built");
    for (key, _) in std::env::vars() {
        if key.starts_with("SNOWDOCTOR_") {
            cmd.env_remove(key);
        }
    }
    // Width and colour come from the environment: the suite pins them (100 columns, no colour).
    cmd.env("NO_COLOR", "1")
        .env_remove("SNOWDOCTOR_LOG")
        .env_remove("COLUMNS")
        .env_remove("CLICOLOR_FORCE")
        // No user config file: discovery must not find the developer's own.
        .env(
            "XDG_CONFIG_HOME",
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/no-user-config"),
        );
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd
}

/// A finished run: exit code, stdout, stderr.
pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn from(output: Output) -> Finished {
        Finished {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The stdout parsed as a JSON report.
    pub fn report(&self) -> Report {
        let value: Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        });
        Report(value)
    }
}

/// Runs `snowdoctor demo --scenario NAME --format json ARGS…`.
pub fn demo(scenario: &str, args: &[&str]) -> Finished {
    let output = snowdoctor()
        .args(["demo", "--scenario", scenario, "--format", "json"])
        .args(args)
        .output()
        .expect("snowdoctor runs");
    Finished::from(output)
}

/// A JSON report with check lookups.
pub struct Report(pub Value);

impl Report {
    /// The check with this id (panics with the list of ids when absent).
    pub fn check(&self, id: &str) -> &Value {
        let checks = self.0["checks"].as_array().expect("checks array");
        checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| {
            let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
            panic!("no check {id:?} in report; have {ids:?}")
        })
    }

    /// Asserts a check's status, showing its summary on failure.
    pub fn assert_status(&self, id: &str, expected: &str) {
        let check = self.check(id);
        assert_eq!(
            check["status"], expected,
            "check {id}: summary {:?}, evidence {}",
            check["summary"], check["evidence"]
        );
    }

    /// A check's remediation text ("" when absent).
    pub fn remediation(&self, id: &str) -> String {
        self.check(id)["remediation"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// A check's summary.
    pub fn summary(&self, id: &str) -> String {
        self.check(id)["summary"].as_str().unwrap_or("").to_string()
    }

    /// The verdict's root-cause ids.
    pub fn root_causes(&self) -> Vec<String> {
        self.0["verdict"]["root_causes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// The binary as a std `Command` (for tests that spawn and signal it), with the emulator's three
/// secrets in the environment and no inherited `SNOWDOCTOR_*` or proxy variables; `client_secret`
/// replaces the emulator's own. The round trip as the integration user: `--integration-user`,
/// `--client-id` and `--oauth-entity` follow the emulator, `--only oauth-connect,ticket-round-trip`,
/// JSON; the caller adds `run` and the target flags first.
pub fn round_trip_command(
    creds: &DemoCredentials,
    client_secret: Option<&str>,
    target: &[std::ffi::OsString],
    extra: &[&str],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("snowdoctor"));
    for (key, _) in std::env::vars() {
        if key.starts_with("SNOWDOCTOR_") || key.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1")
        .env("SNOWDOCTOR_PASSWORD", creds.password.expose_secret())
        .env(
            "SNOWDOCTOR_INTEGRATION_PASSWORD",
            creds.integration_password.expose_secret(),
        )
        .env(
            "SNOWDOCTOR_CLIENT_SECRET",
            client_secret.unwrap_or(creds.client_secret.expose_secret()),
        )
        .arg("run")
        .args(target)
        .args(["--integration-user", &creds.integration_user])
        .args(["--client-id", &creds.client_id])
        .args(["--oauth-entity", &creds.oauth_entity])
        .args(["--only", "oauth-connect,ticket-round-trip"])
        .args(["--format", "json", "--no-progress"])
        .args(extra);
    cmd
}

/// An emulator started in the test process, with its CA written to a temp file.
pub struct EmulatorRun {
    pub emulator: Emulator,
    pub ca: PathBuf,
    /// Holds the CA file; dropped with the run.
    pub dir: tempfile::TempDir,
}

impl EmulatorRun {
    /// Starts the emulator on `scenario` with default options.
    pub fn start(scenario: &str) -> EmulatorRun {
        EmulatorRun::with(EmulatorOptions {
            scenario: scenario.into(),
            ..EmulatorOptions::default()
        })
    }

    /// Starts the emulator with `options`.
    pub fn with(options: EmulatorOptions) -> EmulatorRun {
        let emulator = Emulator::start_blocking(options).expect("emulator starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = write(dir.path(), "ca.pem", &emulator.ca_pem().expect("TLS CA"));
        EmulatorRun { emulator, ca, dir }
    }

    /// `snowdoctor run --instance URL --user USER --ca-cert CA` with the emulator's password, unrun.
    pub fn command(&self) -> assert_cmd::Command {
        let creds = self.emulator.credentials();
        let mut cmd = snowdoctor();
        cmd.args([
            "run",
            "--instance",
            &self.emulator.base_url(),
            "--user",
            &creds.user,
        ])
        .arg("--ca-cert")
        .arg(&self.ca)
        .env("SNOWDOCTOR_PASSWORD", creds.password.expose_secret());
        cmd
    }

    /// `command()` with `--format json ARGS…`, run to the end.
    pub fn run_json(&self, args: &[&str]) -> Finished {
        let output = self
            .command()
            .args(["--format", "json"])
            .args(args)
            .output()
            .expect("snowdoctor runs");
        Finished::from(output)
    }
}
