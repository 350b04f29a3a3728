//! Scenario plumbing: configuration scenarios change the right rows; plain HTTP and unknown scenarios.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use snowdoctor::emulator::{Emulator, EmulatorOptions, scenarios};

use super::{count, env, result};

#[tokio::test]
async fn configuration_scenarios_change_the_right_rows() {
    let e = env("multi-fault");
    let r = e.get("/api/now/table/sys_db_object?sysparm_query=name=oauth_entity&sysparm_display_value=all").await;
    assert_eq!(
        result(&r)[0]["access"]["display_value"],
        "This application scope only"
    );
    assert_eq!(
        count(&e, "sys_user", "user_name=m365.integration^locked_out=true").await,
        1
    );
    assert_eq!(
        count(&e, "oauth_entity", "type=client^active=false").await,
        1
    );
    let e = env("app-missing");
    assert_eq!(
        count(&e, "sys_store_app", "scope=x_mioms_m365ticket").await,
        0
    );
    assert_eq!(count(&e, "sys_scope_privilege", "").await, 0);
    let e = env("caller-restricted");
    let r = e
        .get("/api/now/table/sys_restricted_caller_access?sysparm_display_value=all")
        .await;
    assert_eq!(result(&r)[0]["status"]["display_value"], "Denied");
    let e = env("sso-auto-redirect");
    let r = e
        .get("/api/now/table/sso_properties?sysparm_query=is_primary=true")
        .await;
    assert_eq!(
        result(&r).len(),
        1,
        "child-table rows appear in the parent table"
    );
    let names: Vec<String> = scenarios().into_iter().map(|s| s.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for required in [
        "healthy",
        "old-release",
        "cross-scope-off",
        "ip-azure-allowed",
        "non-admin",
        "transaction-cancelled",
    ] {
        assert!(names.iter().any(|n| n == required), "{required}");
    }
}

#[test]
fn plain_http_and_unknown_scenarios() {
    let emu = Emulator::start_blocking(EmulatorOptions {
        tls: false,
        ..EmulatorOptions::default()
    });
    let emu = emu.expect("starts");
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert!(emu.ca_pem().is_none());
    // A request without Accept (raw, since HTTP clients add one) is refused with 400.
    let raw = |request: &str| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(emu.addr()).expect("connects");
        stream.write_all(request.as_bytes()).expect("writes");
        let mut out = String::new();
        let _ = stream.read_to_string(&mut out);
        out
    };
    let auth = STANDARD.encode("admin:Emu-Admin-2026!");
    let answer = raw(&format!(
        "GET /api/now/table/incident?sysparm_limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let answer = raw(&format!(
        "GET /api/now/table/incident?sysparm_limit=1 HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("http://x/api/now/table/incident?"),
        "links follow the Host header"
    );
    emu.stop();
    let err = Emulator::start_blocking(EmulatorOptions {
        scenario: "no-such-scenario".into(),
        ..EmulatorOptions::default()
    });
    assert!(err.is_err_and(|e| e.to_string().contains("no-such-scenario")));
}
