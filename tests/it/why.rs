//! `snowdoctor why`: pasted errors resolve to their cause and the run that confirms it; unknown text
//! exits 1 and says so.

use serde_json::Value;

use crate::support::{Finished, snowdoctor};

fn why(args: &[&str]) -> Finished {
    Finished::from(snowdoctor().arg("why").args(args).output().expect("runs"))
}

#[test]
fn pasted_errors_resolve_to_cause_fix_and_confirming_run() {
    // (pasted text, known error, the confirming command it must print)
    let cases = [
        (
            "Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has been refused due to the table's cross-scope access policy",
            "cross-scope-access-refused",
            Some("snowdoctor run --profile m365-security-center --only oauth-entity-cross-scope"),
        ),
        (
            "Read   operation against \"oauth_entity\"\nfrom scope “x_mioms_m365ticket” has been refused because of the table’s cross-scope access policy",
            "cross-scope-access-refused",
            Some("--only oauth-entity-cross-scope"),
        ),
        (
            "Failed to add ITSM Connection named \"Contoso PROD\" due to Bad Request. Error: Bad request. Invalid parameters provided for connection. Http Exception: Status Code Forbidden.",
            "itsmc-ip-restricted",
            Some("snowdoctor run --profile azure-monitor-itsmc --only ip-allowlist"),
        ),
        (
            "{\"error\":{\"message\":\"Operation Failed\",\"detail\":\"ACL Exception Update Failed due to security constraints\"}",
            "acl-exception-write",
            Some("--profile azure-monitor-itsmc --only integration-user"),
        ),
        (
            "ERROR  Logout   successfully",
            "copilot-sso-logout",
            Some("--only sso-interference"),
        ),
        (
            "Could not create/update work item for alert High CPU. ITSM Connector abc-123 does not exist or was deleted.",
            "itsmc-connector-deleted",
            None,
        ),
    ];
    for (text, id, command) in cases {
        let out = why(&[text]);
        assert_eq!(out.code, 0, "{text:?}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.starts_with("Likely cause: "), "{}", out.stdout);
        assert!(
            out.stdout.contains(&format!("known error   {id}")),
            "{text:?} → {}",
            out.stdout
        );
        match command {
            Some(command) => assert!(out.stdout.contains(command), "{}", out.stdout),
            None => assert!(
                out.stdout
                    .contains("nothing on the ServiceNow side shows this"),
                "{}",
                out.stdout
            ),
        }
        assert!(out.stdout.contains("Source\n  https://"), "{}", out.stdout);
    }
}

#[test]
fn json_output_lists_matches_best_first() {
    let out = why(&[
        "--format",
        "json",
        "Invalid redirect_uri redirect_uri=https://gcs.office.com/v1.0/admin/oauth/callback",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let value: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(value["matched"], true);
    let matches = value["matches"].as_array().expect("matches");
    assert_eq!(matches[0]["id"], "copilot-invalid-redirect-uri");
    assert_eq!(
        matches[0]["confirm_command"],
        "snowdoctor run --profile copilot-servicenow-knowledge --only redirect-url"
    );
    assert!(
        matches[0]["source"]
            .as_str()
            .unwrap_or("")
            .starts_with("https://")
    );
    assert!(
        matches.iter().any(|m| m["id"] == "invalid-redirect-uri"),
        "the generic entry is listed after the specific one: {matches:?}"
    );
}

#[test]
fn text_on_stdin_is_read() {
    let output = snowdoctor()
        .args(["why", "-"])
        .write_stdin("Something went wrong.\r\nCould not get connection details.\r\n")
        .output()
        .expect("runs");
    let out = Finished::from(output);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("itsmc-no-connection-details"),
        "{}",
        out.stdout
    );
}

#[test]
fn unknown_text_exits_1_and_says_so() {
    let out = why(&["The quick brown fox jumps over the lazy dog"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("No known error matches"),
        "{}",
        out.stdout
    );
    let out = why(&["--format", "json", "nothing like an error"]);
    assert_eq!(out.code, 1);
    let value: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(value["matched"], false);
    assert_eq!(value["matches"], Value::Array(Vec::new()));
}

#[test]
fn empty_text_is_a_usage_error_and_list_shows_the_catalogue() {
    let output = snowdoctor()
        .args(["why"])
        .write_stdin("   \n")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let out = why(&["--list"]);
    assert_eq!(out.code, 0);
    for id in [
        "itsmc-ip-restricted",
        "cross-scope-access-refused",
        "copilot-sso-logout",
    ] {
        assert!(out.stdout.contains(id), "{}", out.stdout);
    }
}
