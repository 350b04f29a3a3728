//! Secrets that come back encoded, and tokens repeated by the server, through the real binary: a
//! password the server repeats JSON-escaped in a 401 reaches no output in any encoding, and a server
//! that repeats a freshly minted token (a header, an extra field, a text/plain body) is redacted on
//! receipt instead of making the final scan withhold the reports.

use crate::support::canary::{self, Canary};
use crate::support::hostile_server::{HostileServer, Reply, Request, envelope, http, json};
use crate::support::{Finished, snowdoctor};

/// Every character that some encoding escapes: JSON (`"` `\`), HTML and XML (`&` `<` `>` `'`).
const CANARY_PASSWORD: &str = r#"Cnry"pw\1&<x>'z"#;
const MINTED_TOKEN: &str = "canary-at-Minted4z9QvX";
const FORMATS: [&str; 6] = ["json", "html", "har", "md", "junit", "sarif"];

/// `snowdoctor run` against `url` at -vvv with every report and a bundle in `dir`.
fn run_with_every_output(
    url: &str,
    dir: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Finished {
    let mut cmd = snowdoctor();
    cmd.envs(env.iter().copied());
    cmd.args([
        "run",
        "--instance",
        url,
        "--user",
        "admin",
        "--format",
        "json",
    ])
    .args(["--connect-timeout", "2", "--request-timeout", "2", "-vvv"])
    .args(["--no-progress"])
    .args(extra)
    .env("SNOWDOCTOR_PASSWORD", CANARY_PASSWORD)
    .env_remove("HTTP_PROXY")
    .env_remove("http_proxy")
    .env_remove("ALL_PROXY")
    .env_remove("all_proxy");
    for format in FORMATS {
        cmd.arg("--report")
            .arg(format!("{format}={}", dir.join(format).display()));
    }
    cmd.arg("--bundle").arg(dir.join("bundle.zip"));
    Finished::from(cmd.output().expect("snowdoctor runs"))
}

fn assert_nothing_leaked(out: &Finished, dir: &std::path::Path, canaries: &[Canary]) {
    let forms = canary::forms(canaries);
    canary::assert_clean("stdout", &out.stdout, &forms);
    canary::assert_clean("stderr", &out.stderr, &forms);
    let texts = canary::written_texts(dir);
    for format in FORMATS {
        assert!(
            texts.iter().any(|(name, _)| name == format),
            "the {format} report was withheld; stderr:\n{}",
            out.stderr
        );
    }
    assert!(
        texts
            .iter()
            .any(|(name, _)| name.starts_with("bundle.zip:")),
        "the bundle was withheld; stderr:\n{}",
        out.stderr
    );
    for (name, text) in &texts {
        canary::assert_clean(name, text, &forms);
    }
}

#[test]
fn a_password_echoed_json_escaped_in_a_401_reaches_no_output() {
    // serde_json escapes `"` and `\`: the body carries `Cnry\"pw\\1&<x>'z`, not the raw value.
    let server = HostileServer::start(|_, _| {
        envelope(
            401,
            &format!("User Not Authenticated: password {CANARY_PASSWORD} is wrong"),
            &format!("the password {CANARY_PASSWORD} was rejected"),
        )
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_with_every_output(&server.url(), dir.path(), &[], &[]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        out.code, 3,
        "authentication failed; stderr:\n{}",
        out.stderr
    );
    assert_nothing_leaked(
        &out,
        dir.path(),
        &[Canary {
            user: Some("admin"),
            secret: CANARY_PASSWORD,
        }],
    );
    let har = std::fs::read_to_string(dir.path().join("har")).expect("har");
    assert!(
        har.contains("[REDACTED]"),
        "the echo is redacted, not dropped"
    );
}

/// An instance that mints a token and then repeats it everywhere it can.
fn token_repeater(request: &Request) -> Reply {
    let target = request.target.as_str();
    if target.starts_with("/oauth_token.do") {
        let body = serde_json::json!({
            "access_token": MINTED_TOKEN,
            "refresh_token": "canary-rt-Minted7p2WqY",
            "token_type": "Bearer",
            "expires_in": 1799,
            "scope": "useraccount",
            "debug": format!("issued {MINTED_TOKEN}"),
        });
        return http(
            200,
            "application/json",
            &[("X-Issued-Token", MINTED_TOKEN)],
            &body.to_string(),
        );
    }
    if !request.authenticated() {
        return envelope(401, "User Not Authenticated", "Required");
    }
    let bearer = request
        .header("authorization")
        .is_some_and(|a| a.starts_with("Bearer"));
    if bearer {
        return http(
            200,
            "text/plain",
            &[("X-Token-Echo", MINTED_TOKEN)],
            &format!("you are using {MINTED_TOKEN}"),
        );
    }
    if target.starts_with("/api/now/table/oauth_entity") {
        return json(
            200,
            r#"{"result":[{"sys_id":"a1b2c3d4e5f60718293a4b5c6d7e8f90","name":"m365 connector","type":"client","active":"true","client_id":"canary-client-id","redirect_url":"https://portal.example/cb","access_token_lifespan":"1800","refresh_token_lifespan":"8640000","client_type":"integration","user":"","sys_scope":"global","sys_scope.scope":"global"}]}"#,
        );
    }
    if target.starts_with("/api/now/table/sys_user_has_role") {
        json(200, r#"{"result":[{"role.name":"admin","role":"admin"}]}"#)
    } else if target.starts_with("/api/now/table/sys_user") {
        json(
            200,
            r#"{"result":[{"sys_id":"6816f79cc0a8016401c5a33be04be441","user_name":"admin"}]}"#,
        )
    } else {
        json(200, r#"{"result":[]}"#)
    }
}

#[test]
fn a_server_repeating_a_minted_token_does_not_get_the_reports_withheld() {
    let server = HostileServer::start(|request, _| token_repeater(request));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_with_every_output(
        &server.url(),
        dir.path(),
        &[
            "--client-id",
            "canary-client-id",
            "--integration-user",
            "m365.integration",
            "--oauth-entity",
            "m365 connector",
        ],
        &[
            ("SNOWDOCTOR_CLIENT_SECRET", "canary-cs-Minted3k8"),
            ("SNOWDOCTOR_INTEGRATION_PASSWORD", "canary-ip-Minted5m1"),
        ],
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.target.starts_with("/oauth_token.do")),
        "a token was requested; stderr:\n{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("withheld"),
        "nothing is withheld: {}",
        out.stderr
    );
    assert_ne!(out.code, 2, "stderr:\n{}", out.stderr);
    assert_nothing_leaked(
        &out,
        dir.path(),
        &[
            Canary {
                user: None,
                secret: MINTED_TOKEN,
            },
            Canary {
                user: None,
                secret: "canary-rt-Minted7p2WqY",
            },
        ],
    );
}
