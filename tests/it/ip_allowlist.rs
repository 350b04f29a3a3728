//! The IP allowlist engine against Microsoft's real service-tag files, and the `ranges` command.
//!
//! The real files are the snapshots embedded from `data/azure/` (see its SOURCE.md), verified by size
//! and SHA-256 through `snowdoctor::azure::reference_data` before use (`SNOWDOCTOR_AZURE_DATA` may point
//! at uncompressed copies instead; nothing outside the repository is needed). Expected numbers come from
//! the shared data card and docs/reference/microsoft-integration.md §3, §4.4 and §5.6, computed independently with
//! Python.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use snowdoctor::app::ranges::run as ranges_command;
use snowdoctor::azure::reference_data;
use snowdoctor::azure::snapshot::{self, Snapshot};
use snowdoctor::azure::{
    AddressStatus, Direction, IpSet, RuleSet, Selection, ServiceTagFile, address_status,
    allow_rules_csv, diagnose, rules_from_file,
};
use snowdoctor::cli::RangesArgs;

fn load(file: &'static Snapshot) -> ServiceTagFile {
    reference_data::load(file).unwrap_or_else(|e| panic!("{e}"))
}

/// Parsed once: 4 MB in a debug build is worth sharing between tests.
fn public() -> &'static ServiceTagFile {
    static FILE: OnceLock<ServiceTagFile> = OnceLock::new();
    FILE.get_or_init(|| load(&snapshot::PUBLIC))
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// The six Microsoft 365 support integration addresses with their prefix and regional tag (docs/reference/microsoft-integration.md §3).
const SUPPORT_IPS: [(&str, &str, &str); 6] = [
    ("52.149.152.32", "52.149.128.0/17", "AzureCloud.eastus"),
    ("40.83.232.243", "40.83.128.0/17", "AzureCloud.westus"),
    ("40.83.114.39", "40.83.64.0/18", "AzureCloud.eastasia"),
    ("13.76.138.31", "13.76.0.0/16", "AzureCloud.southeastasia"),
    ("13.79.229.170", "13.79.0.0/16", "AzureCloud.northeurope"),
    ("20.105.151.142", "20.105.128.0/17", "AzureCloud.westeurope"),
];

/// The tag families whose IPv4 prefixes lie partly outside `AzureCloud` (docs/reference/microsoft-integration.md §4.4).
const OUTSIDE_AZURECLOUD: [&str; 11] = [
    "ActionGroup",
    "AzureActiveDirectory",
    "AzureFrontDoor",
    "DataFactory",
    "DataFactoryManagement",
    "EOPExternalPublishedIPs",
    "GuestAndHybridManagement",
    "SCCservice",
    "SqlManagement",
    "Storage",
    "WindowsVirtualDesktop",
];

fn all_tags(file: &ServiceTagFile) -> Vec<Selection<'_>> {
    file.tags.iter().map(Selection::tag).collect()
}

fn named<'a>(file: &'a ServiceTagFile, name: &str) -> Selection<'a> {
    Selection::tag(
        file.tag(name)
            .unwrap_or_else(|| panic!("tag {name} missing")),
    )
}

