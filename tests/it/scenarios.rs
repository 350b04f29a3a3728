//! Every emulator scenario, diagnosed through the binary and compared with the table "Expected
//! diagnosis" in `fixtures/instances/README.md`: the profile the demo picks, the exit code, the
//! verdict, and each check that does not pass with its status and finding codes. Every other check must
//! pass or be skipped. Because the expectations are read from the README, the README cannot drift
//! from the behaviour; a scenario missing from the table fails the test too.
//!
//! For each finding code a run reports, the remediation must contain that code's fix as the check's
//! manifest writes it (`[findings.<name>]`, or the shared fix of a common code): scenario in → code,
//! status and fix text out.

use std::collections::BTreeMap;
use std::sync::Mutex;

use snowdoctor::catalogue::Catalogue;
use snowdoctor::checks::code::COMMON;
use snowdoctor::emulator::scenarios;

use crate::support::demo;

const README: &str = include_str!("../../fixtures/instances/README.md");

/// One row of the table.
#[derive(Debug)]
struct Expected {
    scenario: String,
    profile: String,
    exit: i32,
    verdict: String,
    /// check id → (status, codes)
    checks: BTreeMap<String, (String, Vec<String>)>,
    /// Every check the row does not name is blocked (a gate failed), not passed.
    others_blocked: bool,
}

fn cell(text: &str) -> String {
    text.trim().trim_matches('`').to_string()
}

/// Parses the rows between the table's header and the next blank line.
fn expectations() -> Vec<Expected> {
    let start = README
        .find("## Expected diagnosis")
        .expect("the README has an \"Expected diagnosis\" section");
    let mut rows = Vec::new();
    for line in README[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| Scenario"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
        assert_eq!(cells.len(), 5, "a row has 5 cells: {line}");
        let mut checks = BTreeMap::new();
        let mut others_blocked = false;
        for item in cells[4].split(';').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "all others blocked" {
                others_blocked = true;
                continue;
            }
            let words: Vec<String> = item.split_whitespace().map(cell).collect();
            assert!(words.len() >= 2, "`check status [codes]`: {item}");
            checks.insert(words[0].clone(), (words[1].clone(), words[2..].to_vec()));
        }
        rows.push(Expected {
            scenario: cell(cells[0]),
            profile: cell(cells[1]),
            exit: cell(cells[2]).parse().expect("exit code"),
            verdict: cell(cells[3]),
            checks,
            others_blocked,
        });
    }
    rows
}

/// The literal parts of a fix template (the text around its `{placeholders}`).
fn fragments(template: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = template.trim();
    while let Some(open) = rest.find('{') {
        parts.push(rest[..open].to_string());
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    parts.push(rest.to_string());
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| p.len() >= 12)
        .collect()
}

fn fix_of(catalogue: &Catalogue, code: &str) -> String {
    if let Some((_, fix)) = COMMON.iter().find(|(c, _)| c.name == code) {
        return (*fix).to_string();
    }
    let (check, name) = code.split_once('/').expect("check/name");
    let manifest = catalogue.get(check).expect("known check");
    match manifest.findings.get(name) {
        Some(f) => f.fix.clone(),
        None => manifest.remediation.clone(),
    }
}

/// Compares one scenario's run with its row; returns the problems found.
fn compare(expected: &Expected, catalogue: &Catalogue) -> Vec<String> {
    let run = demo(&expected.scenario, &[]);
    let report = run.report().0;
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{}: {what}", expected.scenario));
        }
    };
    check(
        report["profile"] == expected.profile.as_str(),
        format!(
            "profile {} (expected {})",
            report["profile"], expected.profile
        ),
    );
    check(
        run.code == expected.exit,
        format!("exit {} (expected {})", run.code, expected.exit),
    );
    check(
        report["verdict"]["status"] == expected.verdict.as_str(),
        format!(
            "verdict {} (expected {})",
            report["verdict"]["status"], expected.verdict
        ),
    );
    for result in report["checks"].as_array().into_iter().flatten() {
        let id = result["id"].as_str().unwrap_or_default();
        let status = result["status"].as_str().unwrap_or_default();
        let codes: Vec<String> = result["codes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(String::from))
            .collect();
        match expected.checks.get(id) {
            Some((want, want_codes)) => {
                check(
                    status == want && &codes == want_codes,
                    format!("{id} is {status} {codes:?} (expected {want} {want_codes:?})"),
                );
            }
            None if expected.others_blocked => {
                check(
                    status == "blocked" || status == "skipped",
                    format!("{id} is {status} (expected blocked, or skipped as not applicable)"),
                );
            }
            None => check(
                status == "pass" || status == "skipped",
                format!("{id} is {status} {codes:?} (expected pass or skipped)"),
            ),
        }
        let remediation = result["remediation"].as_str().unwrap_or_default();
        for code in &codes {
            for fragment in fragments(&fix_of(catalogue, code)) {
                check(
                    remediation.contains(&fragment),
                    format!("{id}: the fix of {code} is missing {fragment:?} from {remediation:?}"),
                );
            }
        }
    }
    problems
}

#[test]
fn every_scenario_diagnoses_as_the_readme_table_says() {
    let rows = expectations();
    let mut listed: Vec<&str> = rows.iter().map(|r| r.scenario.as_str()).collect();
    listed.sort_unstable();
    let all: Vec<String> = scenarios().into_iter().map(|s| s.name).collect();
    assert_eq!(
        listed,
        all.iter().map(String::as_str).collect::<Vec<_>>(),
        "the README's \"Expected diagnosis\" table lists every scenario"
    );
    let catalogue = Catalogue::load(None).expect("catalogue");
    let problems = Mutex::new(Vec::new());
    let next = Mutex::new(rows.iter());
    // A few runs at a time: each is a whole demo (emulator + diagnosis) of about a second.
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                loop {
                    let row = match next.lock() {
                        Ok(mut rows) => rows.next(),
                        Err(_) => None,
                    };
                    let Some(row) = row else { break };
                    let found = compare(row, &catalogue);
                    if let Ok(mut all) = problems.lock() {
                        all.extend(found);
                    }
                }
            });
        }
    });
    let problems = problems.into_inner().unwrap_or_default();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn fix_fragments_skip_placeholders() {
    assert_eq!(
        fragments("Open {entity} in System OAuth > Application Registry and select Active."),
        vec!["in System OAuth > Application Registry and select Active."]
    );
}
