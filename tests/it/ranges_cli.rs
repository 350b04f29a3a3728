//! `snowdoctor ranges --service-ip`: single addresses judged against exported ip_access rules, through
//! the binary, with the six Microsoft 365 support integration addresses (docs/reference/microsoft-integration.md §3).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Finished, snowdoctor};

/// The six support-integration addresses.
const SUPPORT: [&str; 6] = [
    "52.149.152.32",
    "40.83.232.243",
    "40.83.114.39",
    "13.76.138.31",
    "13.79.229.170",
    "20.105.151.142",
];

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/azure/ServiceTags_Sample.json")
}

/// Deny all IPv4, admit the sample's AzureSecurityCenter ranges, and allow three of the six addresses
/// (one of them through AzureSecurityCenter's 52.149.152.0/24, one alone, one through its /16).
fn rules(dir: &Path) -> PathBuf {
    let path = dir.join("rules.csv");
    let text = "range_start,range_end,type,flow,active,description\n\
                0.0.0.0,255.255.255.255,deny,bidirectional,true,deny all\n\
                20.37.64.0,20.37.64.255,allow,bidirectional,true,asc\n\
                52.149.152.0,52.149.152.255,allow,bidirectional,true,asc\n\
                13.76.138.31,,allow,inbound,true,support\n\
                13.79.0.0,13.79.255.255,allow,bidirectional,true,support\n\
                40.83.232.243,,allow,outbound,true,outbound only: does not admit\n\
                40.83.114.39,,allow,bidirectional,false,inactive: does not admit\n";
    std::fs::write(&path, text).expect("write rules");
    path
}

fn ranges(rules: Option<&Path>, ips: &[&str], extra: &[&str]) -> Finished {
    let mut cmd = snowdoctor();
    cmd.arg("ranges").arg("--service-tags").arg(sample());
    if let Some(rules) = rules {
        cmd.arg("--rules").arg(rules);
    }
    for ip in ips {
        cmd.args(["--service-ip", ip]);
    }
    Finished::from(cmd.args(extra).output().expect("snowdoctor runs"))
}

/// The address lines of the text output: address → status.
fn statuses(text: &str) -> Vec<(String, String)> {
    text.lines()
        .skip_while(|l| *l != "addresses (inbound):")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let mut words = l.split_whitespace();
            let addr = words.next().unwrap_or_default().to_string();
            (addr, words.next().unwrap_or_default().to_string())
        })
        .collect()
}

