//! `snowdoctor config`: the effective settings and where each came from (command line, environment,
//! config file section, default). Secrets are never read here: only whether each one is set, and where.

use std::path::PathBuf;

use clap::CommandFactory;
use clap::parser::ValueSource;

use crate::cli::{Cli, ConfigArgs};
use crate::config::{self, ConfigFile, DEFAULT_PROFILE, Origin};
use crate::error::Result;
use crate::exit;

/// A connection option: its name (also its clap id), its environment variable, the value given on the
/// command line or in the environment, and the default shown when nothing sets it.
type Given = (
    &'static str,
    &'static str,
    Option<String>,
    Option<&'static str>,
);

/// One line of the output.
struct Line {
    key: &'static str,
    value: String,
    origin: String,
}

/// Runs `snowdoctor config`.
pub fn run(args: &ConfigArgs) -> Result<u8> {
    // The parsed values do not say whether they came from a flag or the environment; the matches do.
    let matches = Cli::command()
        .try_get_matches_from(std::env::args_os())
        .ok()
        .and_then(|m| m.subcommand_matches("config").cloned())
        .unwrap_or_default();
    let source = |id: &str, env: &'static str| match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => Some(Origin::Env(env).to_string()),
        Some(ValueSource::CommandLine) => Some(Origin::Flag.to_string()),
        _ => None,
    };
    let mut lines = Vec::new();

    let explicit = args.integration.config.as_deref();
    let cwd = std::env::current_dir().unwrap_or_default();
    let found = config::discover_config(explicit, &cwd, |name| std::env::var_os(name));
    let file = config::config_file(explicit)?;
    lines.push(Line {
        key: "config file",
        value: found
            .as_ref()
            .map_or_else(|| "none".to_string(), |p| p.display().to_string()),
        origin: source("config", "SNOWDOCTOR_CONFIG").unwrap_or_else(|| match &found {
            Some(path) if path.parent() == Some(cwd.as_path()) => {
                "found in the current directory".to_string()
            }
            Some(_) => "found in the user config directory".to_string(),
            None => "no --config, SNOWDOCTOR_CONFIG, ./snowdoctor.toml or \
                     $XDG_CONFIG_HOME/snowdoctor/config.toml"
                .to_string(),
        }),
    });

    let profile = args.integration.profile.clone();
    let profile_origin = source("profile", "SNOWDOCTOR_PROFILE");
    let (profile_value, profile_origin) = match (profile, profile_origin, &file) {
        (Some(p), Some(origin), _) => (p, origin),
        (
            _,
            _,
            ConfigFile {
                defaults,
                path: Some(path),
                ..
            },
        ) if defaults.profile.is_some() => (
            defaults.profile.clone().unwrap_or_default(),
            Origin::Defaults(path.clone()).to_string(),
        ),
        _ => (DEFAULT_PROFILE.to_string(), Origin::BuiltIn.to_string()),
    };
    lines.push(Line {
        key: "profile",
        value: profile_value.clone(),
        origin: profile_origin,
    });

    let from_file = file.connection_for(Some(&profile_value));
    let connection = &args.connection;
    let given: [Given; 8] = [
        (
            "instance",
            "SNOWDOCTOR_INSTANCE",
            connection.instance.clone(),
            None,
        ),
        ("user", "SNOWDOCTOR_USER", connection.user.clone(), None),
        (
            "password_file",
            "",
            path_text(&connection.password_file),
            None,
        ),
        (
            "ca_cert",
            "",
            path_text(&connection.ca_cert),
            Some("system roots"),
        ),
        (
            "insecure",
            "",
            connection.insecure.then(|| "true".into()),
            Some("false"),
        ),
        (
            "allow_http",
            "",
            connection.allow_http.then(|| "true".into()),
            Some("false"),
        ),
        (
            "connect_timeout",
            "",
            connection.connect_timeout.map(|n| n.to_string()),
            Some("10"),
        ),
        (
            "request_timeout",
            "",
            connection.request_timeout.map(|n| n.to_string()),
            Some("30"),
        ),
    ];
    for (key, env, value, default) in given {
        let line = match value {
            Some(value) => Line {
                key,
                value,
                origin: source(key, env).unwrap_or_else(|| Origin::Flag.to_string()),
            },
            None => match from_file.iter().find(|(k, _, _)| *k == key) {
                Some((_, value, origin)) => Line {
                    key,
                    value: value.clone(),
                    origin: origin.to_string(),
                },
                None => Line {
                    key,
                    value: default.unwrap_or("unset").to_string(),
                    origin: Origin::BuiltIn.to_string(),
                },
            },
        };
        lines.push(line);
    }

    let integration = &args.integration;
    for (key, id, env, value) in [
        (
            "integration_user",
            "integration_user",
            "SNOWDOCTOR_INTEGRATION_USER",
            integration.integration_user.clone(),
        ),
        (
            "oauth_entity",
            "oauth_entity",
            "SNOWDOCTOR_OAUTH_ENTITY",
            integration.oauth_entity.clone(),
        ),
        (
            "client_id",
            "client_id",
            "SNOWDOCTOR_CLIENT_ID",
            integration.client_id.clone(),
        ),
    ] {
        lines.push(match value {
            Some(value) => Line {
                key,
                value,
                origin: source(id, env).unwrap_or_else(|| Origin::Flag.to_string()),
            },
            None => Line {
                key,
                value: "unset".into(),
                origin: "from the profile or found on the instance".into(),
            },
        });
    }
    let cloud = integration
        .cloud
        .or(file.defaults.cloud)
        .unwrap_or_default();
    lines.push(match (integration.cloud, file.defaults.cloud, &file.path) {
        (Some(cloud), _, _) => Line {
            key: "cloud",
            value: cloud.as_str().into(),
            origin: source("cloud", "SNOWDOCTOR_CLOUD").unwrap_or_else(|| Origin::Flag.to_string()),
        },
        (None, Some(cloud), Some(file_path)) => Line {
            key: "cloud",
            value: cloud.as_str().into(),
            origin: Origin::Defaults(file_path.clone()).to_string(),
        },
        _ => Line {
            key: "cloud",
            value: cloud.as_str().into(),
            origin: Origin::BuiltIn.to_string(),
        },
    });
    lines.push(
        match (
            &integration.service_tags,
            &file.defaults.service_tags,
            &file.path,
        ) {
            (Some(path), _, _) => Line {
                key: "service_tags",
                value: path.display().to_string(),
                origin: source("service_tags", "SNOWDOCTOR_SERVICE_TAGS")
                    .unwrap_or_else(|| Origin::Flag.to_string()),
            },
            (None, Some(path), Some(file_path)) => Line {
                key: "service_tags",
                value: path.display().to_string(),
                origin: Origin::Defaults(file_path.clone()).to_string(),
            },
            _ => Line {
                key: "service_tags",
                value: cloud.builtin_service_tags().into(),
                origin: "default: the embedded snapshot of the cloud".into(),
            },
        },
    );

    let password_file = connection.password_file.clone().or_else(|| {
        from_file
            .iter()
            .find(|(k, _, _)| *k == "password_file")
            .map(|(_, v, _)| PathBuf::from(v))
    });
    lines.push(secret_line(
        "password",
        &password_file,
        "SNOWDOCTOR_PASSWORD",
        true,
    ));
    lines.push(secret_line(
        "integration_password",
        &integration.integration_password_file,
        "SNOWDOCTOR_INTEGRATION_PASSWORD",
        true,
    ));
    lines.push(secret_line(
        "client_secret",
        &integration.client_secret_file,
        "SNOWDOCTOR_CLIENT_SECRET",
        true,
    ));
    lines.push(secret_line(
        "refresh_token",
        &integration.refresh_token_file,
        "SNOWDOCTOR_REFRESH_TOKEN",
        false,
    ));

    let width = lines.iter().map(|l| l.key.len()).max().unwrap_or(0);
    let value_width = lines
        .iter()
        .map(|l| l.value.chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    let mut out = String::new();
    for line in &lines {
        out.push_str(&format!(
            "{:width$}  {:value_width$}  ({})\n",
            line.key, line.value, line.origin
        ));
    }
    super::print_stdout(&out);
    Ok(exit::OK)
}

fn path_text(path: &Option<PathBuf>) -> Option<String> {
    path.as_ref().map(|p| p.display().to_string())
}

/// Whether a secret is set and where, without reading it.
fn secret_line(
    key: &'static str,
    file: &Option<PathBuf>,
    env: &'static str,
    prompted: bool,
) -> Line {
    let (value, origin) = if let Some(path) = file {
        ("set", format!("file {}", path.display()))
    } else if std::env::var_os(env).is_some_and(|v| !v.is_empty()) {
        ("set", Origin::Env(env).to_string())
    } else if prompted {
        ("unset", "asked for on a terminal".to_string())
    } else {
        ("unset", "optional".to_string())
    };
    Line {
        key,
        value: value.into(),
        origin,
    }
}
