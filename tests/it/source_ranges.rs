//! `ip-allowlist` judges `ip_access` against the source ranges the selected profile names: service-tag
//! names looked up in the embedded (or given) file of the run's cloud, and literal CIDRs as they are;
//! `--cloud gov` switches the callback, the ranges and the embedded file to Azure Government.

use serde_json::Value;

use crate::support::{Finished, Report, snowdoctor};

/// A date within the embedded Public snapshot's freshness window, so an admitted range passes
/// instead of warning that the file is stale.
const FRESH: &str = "2025-11-15T00:00:00Z";

/// `snowdoctor demo --profile PROFILE --scenario SCENARIO --only CHECKS --format json [EXTRA…]`.
fn demo(profile: &str, scenario: &str, only: &str, extra: &[&str]) -> (Finished, Report) {
    let mut cmd = snowdoctor();
    cmd.args([
        "demo",
        "--profile",
        profile,
        "--scenario",
        scenario,
        "--only",
        only,
        "--format",
        "json",
    ])
    .args(extra)
    .env("SNOWDOCTOR_NOW", FRESH);
    let out = Finished::from(cmd.output().expect("snowdoctor runs"));
    let report = out.report();
    (out, report)
}

/// The value of one evidence line of a check.
fn evidence(report: &Report, id: &str, label: &str) -> String {
    report.check(id)["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["label"] == label)
        .and_then(|e| e["value"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("{id}: no evidence {label:?}: {}", report.check(id)))
}

fn labels(report: &Report, id: &str) -> Vec<String> {
    report.check(id)["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["label"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn each_profile_service_tag_is_judged_from_the_embedded_public_file() {
    // (profile, scenario that admits the tag, scenario that blocks it, tag)
    let cases = [
        (
            "azure-monitor-itsmc",
            "azure-monitor-itsmc-ip-allowed",
            "azure-monitor-itsmc-ip-blocked",
            "ActionGroup",
        ),
        (
            "azure-pipelines-change",
            "azure-pipelines-change-ip-allowed",
            "azure-pipelines-change-ip-blocked",
            "AzureDevOps",
        ),
        (
            "power-platform-servicenow",
            "power-platform-servicenow-ip-allowed",
            "power-platform-servicenow-ip-blocked",
            "AzureConnectors",
        ),
    ];
    for (profile, allowed, blocked, tag) in cases {
        let (out, report) = demo(profile, allowed, "ip-allowlist", &[]);
        report.assert_status("ip-allowlist", "pass");
        assert_eq!(out.code, 0, "{allowed}: {}", out.stderr);
        assert!(
            report.summary("ip-allowlist").contains("admits all"),
            "{allowed}: {}",
            report.summary("ip-allowlist")
        );
        let file = evidence(&report, "ip-allowlist", "service-tag file");
        assert!(file.contains("builtin:public"), "{profile}: {file}");
        let ranges = evidence(&report, "ip-allowlist", "source ranges");
        assert!(
            ranges.contains(profile) && ranges.contains(&format!("service tag(s) {tag}")),
            "{profile}: {ranges}"
        );
        assert!(ranges.contains("public cloud"), "{ranges}");

        let (out, report) = demo(profile, blocked, "ip-allowlist", &[]);
        report.assert_status("ip-allowlist", "fail");
        assert_eq!(out.code, 1, "{blocked}: {}", out.stderr);
        assert!(
            report.summary("ip-allowlist").contains(tag),
            "{blocked}: {}",
            report.summary("ip-allowlist")
        );
        assert!(
            labels(&report, "ip-allowlist").contains(&format!("tag {tag}")),
            "{blocked}: {:?}",
            labels(&report, "ip-allowlist")
        );
        // only the profile's tag is judged, not every prefix of the file
        assert_eq!(
            labels(&report, "ip-allowlist")
                .iter()
                .filter(|l| l.starts_with("tag "))
                .count(),
            1
        );
        let fix = report.remediation("ip-allowlist");
        assert!(fix.contains("Public Cloud"), "{fix}");
    }
}

#[test]
fn the_copilot_fixed_ranges_are_judged_as_literal_prefixes() {
    let profile = "copilot-servicenow-knowledge";
    let (out, report) = demo(
        profile,
        "copilot-servicenow-knowledge-ip-allowed",
        "ip-allowlist",
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    report.assert_status("ip-allowlist", "pass");
    assert!(report.summary("ip-allowlist").contains("all 6 selected"));
    let ranges = evidence(&report, "ip-allowlist", "source ranges");
    for cidr in ["52.250.92.252/30", "20.43.146.44/30"] {
        assert!(ranges.contains(cidr), "{ranges}");
    }
    assert!(!ranges.contains("service tag"), "{ranges}");

    let (out, report) = demo(
        profile,
        "copilot-servicenow-knowledge-ip-partial",
        "ip-allowlist",
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    report.assert_status("ip-allowlist", "fail");
    let summary = report.summary("ip-allowlist");
    assert!(summary.contains("4 of 6 prefixes blocked"), "{summary}");
    assert!(
        summary.contains("20.54.41.208/30") && !summary.contains("52.250.92.252/30"),
        "{summary}"
    );
    let labels = labels(&report, "ip-allowlist");
    assert!(
        labels.contains(&"range 51.105.159.88/30".to_string()),
        "{labels:?}"
    );
    let fix = report.remediation("ip-allowlist");
    assert!(
        fix.contains("snowdoctor profiles show copilot-servicenow-knowledge"),
        "{fix}"
    );
}

#[test]
fn cloud_gov_selects_the_government_callback_ranges_and_file() {
    let profile = "copilot-servicenow-knowledge";
    let scenario = "copilot-servicenow-knowledge-gov";
    let only = "ip-allowlist,redirect-url";
    let (out, report) = demo(profile, scenario, only, &["--cloud", "gov"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    report.assert_status("redirect-url", "pass");
    assert!(report.summary("redirect-url").contains("gcsgcc.office.com"));
    assert!(report.summary("redirect-url").contains("gov cloud"));
    report.assert_status("ip-allowlist", "pass");
    let ranges = evidence(&report, "ip-allowlist", "source ranges");
    assert!(
        ranges.contains("gov cloud") && ranges.contains("52.245.230.216/30"),
        "{ranges}"
    );
    assert!(!ranges.contains("52.250.92.252/30"), "{ranges}");

    // the same instance judged as a public-cloud tenant: the Government callback and ranges do not
    // serve the public connector, and the redirect fix says which flag fits
    let (out, report) = demo(profile, scenario, only, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    report.assert_status("redirect-url", "fail");
    assert!(
        report.remediation("redirect-url").contains("--cloud gov"),
        "{}",
        report.remediation("redirect-url")
    );
    report.assert_status("ip-allowlist", "fail");
    assert!(report.summary("ip-allowlist").contains("6 of 6"));

    // SNOWDOCTOR_CLOUD is the flag's environment variable
    let mut cmd = snowdoctor();
    cmd.args([
        "demo",
        "--profile",
        profile,
        "--scenario",
        scenario,
        "--only",
        only,
        "--format",
        "json",
    ])
    .env("SNOWDOCTOR_CLOUD", "gov")
    .env("SNOWDOCTOR_NOW", FRESH);
    let out = Finished::from(cmd.output().expect("snowdoctor runs"));
    assert_eq!(out.code, 0, "{}", out.stderr);

    // and `cloud` under a config file's [defaults]
    let dir = tempfile::tempdir().expect("temp dir");
    let config = crate::support::write(
        dir.path(),
        "snowdoctor.toml",
        "[defaults]\ncloud = \"gov\"\n",
    );
    let config = config.to_str().expect("utf-8 path");
    let (out, report) = demo(profile, scenario, only, &["--config", config]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    report.assert_status("redirect-url", "pass");
}

#[test]
fn cloud_gov_looks_service_tags_up_in_the_embedded_government_file() {
    let (out, report) = demo(
        "azure-monitor-itsmc",
        "azure-monitor-itsmc-ip-blocked",
        "ip-allowlist",
        &["--cloud", "gov"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    report.assert_status("ip-allowlist", "fail");
    let file = evidence(&report, "ip-allowlist", "service-tag file");
    assert!(file.contains("builtin:gov"), "{file}");
    let ranges = evidence(&report, "ip-allowlist", "source ranges");
    assert!(
        ranges.contains("gov cloud") && ranges.contains("ActionGroup"),
        "{ranges}"
    );
    assert!(
        report.remediation("ip-allowlist").contains("US Government"),
        "{}",
        report.remediation("ip-allowlist")
    );

    // AzureDevOps is not in the Government file and the profile names no Government ranges: every
    // prefix of that file is judged, and the evidence says why
    let (_, report) = demo(
        "azure-pipelines-change",
        "azure-pipelines-change-ip-blocked",
        "ip-allowlist",
        &["--cloud", "gov"],
    );
    let ranges = evidence(&report, "ip-allowlist", "source ranges");
    assert!(
        ranges.contains("names no source ranges for the gov cloud"),
        "{ranges}"
    );
}

#[test]
fn a_tag_missing_from_the_given_file_is_inconclusive_with_the_fix() {
    // the sample file has no ActionGroup tag: the profile's tag cannot be looked up in it
    let (out, report) = demo(
        "azure-monitor-itsmc",
        "azure-monitor-itsmc-ip-blocked",
        "ip-allowlist",
        &["--service-tags", "builtin:sample"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    report.assert_status("ip-allowlist", "inconclusive");
    let summary = report.summary("ip-allowlist");
    assert!(summary.contains("ActionGroup"), "{summary}");
    assert!(
        report
            .remediation("ip-allowlist")
            .contains("--service-tags"),
        "{}",
        report.remediation("ip-allowlist")
    );
}

#[test]
fn the_default_profile_still_judges_every_prefix_of_the_sample() {
    let (_, report) = demo(
        "m365-security-center",
        "ip-partial-allow",
        "ip-allowlist",
        &[],
    );
    report.assert_status("ip-allowlist", "fail");
    let file = evidence(&report, "ip-allowlist", "service-tag file");
    assert!(file.contains("builtin:sample"), "{file}");
    let ranges = evidence(&report, "ip-allowlist", "source ranges");
    assert!(ranges.starts_with("every prefix"), "{ranges}");
    let check: &Value = report.check("ip-allowlist");
    assert!(check["summary"].as_str().is_some());
}