/// Rules written as a CSV file and read back the way `snowdoctor ranges --rules` reads them.
fn rules_csv(dir: &Path, lines: &[&str], extra_allow_csv: Option<&str>) -> RuleSet {
    let mut text = String::from("range_start,range_end,type,flow,active,description\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    let path = dir.join("rules.csv");
    std::fs::write(&path, text).expect("write rules");
    let mut set = rules_from_file(&path).expect("rules parse");
    if let Some(csv) = extra_allow_csv {
        let path = dir.join("allow.csv");
        std::fs::write(&path, csv).expect("write allow rules");
        let extra = rules_from_file(&path).expect("exported allow rules parse");
        assert!(extra.malformed.is_empty(), "{:?}", extra.malformed);
        set.rules.extend(extra.rules);
    }
    assert!(set.malformed.is_empty(), "{:?}", set.malformed);
    set
}

const DENY_ALL: &str = "0.0.0.0,255.255.255.255,deny,bidirectional,true,deny all";
const CORPORATE: &str = "198.51.100.0,198.51.100.255,allow,bidirectional,true,corporate";

#[test]
fn reference_data_is_verified_before_use() {
    assert_eq!(
        reference_data::sha256_hex(b"abc").expect("sha256"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let real = &snapshot::PUBLIC;
    let bytes = reference_data::bytes(real).unwrap_or_else(|e| panic!("{e}"));
    reference_data::verify(real, &bytes, "embedded").unwrap_or_else(|e| panic!("{e}"));
    let err = reference_data::verify(real, &bytes[1..], "shortened").expect_err("size differs");
    assert!(
        err.contains("bytes") && err.contains(real.file_name),
        "{err}"
    );
    let mut changed = bytes.clone();
    changed[100] ^= 1;
    let err = reference_data::verify(real, &changed, "changed").expect_err("hash differs");
    assert!(err.contains("SHA-256"), "{err}");
}

#[test]
fn public_file_metadata_and_counts() {
    let file = public();
    assert_eq!(file.cloud, "Public");
    assert_eq!(file.change_number, "375");
    assert_eq!(
        file.date.map(|d| d.to_string()).as_deref(),
        Some("2025-10-28")
    );
    assert_eq!(file.tags.len(), 3_039);
    assert_eq!(file.prefix_count(), 93_362);
    assert!(file.host_bits.is_empty(), "every prefix is canonical");
    let v4: usize = file
        .tags
        .iter()
        .flat_map(|t| &t.prefixes)
        .filter(|p| matches!(p, ipnet::IpNet::V4(_)))
        .count();
    assert_eq!((v4, file.prefix_count() - v4), (68_933, 24_429));
    assert_eq!(
        file.tags.iter().filter(|t| t.region.is_empty()).count(),
        100
    );
    let cloud = file.tag("AzureCloud").expect("AzureCloud");
    assert_eq!(cloud.prefixes.len(), 13_080);
}

#[test]
fn public_union_and_azurecloud_merge_to_the_documented_intervals() {
    let file = public();
    let union = IpSet::from_nets(file.tags.iter().flat_map(|t| &t.prefixes));
    assert_eq!((union.v4.len(), union.v6.len()), (791, 858));
    assert_eq!(union.v4.count().value, 48_401_944);

    let cloud = IpSet::from_nets(&file.tag("AzureCloud").expect("tag").prefixes);
    assert_eq!((cloud.v4.len(), cloud.v6.len()), (730, 910));
    assert_eq!(cloud.v4.count().value, 47_777_112);
    assert_eq!(
        (cloud.v4.to_cidrs().len(), cloud.v6.to_cidrs().len()),
        (1_860, 1_346)
    );
}

#[test]
fn support_integration_addresses_are_in_their_regional_azurecloud_tags() {
    let file = public();
    for (addr, prefix, region_tag) in SUPPORT_IPS {
        let addr = ip(addr);
        let net: ipnet::IpNet = prefix.parse().expect("prefix");
        let tag = file
            .tag(region_tag)
            .unwrap_or_else(|| panic!("{region_tag} missing"));
        assert!(tag.prefixes.contains(&net), "{prefix} not in {region_tag}");
        assert!(net.contains(&addr));
        // no other regional AzureCloud tag holds the address; AzureCloud itself does
        let holders: BTreeSet<&str> = file
            .tags
            .iter()
            .filter(|t| t.name.starts_with("AzureCloud"))
            .filter(|t| t.prefixes.iter().any(|p| p.contains(&addr)))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            holders,
            BTreeSet::from(["AzureCloud", region_tag]),
            "{addr}"
        );
    }
}

#[test]
fn deny_all_plus_corporate_allow_blocks_every_azure_ipv4_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = public();
    let rules = rules_csv(dir.path(), &[DENY_ALL, CORPORATE], None);
    let policy = rules.policy(Direction::Inbound);
    let cov = diagnose(&policy, &all_tags(file));
    assert!(cov.filtering && !cov.all_admitted());
    // 52,340 distinct prefixes, 38,415 of them IPv4: all IPv4 blocked, IPv6 not denied at all
    assert_eq!(cov.overall.prefixes, 52_340);
    assert_eq!(cov.overall.fully_blocked, 38_415);
    assert_eq!(cov.overall.partly_blocked, 0);
    assert_eq!(cov.overall.admitted, 52_340 - 38_415);
    assert_eq!(cov.overall.blocked_v4.value, 48_401_944);
    assert!(cov.overall.blocked_v6.is_zero());
    assert_eq!(cov.repair.v4, cov.union.v4);
    assert!(cov.repair.v6.is_empty());
    for (addr, _, _) in SUPPORT_IPS {
        assert_eq!(address_status(&policy, ip(addr)), AddressStatus::Blocked);
    }
    assert_eq!(
        address_status(&policy, ip("198.51.100.7")),
        AddressStatus::Allowed
    );
    // the repair hint for AzureCloud alone is its 730 merged IPv4 ranges (docs/reference/microsoft-integration.md §5.6)
    let cloud = diagnose(&policy, &[named(file, "AzureCloud")]);
    assert_eq!((cloud.repair.v4.len(), cloud.repair.v6.len()), (730, 0));
}

#[test]
fn allow_rules_built_from_azurecloud_admit_all_of_azurecloud_ipv4() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = public();
    let deny_only = rules_csv(dir.path(), &[DENY_ALL], None);
    let hint = diagnose(
        &deny_only.policy(Direction::Inbound),
        &[named(file, "AzureCloud")],
    );
    let csv = allow_rules_csv(&hint.repair, "AzureCloud");
    assert_eq!(csv.lines().count(), 1 + 730);

    let rules = rules_csv(dir.path(), &[DENY_ALL], Some(&csv));
    let policy = rules.policy(Direction::Inbound);
    assert_eq!(policy.allow_rules, 730);
    let cloud = diagnose(&policy, &[named(file, "AzureCloud")]);
    assert!(cloud.all_admitted(), "{:?}", cloud.overall);
    assert!(cloud.repair.is_empty());

    // every tag: only tags of the 11 families outside AzureCloud stay partly blocked (microsoft-integration.md §4.4)
    let cov = diagnose(&policy, &all_tags(file));
    let families: BTreeSet<&str> = cov
        .tags
        .iter()
        .filter(|t| !t.is_admitted())
        .map(|t| t.name.split('.').next().unwrap_or(&t.name))
        .collect();
    assert_eq!(families, BTreeSet::from(OUTSIDE_AZURECLOUD));
    assert!(!cov.all_admitted());
    assert_eq!(
        cov.overall.blocked_v4.value,
        48_401_944 - 47_777_112,
        "the union minus AzureCloud"
    );
}

