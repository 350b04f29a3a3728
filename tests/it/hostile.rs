//! Bad input and hostile servers, through the real binary: every misbehaviour gets a clear, specific
//! finding and exit 3 (the instance could not be assessed), never a panic or a hang, and the JSON on
//! stdout still parses. The secret canaries at the end prove no password, client secret, token or Basic
//! credential reaches stdout, stderr, any report or the support bundle, at any verbosity.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::support::canary::{self, Canary};
use crate::support::hostile_server::{
    HostileServer, Reply, Request, UntrustedTlsServer, envelope, html, http, json,
};
use crate::support::{Finished, Report, snowdoctor};

const PASSWORD: &str = "canary-pw-Hostile7q2";
/// No run may take longer than this: every hostile case is bounded by the client's timeouts.
const WALL_LIMIT: Duration = Duration::from_secs(45);
const SYS_ID: &str = "6816f79cc0a8016401c5a33be04be441";

/// `snowdoctor run` against `url` as admin with short timeouts, JSON on stdout and no proxy, unrun.
fn run_command(url: &str) -> assert_cmd::Command {
    let mut cmd = snowdoctor();
    cmd.args([
        "run",
        "--instance",
        url,
        "--user",
        "admin",
        "--format",
        "json",
    ])
    .args(["--connect-timeout", "2", "--request-timeout", "2"])
    .env("SNOWDOCTOR_PASSWORD", PASSWORD);
    without_proxy(&mut cmd);
    cmd
}

/// Runs `cmd` to the end; returns the run and its wall time.
fn timed(mut cmd: assert_cmd::Command) -> (Finished, Duration) {
    let started = Instant::now();
    let out = Finished::from(cmd.output().expect("snowdoctor runs"));
    (out, started.elapsed())
}

/// `snowdoctor run` against `url` with short timeouts; returns the run and its wall time.
fn run_against(url: &str, extra: &[&str]) -> (Finished, Duration) {
    let mut cmd = run_command(url);
    cmd.arg("--no-progress").args(extra);
    timed(cmd)
}

/// Loopback only: no proxy from the environment may stand between the client and the test server.
fn without_proxy(cmd: &mut assert_cmd::Command) {
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
}

/// No panic, no hang, parseable JSON.
fn sane(out: &Finished, elapsed: Duration) -> Report {
    assert!(
        !out.stderr.contains("panicked"),
        "the binary panicked:\n{}",
        out.stderr
    );
    assert!(
        elapsed < WALL_LIMIT,
        "the run took {elapsed:?} (limit {WALL_LIMIT:?}):\n{}",
        out.stderr
    );
    out.report()
}

/// Exit 3, `check` failed, and its summary names the problem (every needle, case-insensitively).
fn not_assessed(out: &Finished, elapsed: Duration, check: &str, needles: &[&str]) -> Report {
    let report = sane(out, elapsed);
    report.assert_status(check, "fail");
    let summary = report.summary(check).to_lowercase();
    for needle in needles {
        assert!(
            summary.contains(&needle.to_lowercase()),
            "{check}: summary {summary:?} lacks {needle:?}"
        );
    }
    assert_eq!(out.code, 3, "exit code; stderr:\n{}", out.stderr);
    report
}

/// The check carries this finding code (the catalogue's `check/code`).
fn assert_code(report: &Report, check: &str, code: &str) {
    let codes = report.check(check)["codes"].to_string();
    assert!(
        codes.contains(&format!("\"{code}\"")),
        "{check}: codes {codes}, want {code}"
    );
}

