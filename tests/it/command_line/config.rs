//! Config discovery (`--config`, `SNOWDOCTOR_CONFIG`, `./snowdoctor.toml`, the user config directory),
//! connection options in `[defaults]` and per profile, and `snowdoctor config`.

use secrecy::ExposeSecret;

use crate::support::{EmulatorRun, Finished, snowdoctor, write};

/// `snowdoctor run --format json --only connectivity,diagnosing-account` in `cwd`, with nothing but
/// the password given: everything else must come from the discovered config file.
fn run_in(cwd: &std::path::Path, run: &EmulatorRun, xdg: Option<&std::path::Path>) -> Finished {
    let mut cmd = snowdoctor();
    cmd.current_dir(cwd)
        .args(["run", "--format", "json", "--only", "diagnosing-account"])
        .env(
            "SNOWDOCTOR_PASSWORD",
            run.emulator.credentials().password.expose_secret(),
        );
    if let Some(xdg) = xdg {
        cmd.env("XDG_CONFIG_HOME", xdg);
    }
    Finished::from(cmd.output().expect("runs"))
}

#[test]
fn a_local_snowdoctor_toml_gives_instance_user_and_ca_cert() {
    let run = EmulatorRun::start("healthy");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&run.ca, dir.path().join("corp-ca.pem")).expect("copy CA");
    write(
        dir.path(),
        "snowdoctor.toml",
        &format!(
            "[defaults]\ninstance = \"{}\"\nuser = \"{}\"\nca_cert = \"corp-ca.pem\"\nconnect_timeout = 5\n",
            run.emulator.base_url(),
            run.emulator.credentials().user
        ),
    );
    let out = run_in(dir.path(), &run, None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.report().assert_status("diagnosing-account", "pass");
}

#[test]
fn the_user_config_directory_and_a_profile_connection_section() {
    let run = EmulatorRun::start("healthy");
    let xdg = tempfile::tempdir().expect("tempdir");
    let config_dir = xdg.path().join("snowdoctor");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    std::fs::copy(&run.ca, config_dir.join("ca.pem")).expect("copy CA");
    write(
        &config_dir,
        "config.toml",
        &format!(
            "[defaults]\nprofile = \"lab\"\ninstance = \"https://wrong.invalid\"\n\n\
             [profiles.lab]\ndescription = \"the lab instance\"\n\n\
             [profiles.lab.connection]\ninstance = \"{}\"\nuser = \"{}\"\nca_cert = \"ca.pem\"\n",
            run.emulator.base_url(),
            run.emulator.credentials().user
        ),
    );
    let cwd = tempfile::tempdir().expect("tempdir");
    let out = run_in(cwd.path(), &run, Some(xdg.path()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.report().assert_status("diagnosing-account", "pass");

    // `snowdoctor config` says where each setting came from, and only whether the password is set.
    let password = run
        .emulator
        .credentials()
        .password
        .expose_secret()
        .to_string();
    let shown = Finished::from(
        snowdoctor()
            .current_dir(cwd.path())
            .arg("config")
            .args(["--request-timeout", "7"])
            .env("XDG_CONFIG_HOME", xdg.path())
            .env("SNOWDOCTOR_PASSWORD", &password)
            .env("SNOWDOCTOR_USER", "someone.else")
            .output()
            .expect("runs"),
    );
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let line = |key: &str| {
        shown
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} line:\n{}", shown.stdout))
            .to_string()
    };
    assert!(line("config file").contains("found in the user config directory"));
    assert!(line("profile").contains("[defaults]"), "{}", shown.stdout);
    assert!(
        line("instance").contains("[profiles.lab.connection]"),
        "{}",
        shown.stdout
    );
    assert!(line("user").contains("environment (SNOWDOCTOR_USER)"));
    assert!(
        line("request_timeout").contains("7") && line("request_timeout").contains("command line")
    );
    assert!(line("connect_timeout").contains("10") && line("connect_timeout").contains("default"));
    assert!(
        line("ca_cert").contains("snowdoctor/ca.pem"),
        "{}",
        shown.stdout
    );
    assert!(line("password").contains("set") && line("password").contains("SNOWDOCTOR_PASSWORD"));
    assert!(!shown.stdout.contains(&password));
}

#[test]
fn explicit_config_beats_a_local_file_and_unknown_keys_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "snowdoctor.toml", "[defaults]\nbogus = 1\n");
    let out = Finished::from(
        snowdoctor()
            .current_dir(dir.path())
            .args(["config"])
            .output()
            .expect("runs"),
    );
    assert_eq!(
        out.code, 2,
        "a discovered file is validated: {}",
        out.stdout
    );
    assert!(out.stderr.contains("snowdoctor.toml:2"), "{}", out.stderr);
    let other = write(dir.path(), "other.toml", "[defaults]\nuser = \"x\"\n");
    let out = Finished::from(
        snowdoctor()
            .current_dir(dir.path())
            .arg("config")
            .env("SNOWDOCTOR_CONFIG", &other)
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("environment (SNOWDOCTOR_CONFIG)"),
        "{}",
        out.stdout
    );
}

#[test]
fn demo_with_a_config_profile_says_whose_entity_and_user_it_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "lab.toml",
        "[defaults]\nprofile = \"lab\"\n\n[profiles.lab]\napp_scope = \"x_mioms_m365ticket\"\n\
         oauth_entity = \"Lab Connector\"\nintegration_user = \"svc.lab\"\n",
    );
    let out = Finished::from(
        snowdoctor()
            .args(["demo", "--format", "json", "--config"])
            .arg(&config)
            .output()
            .expect("runs"),
    );
    let report = out.report();
    let notes = report.0["notes"].to_string();
    assert!(
        notes.contains("the profile names the OAuth entity \\\"Lab Connector\\\"")
            && notes.contains("the profile names the integration user \\\"svc.lab\\\""),
        "{notes}"
    );
    let entity = report.summary("oauth-entity");
    assert!(entity.contains("the demo emulator's entity"), "{entity}");
    assert!(
        !entity.contains("--oauth-entity"),
        "claims a flag nobody gave: {entity}"
    );
}

#[test]
fn config_shows_the_cloud_and_the_service_tag_file_it_implies() {
    let line = |out: &Finished, key: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_default()
            .to_string()
    };
    let out = Finished::from(snowdoctor().arg("config").output().expect("runs"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(line(&out, "cloud").contains("public"), "{}", out.stdout);
    assert!(
        line(&out, "service_tags").contains("builtin:public"),
        "{}",
        out.stdout
    );

    let out = Finished::from(
        snowdoctor()
            .args(["config", "--cloud", "gov"])
            .output()
            .expect("runs"),
    );
    assert!(
        line(&out, "cloud").contains("gov") && line(&out, "cloud").contains("command line"),
        "{}",
        out.stdout
    );
    assert!(
        line(&out, "service_tags").contains("builtin:gov"),
        "{}",
        out.stdout
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "snowdoctor.toml",
        "[defaults]\ncloud = \"gov\"\n",
    );
    let out = Finished::from(
        snowdoctor()
            .arg("config")
            .arg("--config")
            .arg(&file)
            .output()
            .expect("runs"),
    );
    assert!(
        line(&out, "cloud").contains("gov") && line(&out, "cloud").contains("[defaults]"),
        "{}",
        out.stdout
    );
}