#[test]
fn support_profile_against_the_six_allowed_addresses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = public();
    let mut lines = vec![DENY_ALL.to_string()];
    lines.extend(
        SUPPORT_IPS
            .iter()
            .map(|(a, _, _)| format!("{a},,allow,bidirectional,true,support")),
    );
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let rules = rules_csv(dir.path(), &refs, None);
    let support: Vec<Selection> = SUPPORT_IPS
        .iter()
        .map(|(a, _, _)| Selection::address(ip(a)))
        .collect();
    for direction in [Direction::Inbound, Direction::Outbound] {
        let cov = diagnose(&rules.policy(direction), &support);
        assert!(cov.all_admitted(), "{direction:?}");
    }
    let connector = diagnose(&rules.policy(Direction::Inbound), &all_tags(file));
    assert!(!connector.all_admitted());

    // deny all + allow 52.149.128.0/17: eastus address admitted, westus address blocked
    let rules = rules_csv(
        dir.path(),
        &[
            DENY_ALL,
            "52.149.128.0,52.149.255.255,allow,bidirectional,true,eastus",
        ],
        None,
    );
    let policy = rules.policy(Direction::Inbound);
    assert_eq!(
        address_status(&policy, ip("52.149.152.32")),
        AddressStatus::Allowed
    );
    assert_eq!(
        address_status(&policy, ip("40.83.232.243")),
        AddressStatus::Blocked
    );
}

#[test]
fn no_rules_admit_everything() {
    let cov = diagnose(
        &RuleSet::default().policy(Direction::Inbound),
        &all_tags(public()),
    );
    assert!(!cov.filtering && cov.all_admitted() && cov.repair.is_empty());
    assert_eq!(cov.overall.admitted, 52_340);
}