/// A well-behaved instance: anonymous requests get the 401 envelope, the account reads its own record.
fn healthy(request: &Request) -> Reply {
    if !request.authenticated() {
        return envelope(
            401,
            "User Not Authenticated",
            "Required to provide Auth information",
        );
    }
    if request
        .target
        .starts_with("/api/now/table/sys_user_has_role")
    {
        json(200, r#"{"result":[{"role.name":"admin","role":"admin"}]}"#)
    } else if request.target.starts_with("/api/now/table/sys_user") {
        json(
            200,
            &format!(r#"{{"result":[{{"sys_id":"{SYS_ID}","user_name":"admin"}}]}}"#),
        )
    } else {
        json(200, r#"{"result":[]}"#)
    }
}

fn probes(server: &HostileServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.is_reachability_probe())
        .count()
}

#[test]
fn html_where_json_was_expected_is_told_apart() {
    let cases = [
        (
            "<!DOCTYPE html><html><head><title>Log in | Contoso SSO</title></head><body><form>Sign in</form></body></html>",
            &["interstitial", "Contoso SSO"][..],
        ),
        (
            "<html><head><title>Instance Hibernating page</title></head><body>Your instance is hibernating.</body></html>",
            &["hibernating"][..],
        ),
    ];
    for (page, needles) in cases {
        let server = HostileServer::start(move |_, _| html(200, page));
        let (out, elapsed) = run_against(&server.url(), &[]);
        let report = not_assessed(&out, elapsed, "connectivity", needles);
        report.assert_status("diagnosing-account", "blocked");
        // The identity read leaves with the probe (one round trip fewer on a healthy instance); once
        // it meets HTML nothing else carries the credential.
        assert!(
            server
                .requests()
                .iter()
                .filter(|r| r.authenticated())
                .count()
                <= 1,
            "no credential is sent to an HTML page beyond the identity read"
        );
    }
}

#[test]
fn an_html_403_is_an_ip_block() {
    let server = HostileServer::start(|_, _| {
        html(
            403,
            "<html><head><title>Access denied</title></head><body>Your IP is not allowed</body></html>",
        )
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    let report = not_assessed(
        &out,
        elapsed,
        "connectivity",
        &["IP Address Access Control"],
    );
    assert!(report.remediation("connectivity").contains("Allow rule"));
}

#[test]
fn a_401_envelope_for_the_account_is_authentication_failed() {
    let server = HostileServer::start(|_, _| {
        envelope(
            401,
            "User Not Authenticated",
            "Required to provide Auth information",
        )
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    let report = not_assessed(
        &out,
        elapsed,
        "diagnosing-account",
        &["authentication failed", "401"],
    );
    report.assert_status("connectivity", "pass");
    assert_eq!(report.root_causes(), vec!["diagnosing-account".to_string()]);
    // A 401 is final: not retried.
    let authenticated = server
        .requests()
        .iter()
        .filter(|r| r.authenticated())
        .count();
    assert!(authenticated <= 2, "{authenticated} authenticated requests");
}

#[test]
fn a_403_envelope_for_the_account_cannot_be_assessed() {
    let server = HostileServer::start(|request, _| {
        if request.authenticated() {
            envelope(
                403,
                "Operation Failed",
                "ACL Exception: read of sys_user denied",
            )
        } else {
            envelope(401, "User Not Authenticated", "Required")
        }
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    not_assessed(&out, elapsed, "diagnosing-account", &["access denied"]);
}

#[test]
fn a_short_retry_after_is_honoured_and_the_read_succeeds() {
    // The first anonymous probe and the first authenticated read are rate-limited for one second.
    let probes_seen = AtomicUsize::new(0);
    let reads_seen = AtomicUsize::new(0);
    let server = HostileServer::start(move |request, _| {
        let counter = if request.authenticated() {
            &reads_seen
        } else {
            &probes_seen
        };
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            http(
                429,
                "application/json",
                &[("Retry-After", "1")],
                r#"{"error":{"message":"Rate limit exceeded"},"status":"failure"}"#,
            )
        } else {
            healthy(request)
        }
    });
    let (out, elapsed) = run_against(&server.url(), &["--only", "diagnosing-account"]);
    let report = sane(&out, elapsed);
    report.assert_status("connectivity", "pass");
    report.assert_status("diagnosing-account", "pass");
    assert_eq!(probes(&server), 2, "one retry of the probe");
    let identity_reads = server
        .requests()
        .iter()
        .filter(|r| r.authenticated() && r.target.starts_with("/api/now/table/sys_user_has_role"))
        .count();
    assert_eq!(identity_reads, 2, "one retry of the identity read");
    // The probe and the identity read wait side by side (they leave together).
    assert!(
        elapsed >= Duration::from_secs(1),
        "the Retry-After: 1 waits were honoured ({elapsed:?})"
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_long_retry_after_is_not_waited_for() {
    let server = HostileServer::start(|_, _| {
        http(
            429,
            "application/json",
            &[("Retry-After", "3600")],
            r#"{"error":{"message":"Rate limit exceeded"},"status":"failure"}"#,
        )
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    assert!(elapsed < Duration::from_secs(30), "waited {elapsed:?}");
    let report = not_assessed(&out, elapsed, "connectivity", &["429"]);
    assert_code(&report, "connectivity", "connectivity/throttled");
    assert_eq!(
        probes(&server),
        1,
        "an hour-long Retry-After is not retried"
    );
}

#[test]
fn server_errors_are_server_errors_whatever_the_body() {
    let cases: [(u16, &str, &str); 4] = [
        (
            500,
            "application/json",
            r#"{"error":{"message":"Internal error","detail":"NullPointerException"},"status":"failure"}"#,
        ),
        (
            502,
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body><center>nginx reverse proxy</center></body></html>",
        ),
        (
            503,
            "text/html",
            "<html><head><title>503 Service Unavailable</title></head><body>Please sign in later</body></html>",
        ),
        (503, "application/json", r#"{"status":"failure"}"#),
    ];
    for (status, mime, body) in cases {
        let server = HostileServer::start(move |_, _| http(status, mime, &[], body));
        let (out, elapsed) = run_against(&server.url(), &[]);
        let report = not_assessed(
            &out,
            elapsed,
            "connectivity",
            &["server error", &status.to_string()],
        );
        let summary = report.summary("connectivity");
        assert!(
            !summary.contains("interstitial"),
            "{status} {mime}: a proxy error page is not a login interstitial: {summary}"
        );
        let n = probes(&server);
        assert!((2..=3).contains(&n), "{status}: bounded retries, got {n}");
    }
}

#[test]
fn a_truncated_body_is_reported_as_cut_off() {
    let server = HostileServer::start(|_, _| {
        Reply::Raw(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"error\":{\"mess"
                .to_vec(),
        )
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    not_assessed(&out, elapsed, "connectivity", &["cut off"]);
}

#[test]
fn a_connection_reset_and_garbage_are_unreachable() {
    let reset = HostileServer::start(|_, _| Reply::Reset);
    let (out, elapsed) = run_against(&reset.url(), &[]);
    not_assessed(&out, elapsed, "connectivity", &["cannot reach"]);

    let garbage = HostileServer::start(|_, _| {
        Reply::Raw(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02 not http at all\r\n\r\n".to_vec())
    });
    let (out, elapsed) = run_against(&garbage.url(), &[]);
    not_assessed(&out, elapsed, "connectivity", &["does not speak http"]);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = HostileServer::start(|_, _| Reply::Silent);
    let (out, elapsed) = run_against(&server.url(), &[]);
    let report = not_assessed(&out, elapsed, "connectivity", &["timed out"]);
    assert_code(&report, "connectivity", "connectivity/timeout");
    assert!(probes(&server) <= 3, "bounded retries: {}", probes(&server));
}

#[test]
fn a_trickling_server_times_out() {
    // One byte every 50 ms: the whole answer would take seconds longer than --request-timeout 2.
    let server = HostileServer::start(|_, _| {
        let body = "{\"error\":{\"message\":\"User Not Authenticated\"},\"status\":\"failure\"}";
        Reply::Trickle {
            bytes: format!(
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
            every: Duration::from_millis(50),
        }
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    not_assessed(&out, elapsed, "connectivity", &["timed out"]);
}

#[test]
fn json_that_is_not_a_table_api_answer_is_not_a_pass() {
    for body in [
        "{\"result\":[{\"sys_id\":",
        "[1,2,3]",
        "{\"result\":42}",
        "\"just a string\"",
        "{\"result\":[]} Transaction cancelled: maximum execution time exceeded",
    ] {
        // Anonymously the instance looks fine; as the account, everything is garbage.
        let server = HostileServer::start(move |request, _| {
            if request.authenticated() {
                json(200, body)
            } else {
                envelope(401, "User Not Authenticated", "Required")
            }
        });
        let (out, elapsed) = run_against(&server.url(), &[]);
        let report = sane(&out, elapsed);
        report.assert_status("connectivity", "pass");
        report.assert_status("diagnosing-account", "fail");
        assert_eq!(out.code, 3, "{body}: {}", out.stderr);

        // The same garbage answered to the anonymous probe is no reachable REST API either.
        let server = HostileServer::start(move |_, _| json(200, body));
        let (out, elapsed) = run_against(&server.url(), &[]);
        let report = sane(&out, elapsed);
        report.assert_status("connectivity", "fail");
        assert_eq!(out.code, 3, "{body}: {}", out.stderr);
    }
}

#[test]
fn a_cancelled_transaction_is_named() {
    let server = HostileServer::start(|_, _| {
        http(
            200,
            "application/json",
            &[],
            "Transaction cancelled: maximum execution time exceeded",
        )
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    not_assessed(
        &out,
        elapsed,
        "connectivity",
        &["cancelled the transaction"],
    );
}

#[test]
fn a_gigantic_body_is_refused_without_running_out_of_memory() {
    let server = HostileServer::start(|_, _| Reply::Huge {
        head: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"result\":[",
            48 * 1024 * 1024
        ),
        total: 48 * 1024 * 1024,
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    not_assessed(&out, elapsed, "connectivity", &["larger than"]);
    assert!(
        out.stdout.len() < 1024 * 1024,
        "the body is not copied into the report"
    );
}

#[test]
fn a_redirect_to_another_host_forwards_no_credentials() {
    let target = HostileServer::start(|_, _| json(200, r#"{"result":[]}"#));
    let location = format!("http://localhost:{}/steal", target.port());
    // Anonymous probe redirected: connectivity names the redirect.
    let probe_location = location.clone();
    let server = HostileServer::start(move |_, _| {
        http(302, "text/html", &[("Location", &probe_location)], "")
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    not_assessed(&out, elapsed, "connectivity", &["redirects to", "/steal"]);

    // Authenticated reads redirected: the account's check fails, and nothing reaches the target.
    let server = HostileServer::start(move |request, _| {
        if request.authenticated() {
            http(302, "text/html", &[("Location", &location)], "")
        } else {
            envelope(401, "User Not Authenticated", "Required")
        }
    });
    let (out, elapsed) = run_against(&server.url(), &[]);
    not_assessed(
        &out,
        elapsed,
        "diagnosing-account",
        &["redirected to another host"],
    );
    assert!(
        target.requests().iter().all(|r| !r.authenticated()),
        "an Authorization header reached the redirect target"
    );
    assert!(target.requests().is_empty(), "redirects are not followed");
}

#[test]
fn an_untrusted_certificate_is_a_tls_failure() {
    let server = UntrustedTlsServer::start();
    let (out, elapsed) = run_against(&server.url(), &[]);
    let report = not_assessed(&out, elapsed, "connectivity", &["tls"]);
    assert_code(&report, "connectivity", "connectivity/tls");
}

#[test]
fn malformed_instance_urls_never_panic() {
    for url in [
        "",
        " ",
        "https://",
        "http://[::1",
        "https://acme.service-now.com:99999",
        "https://acme.service-now.com#frag",
        "javascript:alert(1)",
        "https://ac me.service-now.com",
    ] {
        let (out, elapsed) = run_against(url, &[]);
        assert!(!out.stderr.contains("panicked"), "{url:?}: {}", out.stderr);
        assert!(elapsed < WALL_LIMIT);
        assert_eq!(out.code, 2, "{url:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("instance"),
            "{url:?}: unclear error {}",
            out.stderr
        );
        assert!(!out.stderr.contains(PASSWORD));
    }
}

// ---- secret canaries ---------------------------------------------------------------------------------

const CLIENT_SECRET: &str = "canary-cs-Hostile9x4";
const INTEGRATION_PASSWORD: &str = "canary-ip-Hostile3k8";
const REFRESH_TOKEN: &str = "canary-rt-Hostile5m1";

/// Every form a canary could take in output.
fn canary_forms() -> Vec<String> {
    canary::forms(&[
        Canary {
            user: Some("admin"),
            secret: PASSWORD,
        },
        Canary {
            user: Some("canary-client-id"),
            secret: CLIENT_SECRET,
        },
        Canary {
            user: None,
            secret: INTEGRATION_PASSWORD,
        },
        Canary {
            user: None,
            secret: REFRESH_TOKEN,
        },
    ])
}

fn assert_clean(place: &str, text: &str) {
    canary::assert_clean(place, text, &canary_forms());
}

/// A server that echoes the Authorization header, the decoded password and the request body back in its
/// bodies, a `Set-Cookie` and a custom header.
fn echoing(request: &Request) -> Reply {
    let authorization = request.header("authorization").unwrap_or("").to_string();
    let decoded = authorization
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let echo = format!("{authorization} {decoded} {}", request.body);
    let body = if !request.authenticated() {
        serde_json::json!({"error": {"message": "User Not Authenticated", "detail": echo}, "status": "failure"})
    } else if request
        .target
        .starts_with("/api/now/table/sys_user_has_role")
    {
        serde_json::json!({"result": [{"role.name": "admin", "note": echo}]})
    } else if request.target.starts_with("/api/now/table/sys_user") {
        serde_json::json!({"result": [{"sys_id": SYS_ID, "user_name": "admin", "title": echo}]})
    } else {
        serde_json::json!({"result": [], "echo": echo})
    };
    let status = if request.authenticated() { 200 } else { 401 };
    let cookie = format!("JSESSIONID={}; Path=/", echo.replace([' ', ';'], "_"));
    http(
        status,
        "application/json",
        &[
            ("Set-Cookie", &cookie),
            ("X-Echo", &echo.replace(['\r', '\n'], " ")),
        ],
        &body.to_string(),
    )
}

/// A server that redirects to a URL carrying the password and the Basic credential.
fn leaky_redirect(request: &Request) -> Reply {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"));
    let location = format!(
        "http://localhost:1/login.do?user_password={PASSWORD}&next={PASSWORD}&auth={basic}&p=%2F{}",
        request.target.len()
    );
    http(
        302,
        "text/html",
        &[("Location", &location)],
        &format!("<html><head><title>Moved {PASSWORD}</title></head></html>"),
    )
}

/// Runs at -vvv with every report and a bundle; returns (run, every written text by name).
fn run_with_every_output(url: &str) -> (Finished, Vec<(String, String)>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = run_command(url);
    cmd.arg("-vvv")
        .args(["--client-id", "canary-client-id"])
        .env("SNOWDOCTOR_CLIENT_SECRET", CLIENT_SECRET)
        .env("SNOWDOCTOR_INTEGRATION_PASSWORD", INTEGRATION_PASSWORD)
        .env("SNOWDOCTOR_REFRESH_TOKEN", REFRESH_TOKEN);
    for format in ["json", "html", "har", "md", "junit", "sarif"] {
        cmd.arg("--report")
            .arg(format!("{format}={}", dir.path().join(format).display()));
    }
    cmd.arg("--bundle").arg(dir.path().join("bundle.zip"));
    let (out, took) = timed(cmd);
    sane(&out, took);
    let mut files = Vec::new();
    for format in ["json", "html", "har", "md", "junit", "sarif"] {
        let text = std::fs::read_to_string(dir.path().join(format)).unwrap_or_else(|e| {
            panic!(
                "the {format} report was not written ({e}); stderr:\n{}",
                out.stderr
            )
        });
        files.push((format.to_string(), text));
    }
    let zip_file = std::fs::File::open(dir.path().join("bundle.zip"))
        .unwrap_or_else(|e| panic!("no bundle ({e}); stderr:\n{}", out.stderr));
    let mut archive = zip::ZipArchive::new(zip_file).expect("bundle is a zip");
    assert!(archive.len() >= 3, "bundle has {} entries", archive.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("zip entry");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read zip entry");
        files.push((
            format!(
                "bundle:{}",
                entry.name().map(|n| n.into_owned()).unwrap_or_default()
            ),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    (out, files)
}

#[test]
fn canaries_never_leak_from_an_echoing_server() {
    let server = HostileServer::start(|request, _| echoing(request));
    let (out, files) = run_with_every_output(&server.url());
    // The server did echo the credential: the test would prove nothing otherwise.
    assert!(
        server.requests().iter().any(|r| r.authenticated()),
        "the account signed in"
    );
    assert_clean("stdout", &out.stdout);
    assert_clean("stderr", &out.stderr);
    for (name, text) in &files {
        assert_clean(name, text);
    }
    let har = &files.iter().find(|(n, _)| n == "har").expect("har").1;
    assert!(
        har.contains("[REDACTED]"),
        "the echoed credential is redacted, not dropped silently"
    );
    out.report().assert_status("diagnosing-account", "pass");
}

#[test]
fn canaries_never_leak_from_a_redirect_location() {
    let server = HostileServer::start(|request, _| leaky_redirect(request));
    let (out, files) = run_with_every_output(&server.url());
    assert_clean("stdout", &out.stdout);
    assert_clean("stderr", &out.stderr);
    for (name, text) in &files {
        assert_clean(name, text);
    }
    let report = out.report();
    report.assert_status("connectivity", "fail");
    assert!(report.summary("connectivity").contains("login.do"));
    assert_eq!(out.code, 3, "{}", out.stderr);
}

/// A fleet of two echoing servers: each target redacts with a registry of its own, the fleet's outputs
/// are scanned for every target's secrets, and no canary reaches any of them, at -vvv.
#[test]
fn canaries_never_leak_from_a_fleet_of_echoing_servers() {
    let first = HostileServer::start(|request, _| echoing(request));
    let second = HostileServer::start(|request, _| echoing(request));
    let dir = tempfile::tempdir().expect("tempdir");
    let target = |name: &str, url: &str| {
        format!(
            "[[target]]\nname = \"{name}\"\ninstance = \"{url}\"\nuser = \"admin\"\nclient_id = \"canary-client-id\"\n\
             password_env = \"HOSTILE_PASSWORD\"\nintegration_password_env = \"HOSTILE_INTEGRATION_PASSWORD\"\n\
             client_secret_env = \"HOSTILE_CLIENT_SECRET\"\nrefresh_token_env = \"HOSTILE_REFRESH_TOKEN\"\n\n"
        )
    };
    let file = dir.path().join("targets.toml");
    std::fs::write(
        &file,
        target("first", &first.url()) + &target("second", &second.url()),
    )
    .expect("write targets");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).expect("out dir");
    let mut cmd = snowdoctor();
    cmd.arg("run")
        .arg("--targets")
        .arg(&file)
        .args(["-vvv", "--format", "json"])
        .args(["--connect-timeout", "2", "--request-timeout", "2"])
        .arg("--report")
        .arg(format!("junit={}", out_dir.join("fleet.xml").display()))
        .arg("--report")
        .arg(format!("md={}", out_dir.join("fleet.md").display()))
        .arg("--report-dir")
        .arg(out_dir.join("targets"))
        .env("HOSTILE_PASSWORD", PASSWORD)
        .env("HOSTILE_INTEGRATION_PASSWORD", INTEGRATION_PASSWORD)
        .env("HOSTILE_CLIENT_SECRET", CLIENT_SECRET)
        .env("HOSTILE_REFRESH_TOKEN", REFRESH_TOKEN);
    without_proxy(&mut cmd);
    let (out, took) = timed(cmd);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(took < WALL_LIMIT, "the fleet took {took:?}");
    for server in [&first, &second] {
        assert!(
            server.requests().iter().any(|r| r.authenticated()),
            "each target signed in, so each server echoed a credential"
        );
    }
    let fleet: serde_json::Value = serde_json::from_str(&out.stdout).expect("fleet JSON");
    assert_eq!(
        fleet["runs"].as_array().map(Vec::len),
        Some(2),
        "{}",
        out.stderr
    );
    assert_clean("stdout", &out.stdout);
    assert_clean("stderr", &out.stderr);
    let mut written = canary::written_texts(&out_dir);
    written.extend(canary::written_texts(&out_dir.join("targets")));
    for entry in std::fs::read_dir(out_dir.join("targets")).expect("per-target reports") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            written.extend(canary::written_texts(&path));
        }
    }
    assert!(written.len() >= 4, "reports written: {}", written.len());
    for (name, text) in &written {
        assert_clean(name, text);
    }
    assert!(
        written.iter().any(|(_, text)| text.contains("[REDACTED]")),
        "the echoed credentials are redacted, not dropped silently"
    );
}
