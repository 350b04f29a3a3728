//! Injected trouble: rate limiting and its window, IP access control, latency, faults and TCP resets.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use snowdoctor::emulator::{EmulatorOptions, Fault, FaultKind};

use super::{Env, env, env_ip, start};

#[tokio::test]
async fn rate_limiting_answers_429_with_headers() {
    let e = env("rate-limited");
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.header("X-RateLimit-Limit"), "19");
    e.emu.set_rate_limit(Some(2));
    for _ in 0..2 {
        assert_eq!(
            e.get("/api/now/table/incident?sysparm_limit=1")
                .await
                .status,
            StatusCode::OK
        );
    }
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["error"]["message"], "Rate limit exceeded");
    assert_eq!(r.header("X-RateLimit-Limit"), "2");
    assert!(r.header("X-RateLimit-Reset").parse::<u64>().is_ok());
    assert_eq!(r.header("X-RateLimit-Rule").len(), 32);
    assert!(r.header("Retry-After").parse::<u64>().is_ok_and(|s| s > 0));
}

async fn api_status(e: &Env) -> StatusCode {
    e.get("/api/now/table/incident?sysparm_limit=1")
        .await
        .status
}

#[tokio::test]
async fn ip_access_is_enforced_against_the_configured_client_address() {
    let e = env("caller-blocked");
    let req = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .header("Accept", "application/json")
        .header("X-Forwarded-For", "198.51.100.10");
    let r = e.send(req).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "headers never decide the client address"
    );
    assert!(r.header("content-type").starts_with("text/html"));
    let r = e.password_grant().await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(serde_json::from_str::<Value>(&r.text).is_err());
    assert_eq!(api_status(&env("ip-deny-all")).await, StatusCode::OK);
    assert_eq!(api_status(&env("ip-no-filtering")).await, StatusCode::OK);
    assert_eq!(
        api_status(&env_ip("ip-deny-all", "52.149.130.1")).await,
        StatusCode::FORBIDDEN
    );
    for (ip, expected) in [
        ("52.149.130.1", StatusCode::OK),
        ("20.190.130.9", StatusCode::OK),
        ("2603:1030:10::5", StatusCode::OK),
        ("2603:1006:2000:1::1", StatusCode::OK),
        ("8.8.8.8", StatusCode::FORBIDDEN),
        ("9.9.9.9", StatusCode::FORBIDDEN),
        ("2001:db8::1", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            api_status(&env_ip("ip-azure-allowed", ip)).await,
            expected,
            "{ip}"
        );
    }
    for (ip, expected) in [
        ("13.76.1.1", StatusCode::OK),
        ("40.83.1.1", StatusCode::FORBIDDEN),
        ("20.105.130.1", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            api_status(&env_ip("ip-partial-allow", ip)).await,
            expected,
            "{ip}"
        );
    }
}

#[tokio::test]
async fn latency_and_faults() {
    let e = start(EmulatorOptions {
        latency: Duration::from_millis(150),
        ..EmulatorOptions::default()
    });
    let t = Instant::now();
    assert_eq!(api_status(&e).await, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(150));

    let e = env("healthy");
    let fault = |kind, method, times| Fault {
        method,
        path_prefix: "/api/now/table/incident".into(),
        kind,
        times,
    };
    e.emu
        .add_fault(fault(FaultKind::Status(503), None, Some(1)));
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "failure");
    assert_eq!(api_status(&e).await, StatusCode::OK, "once means once");
    e.emu.add_fault(fault(
        FaultKind::Status(500),
        Some(http::Method::POST),
        None,
    ));
    assert_eq!(api_status(&e).await, StatusCode::OK, "GET is not faulted");
    e.emu.clear_faults();

    e.emu.add_fault(fault(FaultKind::Reset, None, Some(1)));
    let err = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .header("Accept", "application/json")
        .send()
        .await;
    assert!(err.is_err(), "reset gives no response");
    e.emu.add_fault(fault(FaultKind::Timeout, None, Some(1)));
    let err = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .err();
    assert!(err.is_some_and(|e| e.is_timeout()));
    e.emu.add_fault(fault(FaultKind::Truncated, None, Some(1)));
    let res = e
        .client
        .get(format!("{}/api/now/table/incident", e.base))
        .send()
        .await;
    let body = match res {
        Ok(res) => res.text().await.is_err(),
        Err(_) => true,
    };
    assert!(body, "truncated body must fail to read");
    e.emu.add_fault(fault(FaultKind::Malformed, None, Some(1)));
    let r = e.get("/api/now/table/incident").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&r.text).is_err());
    e.emu.add_fault(fault(FaultKind::Html, None, Some(1)));
    assert!(
        e.get("/api/now/table/incident")
            .await
            .header("content-type")
            .starts_with("text/html")
    );
    e.emu
        .add_fault(fault(FaultKind::RateLimited, None, Some(1)));
    let r = e.get("/api/now/table/incident").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!r.header("Retry-After").is_empty());
    assert_eq!(api_status(&e).await, StatusCode::OK);
    assert!(e.emu.request_count() >= 9);
}

#[tokio::test]
async fn rate_limit_count_resets_when_the_window_passes() {
    let e = env("rate-limited");
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    let reset: u64 = r.header("X-RateLimit-Reset").parse().unwrap_or(0);
    assert_eq!(
        reset % 3600,
        0,
        "the default window ends at the top of the hour"
    );
    e.emu.set_rate_limit(Some(2));
    e.emu.set_rate_window(Duration::from_millis(1500));
    let started = std::time::SystemTime::now();
    for _ in 0..2 {
        assert_eq!(api_status(&e).await, StatusCode::OK);
    }
    let r = e.get("/api/now/table/incident?sysparm_limit=1").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        api_status(&e).await,
        StatusCode::TOO_MANY_REQUESTS,
        "no reset yet"
    );
    let reset: u64 = r.header("X-RateLimit-Reset").parse().unwrap_or(0);
    let now = started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    assert!(
        reset > now && reset <= now + 3,
        "reset {reset} vs now {now}"
    );
    assert!(
        r.header("Retry-After")
            .parse::<u64>()
            .is_ok_and(|s| (1..=2).contains(&s))
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        api_status(&e).await,
        StatusCode::OK,
        "a new window starts at zero"
    );
}

#[tokio::test]
async fn reset_fault_closes_with_a_tcp_reset() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let e = start(EmulatorOptions {
        tls: false,
        ..EmulatorOptions::default()
    });
    let raw = || async {
        let mut s = tokio::net::TcpStream::connect(e.emu.addr())
            .await
            .expect("connects");
        s.write_all(
            b"GET /api/now/table/incident HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n",
        )
        .await
        .expect("writes");
        let mut buf = vec![0u8; 4096];
        tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("answers in time")
    };
    let plain = raw().await;
    assert!(
        plain.is_ok_and(|n| n > 0),
        "without a fault there is an answer"
    );
    e.emu.add_fault(Fault {
        method: None,
        path_prefix: "/api/now/table/incident".into(),
        kind: FaultKind::Reset,
        times: Some(1),
    });
    let reset = raw().await;
    assert!(
        reset
            .as_ref()
            .is_err_and(|err| err.kind() == std::io::ErrorKind::ConnectionReset),
        "expected a TCP reset, got {reset:?}"
    );
}