#[test]
fn government_and_china_files() {
    for (reference, cloud, change, prefixes, azurecloud) in [
        (&snapshot::GOVERNMENT, "AzureGovernment", "402", 6_591, 605),
        (&snapshot::CHINA, "China", "405", 4_390, 345),
    ] {
        let file = load(reference);
        assert_eq!(
            (file.cloud.as_str(), file.change_number.as_str()),
            (cloud, change)
        );
        assert_eq!(file.prefix_count(), prefixes, "{cloud}");
        assert_eq!(
            file.tag("AzureCloud").map(|t| t.prefixes.len()),
            Some(azurecloud),
            "{cloud}"
        );
    }
}

fn args(tags: PathBuf) -> RangesArgs {
    RangesArgs {
        service_tags: Some(tags),
        service_tags_selected: Vec::new(),
        rules: None,
        export_allow_rules: None,
        json: false,
        service_ips: Vec::new(),
    }
}

fn run(args: &RangesArgs) -> (u8, String) {
    let mut out = Vec::new();
    let code = ranges_command(args, &mut out).unwrap_or_else(|e| panic!("ranges failed: {e}"));
    (code, String::from_utf8(out).expect("utf-8 output"))
}

fn sample_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/azure/ServiceTags_Sample.json")
}

#[test]
fn ranges_without_rules_prints_merged_ranges() {
    let (code, text) = run(&args(sample_path()));
    assert_eq!(code, 0);
    assert!(
        text.contains("ServiceTags_Sample.json (Public, undated, changeNumber 12)"),
        "{text}"
    );
    assert!(
        text.contains("Microsoft names no narrower service tag"),
        "{text}"
    );
    assert!(
        text.contains("  40.83.64.0 - 40.83.255.255  (49152)"),
        "{text}"
    );
    assert!(text.contains("IPv6: 2 merged ranges"), "{text}");

    let (code, builtin) = run(&args(PathBuf::from(snowdoctor::azure::SAMPLE_SERVICE_TAGS)));
    assert_eq!(code, 0);
    assert!(
        builtin.contains("built-in sample builtin:sample (Public, undated)"),
        "{builtin}"
    );

    let mut json_args = args(sample_path());
    json_args.json = true;
    json_args.service_tags_selected = vec!["AzureCloud.westus".into()];
    let (code, text) = run(&json_args);
    assert_eq!(code, 0);
    let body: serde_json::Value = serde_json::from_str(&text).expect("JSON output");
    assert_eq!(
        body["merged"]["v4"],
        serde_json::json!([["40.83.128.0", "40.83.255.255"]])
    );
    assert_eq!(body["selection"]["addresses_v4"], 32_768);
    assert!(body.get("coverage").is_none());
}

