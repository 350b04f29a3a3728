//! `snowdoctor demo`: starts the embedded emulator on loopback and diagnoses it like any instance.
//! Secrets given through the usual environment variables replace the emulator's own (canary tests use
//! this to prove that no secret leaks into any output).

use crate::cli::DemoArgs;
use crate::config::{self, Connection, IntegrationInput, RunConfig};
use crate::emulator::{Emulator, EmulatorOptions, SecretOverrides};
use crate::error::{Error, Result};
use crate::secrets::SecretRegistry;

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<u8> {
    let secrets = SecretRegistry::new();
    let env_secret = |name: &str| {
        config::read_secret(
            &config::SecretSource {
                what: name,
                file: None,
                env: name,
                prompt: false,
                required_env: false,
            },
            &secrets,
        )
    };
    let overrides = SecretOverrides {
        admin_password: env_secret("SNOWDOCTOR_PASSWORD")?,
        integration_password: env_secret("SNOWDOCTOR_INTEGRATION_PASSWORD")?,
        client_secret: env_secret("SNOWDOCTOR_CLIENT_SECRET")?,
    };
    let scenario = scenario_for(&args);
    let emulator = Emulator::start(EmulatorOptions {
        scenario: scenario.clone(),
        latency: std::time::Duration::from_millis(args.latency_ms),
        secrets: overrides,
        ..EmulatorOptions::default()
    })
    .await
    .map_err(|e| Error::Usage(format!("cannot start the demo emulator: {e}")))?;
    let credentials = emulator.credentials();
    for secret in [
        &credentials.password,
        &credentials.integration_password,
        &credentials.client_secret,
    ] {
        secrets.register(secret);
    }
    let mut integration: IntegrationInput = IntegrationInput {
        prompt: false,
        ..args.integration.input()
    };
    // A scenario built for another integration is diagnosed with that integration's profile: the
    // default profile would call a broken Azure Pipelines instance ready.
    if integration.profile.is_none() {
        integration.profile = profile_of_scenario(&scenario);
    }
    integration
        .client_id
        .get_or_insert(credentials.client_id.clone());
    let file = config::explicit_config_file(integration.config.as_deref())?;
    let (mut settings, mut run_credentials) =
        config::integration_settings(&integration, &file, &secrets)?;
    let mut notes = vec![format!(
        "demo: diagnosing the embedded emulator, scenario {:?} (not a real instance)",
        scenario
    )];
    // The emulator knows only its own entity and user: a name from a profile or config file is
    // replaced, and the report says so instead of pretending it came from a flag.
    let profile = &mut settings.profile;
    // a scenario seeded with the integration's own names (the Copilot connectors' "Microsoft Search")
    // leaves the profile's names as they are
    if integration.oauth_entity.is_none()
        && profile.oauth_entity.as_deref() != Some(credentials.oauth_entity.as_str())
    {
        let previous = profile
            .oauth_entity
            .replace(credentials.oauth_entity.clone());
        profile.oauth_entity_origin = "the demo emulator's entity".into();
        notes.extend(replaced(
            "OAuth entity",
            previous,
            &credentials.oauth_entity,
        ));
    }
    if integration.integration_user.is_none()
        && profile.integration_user.as_deref() != Some(credentials.integration_user.as_str())
    {
        let previous = profile
            .integration_user
            .replace(credentials.integration_user.clone());
        notes.extend(replaced(
            "integration user",
            previous,
            &credentials.integration_user,
        ));
    }
    if settings.service_tags.is_none() && !names_service_tags(&settings) {
        // the small sample keeps the default demo fast; a profile naming service tags (ActionGroup,
        // AzureDevOps, AzureConnectors) is judged against the embedded snapshot of its cloud, which
        // holds them
        settings.service_tags = Some(crate::azure::SAMPLE_SERVICE_TAGS.into());
    }
    run_credentials
        .integration_password
        .get_or_insert(credentials.integration_password.clone());
    run_credentials
        .client_secret
        .get_or_insert(credentials.client_secret.clone());
    settings.has_client_secret = true;
    settings.has_integration_password = true;
    let connection = Connection {
        instance: emulator.base_url(),
        user: credentials.user.clone(),
        password: credentials.password.clone(),
        ca_cert_pem: emulator.ca_pem().map(String::into_bytes),
        insecure: false,
        allow_http: false,
        connect_timeout: std::time::Duration::from_secs(5),
        request_timeout: std::time::Duration::from_secs(15),
    };
    let config = RunConfig {
        connection,
        settings,
        credentials: run_credentials,
        selection: args.selection.selection(),
        secrets,
    };
    let code = super::run::diagnose(config, &args.output, notes).await;
    emulator.stop();
    code
}

/// The built-in profile a scenario was written for: the longest profile name that is the scenario's
/// name or its prefix before a `-` (`azure-pipelines-change-role-missing` → `azure-pipelines-change`).
fn profile_of_scenario(scenario: &str) -> Option<String> {
    crate::profile::Profile::builtin()
        .into_iter()
        .map(|p| p.name)
        .filter(|name| {
            scenario == name
                || scenario
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(String::len)
}

/// True when the ranges `ip-allowlist` judges include service tags (from `--service-tag` or the
/// profile's source ranges for the run's cloud).
fn names_service_tags(settings: &config::Settings) -> bool {
    !settings.service_tag_selection.is_empty()
        || settings
            .profile
            .source_ranges_for(settings.cloud)
            .is_some_and(|r| !r.service_tags.is_empty())
}

/// The scenario to serve: `--scenario`, else the profile's healthy scenario (a scenario named after the
/// profile), else `healthy`.
fn scenario_for(args: &DemoArgs) -> String {
    if let Some(scenario) = &args.scenario {
        return scenario.clone();
    }
    let names = crate::emulator::scenarios();
    args.integration
        .profile
        .as_ref()
        .filter(|profile| names.iter().any(|s| &s.name == *profile))
        .cloned()
        .unwrap_or_else(|| "healthy".into())
}

/// A note when the demo replaces a name the profile gave with the emulator's own.
fn replaced(what: &str, previous: Option<String>, used: &str) -> Option<String> {
    previous.filter(|p| p != used).map(|p| {
        format!("demo: the profile names the {what} {p:?}; the emulator's {used:?} is used instead")
    })
}
