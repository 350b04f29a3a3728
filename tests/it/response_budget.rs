//! The run's response budget through the binary: an instance answering every read with large, valid
//! JSON stops being read once the run's total passes the budget (set low here through the test knob
//! `SNOWDOCTOR_RESPONSE_BUDGET_BYTES`), with a clear "sent more than N MB" failure, and the HAR stays
//! bounded.

use crate::support::hostile_server::{HostileServer, json};
use crate::support::{Finished, snowdoctor};

#[test]
fn an_instance_sending_more_than_the_budget_is_stopped_with_a_clear_failure() {
    let filler = "x".repeat(300 * 1024);
    let body = format!(
        r#"{{"result":[{{"sys_id":"6816f79cc0a8016401c5a33be04be441","user_name":"admin","note":"{filler}"}}]}}"#
    );
    let server = HostileServer::start(move |_, _| json(200, &body));
    let dir = tempfile::tempdir().expect("tempdir");
    let har = dir.path().join("t.har");
    let out = snowdoctor()
        .args(["run", "--instance", &server.url(), "--user", "admin"])
        .args(["--format", "json", "--no-progress", "--report"])
        .arg(format!("har={}", har.display()))
        .env("SNOWDOCTOR_PASSWORD", "canary-pw-Budget1x")
        .env("SNOWDOCTOR_RESPONSE_BUDGET_BYTES", "1000000")
        .output()
        .expect("runs");
    let out = Finished::from(out);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("the instance sent more than 1 MB in this run"),
        "the failure names the budget:\n{}",
        out.stdout
    );
    let har_len = std::fs::metadata(&har).expect("har written").len();
    assert!(har_len < 3_000_000, "the HAR grew to {har_len} bytes");
    // A bound on the whole run (the selected checks' reads, most refused once the budget is spent);
    // the catalogue grew with the integration profiles' checks, hence 24 rather than one per check.
    let requests = server.requests().len();
    assert!(
        requests <= 24,
        "{requests} requests after the budget was spent"
    );
}