#[test]
fn ranges_with_rules_reports_coverage_and_exports_the_repair() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("ip_access.json");
    std::fs::write(
        &rules,
        serde_json::json!({"result": [
            {"sys_id": "d1", "type": {"value": "deny", "display_value": "Deny"},
             "flow": {"value": "bidirectional", "display_value": "Bidirectional"},
             "active": "true", "range_start": "0.0.0.0", "range_end": "255.255.255.255"},
            {"sys_id": "a1", "type": "allow", "flow": "inbound", "active": "true",
             "range_start": "13.76.0.0", "range_end": "13.79.255.255"},
            {"sys_id": "off", "type": "allow", "flow": "inbound", "active": "false",
             "range_start": "20.0.0.0", "range_end": "20.255.255.255"},
            {"sys_id": "junk", "type": "allow", "flow": "inbound", "active": "true",
             "range_start": "20.105.151.142", "range_end": "20.105.151.1"}
        ]})
        .to_string(),
    )
    .expect("write rules");
    let export = dir.path().join("allow.csv");
    let mut a = args(sample_path());
    a.rules = Some(rules.clone());
    a.export_allow_rules = Some(export.clone());
    let (code, text) = run(&a);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("malformed junk: range_start 20.105.151.142 is after"),
        "{text}"
    );
    assert!(text.contains("ignored off (inactive)"), "{text}");
    assert!(
        text.contains("repair: add 6 inbound Allow rules (6 IPv4, 0 IPv6)"),
        "{text}"
    );
    let csv = std::fs::read_to_string(&export).expect("export written");
    let description = "snowdoctor: all Azure service tags (Public change 12)";
    let mut expected = vec!["type,flow,active,range_start,range_end,description".to_string()];
    for range in [
        "20.37.64.0,20.37.64.255",
        "20.105.128.0,20.105.255.255",
        "20.190.128.0,20.190.191.255",
        "40.83.64.0,40.83.255.255",
        "40.126.0.0,40.126.63.255",
        "52.149.128.0,52.149.255.255",
    ] {
        expected.push(format!("allow,inbound,true,{range},{description}"));
    }
    assert_eq!(csv.lines().collect::<Vec<_>>(), expected);

    // applying the exported rules admits everything: exit 0
    let mut fixed = std::fs::read_to_string(&rules).expect("rules");
    let extra = rules_from_file(&export).expect("export reads back");
    let mut list: serde_json::Value = serde_json::from_str(&fixed).expect("json");
    for rule in extra.rules {
        list["result"]
            .as_array_mut()
            .expect("array")
            .push(serde_json::json!({
            "sys_id": "new", "type": "allow", "flow": "inbound", "active": "true",
            "range_start": rule.start.to_string(), "range_end": rule.end.to_string()}));
    }
    fixed = list.to_string();
    std::fs::write(&rules, fixed).expect("write");
    a.export_allow_rules = None;
    let (code, text) = run(&a);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("everything selected is admitted"), "{text}");
}

#[test]
fn ranges_input_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut a = args(sample_path());
    a.service_tags_selected = vec!["AzureCloud.WestUS".into()];
    let err = ranges_command(&a, &mut Vec::new()).expect_err("unknown tag");
    assert_eq!(err.exit_code(), snowdoctor::exit::USAGE);
    assert!(err.to_string().contains("AzureCloud.westus"), "{err}");

    let bad = dir.path().join("tags.json");
    std::fs::write(&bad, "{\"changeNumber\": 1, \"values\": [{\"name\": \"X\", \"properties\": {\"addressPrefixes\": [\"1.2.3.4/40\"]}}]}").expect("write");
    let err = ranges_command(&args(bad), &mut Vec::new()).expect_err("bad prefix");
    assert_eq!(err.exit_code(), snowdoctor::exit::USAGE);
    assert!(err.to_string().contains("1.2.3.4/40"), "{err}");

    let err = ranges_command(&args(dir.path().join("absent.json")), &mut Vec::new())
        .expect_err("missing");
    assert_eq!(err.exit_code(), snowdoctor::exit::USAGE);
}

#[test]
fn ranges_on_the_real_file_exports_azurecloud() {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("azurecloud.csv");
    // no --service-tags: the embedded Public snapshot
    let mut a = args(PathBuf::new());
    a.service_tags = None;
    a.service_tags_selected = vec!["AzureCloud".into()];
    a.export_allow_rules = Some(export.clone());
    let (code, text) = run(&a);
    assert_eq!(code, 0);
    assert!(
        text.contains("IPv4: 730 merged ranges, 47777112 addresses, 1860 CIDR prefixes"),
        "{text}"
    );
    assert!(text.contains("IPv6: 910 merged ranges"), "{text}");
    assert!(text.contains("wrote 1640 Allow rules"), "{text}");
    let csv = std::fs::read_to_string(&export).expect("export");
    assert_eq!(csv.lines().count(), 1 + 730 + 910);
}

// ---- the embedded snapshot through the binary, with a fixed clock (SNOWDOCTOR_NOW) ----

use crate::support::{EmulatorRun, Finished, snowdoctor};

/// The embedded Public file's provenance as every report names it.
const EMBEDDED_PUBLIC: &str =
    "embedded Public snapshot builtin:public of 2025-10-28 (changeNumber 375)";