#[test]
fn the_six_support_addresses_are_judged_one_by_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules(dir.path());
    let run = ranges(
        Some(&rules),
        &SUPPORT,
        &["--service-tag", "AzureSecurityCenter"],
    );
    // the selected tag itself is fully admitted: the exit 1 comes from the addresses alone
    assert!(
        run.stdout.contains("everything selected is admitted"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let expected = [
        ("52.149.152.32", "allowed"),
        ("40.83.232.243", "blocked"),
        ("40.83.114.39", "blocked"),
        ("13.76.138.31", "allowed"),
        ("13.79.229.170", "allowed"),
        ("20.105.151.142", "blocked"),
    ];
    let got = statuses(&run.stdout);
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(a, s)| (a.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, want, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "3 of 6 addresses blocked: add an inbound Allow rule for 40.83.232.243, 40.83.114.39, 20.105.151.142"
        ),
        "{}",
        run.stdout
    );

    // the three allowed ones alone: exit 0
    let allowed: Vec<&str> = expected
        .iter()
        .filter(|(_, s)| *s == "allowed")
        .map(|(a, _)| *a)
        .collect();
    let run = ranges(
        Some(&rules),
        &allowed,
        &["--service-tag", "AzureSecurityCenter"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("blocked:"), "{}", run.stdout);
}

#[test]
fn json_output_carries_status_and_containing_tags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules(dir.path());
    let run = ranges(
        Some(&rules),
        &["52.149.152.32", "40.83.232.243", "192.0.2.7"],
        &["--json", "--service-tag", "AzureCloud.eastus"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let body: Value = serde_json::from_str(&run.stdout).expect("JSON output");
    let addresses = body["addresses"].as_array().expect("addresses");
    let row = |i: usize| {
        (
            addresses[i]["address"].as_str().unwrap_or_default(),
            addresses[i]["status"].as_str().unwrap_or_default(),
            addresses[i]["tags"].clone(),
        )
    };
    assert_eq!(
        row(0),
        (
            "52.149.152.32",
            "allowed",
            serde_json::json!(["AzureCloud.eastus"])
        )
    );
    assert_eq!(row(1), ("40.83.232.243", "blocked", serde_json::json!([])));
    assert_eq!(row(2), ("192.0.2.7", "blocked", serde_json::json!([])));
}

#[test]
fn without_deny_rules_or_without_rules_nothing_is_blocked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let allow_only = dir.path().join("allow.csv");
    std::fs::write(
        &allow_only,
        "range_start,range_end,type,flow,active,description\n198.51.100.0,198.51.100.255,allow,bidirectional,true,corporate\n",
    )
    .expect("write rules");
    let run = ranges(Some(&allow_only), &SUPPORT, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let got = statuses(&run.stdout);
    assert_eq!(got.len(), 6, "{}", run.stdout);
    assert!(got.iter().all(|(_, s)| s == "admitted"), "{}", run.stdout);

    // no --rules: the addresses are located in the file's tags but not judged
    let run = ranges(None, &SUPPORT[..1], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("unchecked") && run.stdout.contains("in AzureCloud, AzureCloud.eastus"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_malformed_address_is_a_usage_error() {
    let run = ranges(None, &["52.149.152.300"], &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("--service-ip \"52.149.152.300\" is not an IP address"),
        "{}",
        run.stderr
    );
}

/// The two files are read at once, but errors keep their order: a bad tag file is reported before
/// bad rules, and bad rules alone are still reported.
#[test]
fn a_bad_tag_file_is_reported_before_bad_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad_rules = dir.path().join("rules.csv");
    std::fs::write(&bad_rules, "range_start,type\n10.0.0.1,allow\n").expect("write rules");
    let bad_tags = dir.path().join("ServiceTags_Public_20251028.json");
    std::fs::write(&bad_tags, "{\"values\": [").expect("write tags");
    let run = |tags: &Path| {
        Finished::from(
            snowdoctor()
                .args(["ranges", "--service-tags"])
                .arg(tags)
                .arg("--rules")
                .arg(&bad_rules)
                .output()
                .expect("snowdoctor runs"),
        )
    };
    let both = run(&bad_tags);
    assert_eq!(both.code, 2, "{}", both.stderr);
    assert!(both.stderr.contains("service tags"), "{}", both.stderr);
    assert!(!both.stderr.contains("rules"), "{}", both.stderr);
    let rules_only = run(&sample());
    assert_eq!(rules_only.code, 2, "{}", rules_only.stderr);
    assert!(
        rules_only.stderr.contains("\"flow\" column"),
        "{}",
        rules_only.stderr
    );
}

/// A large tag file (read with its lists cut ahead) with one byte that is not UTF-8, in a prefix
/// list or in a tag's name: a usage error naming the file and the bad byte's place, either way.
#[test]
fn a_tag_file_that_is_not_utf8_is_refused_wherever_the_bad_byte_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    let public = snowdoctor::azure::reference_data::bytes(&snowdoctor::azure::snapshot::PUBLIC)
        .expect("the embedded Public file");
    let in_list = public
        .windows(11)
        .position(|w| w == b"\"4.145.74.5")
        .expect("a prefix of ActionGroup")
        + 3;
    let in_name = public
        .windows(13)
        .position(|w| w == b"\"ActionGroup\"")
        .expect("a tag name")
        + 2;
    for at in [in_list, in_name] {
        let mut bytes = public.clone();
        bytes[at] = 0xFF;
        let path = dir.path().join("ServiceTags_Public_20251028.json");
        std::fs::write(&path, &bytes).expect("write tags");
        let run = Finished::from(
            snowdoctor()
                .args(["ranges", "--service-tags"])
                .arg(&path)
                .output()
                .expect("snowdoctor runs"),
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("not UTF-8 text")
                && run.stderr.contains(&format!("index {at}"))
                && run.stderr.contains("ServiceTags_Public_20251028.json"),
            "byte {at}: {}",
            run.stderr
        );
    }
}
