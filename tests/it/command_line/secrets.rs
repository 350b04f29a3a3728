//! Secrets on a terminal: every missing one is asked for (never echoed); a value that is not UTF-8 is
//! named precisely.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::tty::{Tmux, available, shell_line};
use crate::support::{EmulatorRun, Finished};

#[test]
fn every_missing_secret_is_prompted_for_on_a_terminal() {
    if !available() {
        return;
    }
    let run = EmulatorRun::start("healthy");
    let creds = run.emulator.credentials();
    let binary = assert_cmd::cargo::cargo_bin("snowdoctor");
    let args = format!(
        "run --instance {} --user {} --ca-cert {} --integration-user {} --only oauth-connect --format json --no-progress > {}",
        run.emulator.base_url(),
        creds.user,
        run.ca.display(),
        creds.integration_user,
        run.dir.path().join("out.json").display()
    );
    let tmux = Tmux::start(160, 50, &shell_line(&binary, &[], &args));
    let answers = [
        (
            "password of the diagnosing account",
            creds.password.expose_secret(),
        ),
        (
            "integration user's password",
            creds.integration_password.expose_secret(),
        ),
        ("OAuth client secret", creds.client_secret.expose_secret()),
    ];
    for (prompt, answer) in answers {
        let screen = tmux.capture_when(prompt, false, Duration::from_secs(90));
        assert!(screen.contains(prompt), "no prompt {prompt:?}:\n{screen}");
        tmux.send_line(answer);
    }
    let screen = tmux.capture_when("__END__", false, Duration::from_secs(120));
    assert!(screen.contains("__END__0"), "{screen}");
    for (_, answer) in answers {
        assert!(!screen.contains(answer), "a secret was echoed:\n{screen}");
    }
    let report = std::fs::read_to_string(run.dir.path().join("out.json")).expect("report");
    let report = Finished {
        code: 0,
        stdout: report,
        stderr: String::new(),
    }
    .report();
    report.assert_status("oauth-connect", "pass");
}

#[test]
fn a_secret_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStringExt;
    let run = EmulatorRun::start("healthy");
    let out = Finished::from(
        run.command()
            .env(
                "SNOWDOCTOR_PASSWORD",
                std::ffi::OsString::from_vec(vec![0x70, 0xff, 0x66]),
            )
            .output()
            .expect("runs"),
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("SNOWDOCTOR_PASSWORD") && out.stderr.contains("not valid UTF-8"),
        "{}",
        out.stderr
    );
}