/// `snowdoctor run --only ip-allowlist --format json` against `scenario` at the fixed time `now`,
/// writing the other report formats into `dir`.
fn run_at(scenario: &str, now: &str, extra: &[&str], dir: &Path) -> Finished {
    let run = EmulatorRun::start(scenario);
    let mut cmd = run.command();
    cmd.args(["--only", "ip-allowlist", "--format", "json"])
        .args(extra)
        .env("SNOWDOCTOR_NOW", now);
    for (format, file) in [
        ("terminal", "report.txt"),
        ("md", "report.md"),
        ("html", "report.html"),
        ("junit", "junit.xml"),
        ("sarif", "report.sarif"),
    ] {
        cmd.arg("--report")
            .arg(format!("{format}={}", dir.join(file).display()));
    }
    Finished::from(cmd.output().expect("snowdoctor runs"))
}

fn notes(report: &serde_json::Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Every report format in `dir` contains `needle` (whitespace runs count as one space: the terminal
/// report wraps).
fn every_report_says(dir: &Path, needle: &str) {
    for file in [
        "report.txt",
        "report.md",
        "report.html",
        "junit.xml",
        "report.sarif",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).expect(file);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(needle), "{file} lacks {needle:?}:\n{text}");
    }
}

#[test]
fn without_service_tags_a_run_judges_against_the_embedded_public_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_at("ip-deny-all", "2026-11-27T09:00:00Z", &[], dir.path());
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    report.assert_status("ip-allowlist", "fail");
    assert!(
        report
            .summary("ip-allowlist")
            .contains("of 52340 prefixes blocked"),
        "{}",
        report.summary("ip-allowlist")
    );
    let evidence = report.check("ip-allowlist")["evidence"].to_string();
    assert!(
        evidence.contains(EMBEDDED_PUBLIC) && evidence.contains("395 days old"),
        "{evidence}"
    );
    assert!(
        report
            .remediation("ip-allowlist")
            .contains("details.aspx?id=56519")
    );
    // the report-level notice: stale, with the download link and the flag that replaces it
    let notes = notes(&report.0);
    let notice = notes
        .iter()
        .find(|n| n.contains("Azure IP ranges"))
        .unwrap_or_else(|| panic!("no Azure ranges note in {notes:?}"));
    assert!(
        notice.starts_with("warning: ")
            && notice.contains(EMBEDDED_PUBLIC)
            && notice.contains("395 days old")
            && notice.contains("details.aspx?id=56519")
            && notice.contains("--service-tags FILE"),
        "{notice}"
    );
    every_report_says(
        dir.path(),
        "builtin:public of 2025-10-28 (changeNumber 375)",
    );
    every_report_says(dir.path(), "395 days old");
}

#[test]
fn a_stale_file_warns_only_where_its_age_matters() {
    // the sample's ranges under a dated name: 2026-10-01
    let dir = tempfile::tempdir().expect("tempdir");
    let tags = dir.path().join("ServiceTags_Public_20261001.json");
    std::fs::write(&tags, snowdoctor::azure::SAMPLE_TEXT).expect("write tags");
    let tags = tags.to_str().expect("utf-8 path");

    // 60 days old: fresh; the allows cover everything, so the check passes
    let fresh = tempfile::tempdir().expect("tempdir");
    let out = run_at(
        "ip-azure-allowed",
        "2026-11-30T23:00:00Z",
        &["--service-tags", tags],
        fresh.path(),
    );
    let report = out.report();
    report.assert_status("ip-allowlist", "pass");
    let notice = notes(&report.0).join("\n");
    assert!(
        notice.contains("ServiceTags_Public_20261001.json (Public, 2026-10-01, changeNumber 12), 60 days old at run time")
            && !notice.contains("warning"),
        "{notice}"
    );
    every_report_says(fresh.path(), "(Public, 2026-10-01, changeNumber 12)");

    // 61 days old with Deny rules filtering: the pass cannot vouch for newer ranges, so it warns
    let stale = tempfile::tempdir().expect("tempdir");
    let out = run_at(
        "ip-azure-allowed",
        "2026-12-01T00:00:00Z",
        &["--service-tags", tags],
        stale.path(),
    );
    let report = out.report();
    report.assert_status("ip-allowlist", "warn");
    assert!(
        report.summary("ip-allowlist").contains("61 days old"),
        "{}",
        report.summary("ip-allowlist")
    );
    let fix = report.remediation("ip-allowlist");
    assert!(
        fix.contains("details.aspx?id=56519") && fix.contains("--service-tags FILE"),
        "{fix}"
    );
    assert!(notes(&report.0).iter().any(|n| n.starts_with("warning: ")));
    every_report_says(stale.path(), "61 days old");

    // stale, but nothing is filtered: the ranges do not matter, the check passes; the notice still warns
    let nofilter = tempfile::tempdir().expect("tempdir");
    let out = run_at(
        "ip-no-filtering",
        "2026-12-01T00:00:00Z",
        &[],
        nofilter.path(),
    );
    let report = out.report();
    report.assert_status("ip-allowlist", "pass");
    assert!(
        report.check("ip-allowlist")["evidence"]
            .to_string()
            .contains(EMBEDDED_PUBLIC)
    );
    assert!(
        notes(&report.0)
            .iter()
            .any(|n| n.starts_with("warning: ") && n.contains("399 days old")),
        "{:?}",
        notes(&report.0)
    );
}

#[test]
fn a_misspelt_builtin_or_a_bad_clock_is_a_usage_error() {
    let run = EmulatorRun::start("healthy");
    let out = Finished::from(
        run.command()
            .args(["--service-tags", "builtin:gvo"])
            .output()
            .expect("runs"),
    );
    assert_eq!(
        out.code,
        i32::from(snowdoctor::exit::USAGE),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("builtin:gov"), "{}", out.stderr);
    let out = Finished::from(
        snowdoctor()
            .args(["ranges", "--service-tags", "builtin:sample"])
            .env("SNOWDOCTOR_NOW", "yesterday")
            .output()
            .expect("runs"),
    );
    assert_eq!(
        out.code,
        i32::from(snowdoctor::exit::USAGE),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("SNOWDOCTOR_NOW"), "{}", out.stderr);
}

/// `snowdoctor ranges --service-tag AzureCloud.westeurope` on the embedded Public file, at `now`.
fn ranges_west_europe_at(now: &str) -> Finished {
    Finished::from(
        snowdoctor()
            .args(["ranges", "--service-tag", "AzureCloud.westeurope"])
            .env("SNOWDOCTOR_NOW", now)
            .output()
            .expect("runs"),
    )
}

#[test]
fn ranges_defaults_to_the_embedded_public_snapshot_and_names_the_others() {
    let out = ranges_west_europe_at("2026-11-27T00:00:00Z");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("service tags: {EMBEDDED_PUBLIC}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("warning: Azure IP ranges")
            && out.stdout.contains("395 days old")
            && out.stdout.contains("--service-tags FILE"),
        "{}",
        out.stdout
    );
    for (builtin, cloud, change, stale) in [
        ("builtin:gov", "AzureGovernment", "402", false),
        ("builtin:china", "China", "405", false),
        ("builtin:public", "Public", "375", true),
    ] {
        let out = Finished::from(
            snowdoctor()
                .args(["ranges", "--json", "--service-tag", "AzureCloud"])
                .args(["--service-tags", builtin])
                .env("SNOWDOCTOR_NOW", "2026-09-01T00:00:00Z")
                .output()
                .expect("runs"),
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let body: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        let file = &body["file"];
        assert_eq!(file["source"], builtin);
        assert_eq!(file["cloud"], cloud);
        assert_eq!(file["change_number"], change);
        assert_eq!(file["stale"], stale, "{file}");
    }
}

/// A run clock before the file's date (a wrong system clock, or `SNOWDOCTOR_NOW`) is named as such in
/// the notice and the check's evidence, never as a negative age.
#[test]
fn a_clock_before_the_files_date_is_said_not_a_negative_age() {
    let out = ranges_west_europe_at("2025-10-01T00:00:00Z");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("dated 27 days after the run's date (check the clock and the file's name)")
            && !out.stdout.contains("-27"),
        "{}",
        out.stdout
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run_at("ip-deny-all", "2025-10-01T00:00:00Z", &[], dir.path());
    let report = out.report();
    report.assert_status("ip-allowlist", "fail");
    let evidence = report.check("ip-allowlist")["evidence"].to_string();
    assert!(
        evidence.contains("dated 27 days after the run's date") && !evidence.contains("-27 days"),
        "{evidence}"
    );
}
