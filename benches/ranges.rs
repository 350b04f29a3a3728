//! Benchmark: parse + coverage of the real Public service-tag file against 1,000 synthetic rules.
//!
//! Each run reads the 4.1 MB file (the embedded snapshot, written to a temporary directory) and the
//! rules CSV from disk, parses both, builds the inbound policy and diagnoses every tag (per tag,
//! overall, repair hint). Two baselines are measured in the same run:
//! - the floor: reading the same file and scanning it with `serde_json` into `IgnoredAny` (a JSON
//!   parse that builds nothing); target: ours ≤ 3× that;
//! - Python: the same work with `json` + `ipaddress` (`ranges_baseline.py`), when `python3` exists
//!   (said so when it does not); both sides print a summary of the result, which must agree; target:
//!   ours ≥ 80× faster.
//!
//! `SNOWDOCTOR_BENCH_RUNS` (default 21) and `SNOWDOCTOR_BENCH_PY_RUNS` (default 3) set the run counts.

use std::hint::black_box;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use snowdoctor::azure::reference_data;
use snowdoctor::azure::snapshot::PUBLIC;
use snowdoctor::azure::{
    Coverage, Direction, Selection, ServiceTagFile, TagSource, diagnose, rules_from_file,
};

const BASELINE_PY: &str = include_str!("ranges_baseline.py");
const RULES: usize = 1_000;
/// Ours ÷ the bare `IgnoredAny` scan, at most.
const TARGET_VS_SCAN: f64 = 3.0;
/// Python ÷ ours, at least.
const TARGET_VS_PYTHON: f64 = 80.0;

/// splitmix64: a fixed seed gives the same rules on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Deny-all for both families, then Allow ranges over random Azure prefixes (some whole, some a
/// part, some spanning neighbours), a few random ones elsewhere, and a few inactive or outbound rules.
fn synthetic_rules(file: &ServiceTagFile) -> String {
    let prefixes: Vec<ipnet::IpNet> = file
        .tags
        .iter()
        .flat_map(|t| t.prefixes.iter().copied())
        .collect();
    let mut rng = Rng(0x5EED_2025_1028);
    let mut csv = String::from("range_start,range_end,type,flow,active,description\n");
    csv.push_str("0.0.0.0,255.255.255.255,deny,bidirectional,true,deny all v4\n");
    csv.push_str(
        "::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,deny,bidirectional,true,deny all v6\n",
    );
    for i in 2..RULES {
        let flow = match rng.below(10) {
            0 => "outbound",
            1..=4 => "inbound",
            _ => "bidirectional",
        };
        let active = if rng.below(20) == 0 { "false" } else { "true" };
        let (start, end) = if rng.below(10) == 0 {
            let a = rng.next() as u32;
            let b = a.saturating_add(rng.below(1 << 16) as u32);
            (
                std::net::Ipv4Addr::from(a).to_string(),
                std::net::Ipv4Addr::from(b).to_string(),
            )
        } else {
            let net = prefixes[rng.below(prefixes.len() as u64) as usize];
            let (family, iv) = snowdoctor::azure::Interval::of_net(&net);
            let span = iv.end - iv.start;
            let end = match rng.below(3) {
                0 => iv.end,
                1 => iv.start + span / 2,
                _ => iv.end.saturating_add(span).min(family.max()),
            };
            (
                family.addr(iv.start).to_string(),
                family.addr(end).to_string(),
            )
        };
        csv.push_str(&format!(
            "{start},{end},allow,{flow},{active},synthetic {i}\n"
        ));
    }
    csv
}

/// The floor: read the file and parse it as JSON, building nothing.
fn scan(tags: &Path) -> Result<(), String> {
    let bytes = std::fs::read(tags).map_err(|e| format!("read {}: {e}", tags.display()))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
    black_box(serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| e.to_string())?);
    Ok(())
}

/// What `ranges --service-tags FILE --rules FILE` does: both files read (at once), then judged.
fn once(tags: &Path, rules: &Path) -> Result<Coverage, String> {
    let (file, rules) = TagSource::File(tags.to_path_buf()).load_with_rules(Some(rules));
    let file = file.map_err(|e| e.to_string())?;
    let rules = rules.ok_or("no rules read")?.map_err(|e| e.to_string())?;
    let policy = rules.policy(Direction::Inbound);
    let selections: Vec<Selection> = file.tags.iter().map(Selection::tag).collect();
    Ok(diagnose(&policy, &selections))
}

/// Where the time goes: each phase's median over a few runs.
fn phases(tags: &Path, rules: &Path) -> Result<(), String> {
    let mut parse = Vec::new();
    let mut read_rules = Vec::new();
    let mut cover = Vec::new();
    let mut drops = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let file = black_box(ServiceTagFile::load(tags).map_err(|e| e.to_string())?);
        parse.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let rules = black_box(rules_from_file(rules).map_err(|e| e.to_string())?);
        let policy = rules.policy(Direction::Inbound);
        read_rules.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let selections: Vec<Selection> = file.tags.iter().map(Selection::tag).collect();
        let coverage = black_box(diagnose(&policy, &selections));
        cover.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        drop((coverage, selections, policy, rules));
        drop(file);
        drops.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "  phases: parse {:.2} ms, rules {:.2} ms, coverage {:.2} ms, freeing it all {:.2} ms (medians)",
        median(parse),
        median(read_rules),
        median(cover),
        median(drops)
    );
    Ok(())
}

fn summary(cov: &Coverage) -> serde_json::Value {
    serde_json::json!({
        "prefixes": cov.overall.prefixes,
        "admitted": cov.overall.admitted,
        "partly_blocked": cov.overall.partly_blocked,
        "fully_blocked": cov.overall.fully_blocked,
        "blocked_v4": cov.overall.blocked_v4.value.to_string(),
        "blocked_v6": cov.overall.blocked_v6.value.to_string(),
        "repair_v4": cov.repair.v4.len(),
        "repair_v6": cov.repair.v6.len(),
        "tags_blocked": cov.tags.iter().filter(|t| !t.is_admitted()).count(),
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn python(
    script: &Path,
    tags: &Path,
    rules: &Path,
    runs: usize,
) -> Option<Result<serde_json::Value, String>> {
    let version = Command::new("python3").arg("--version").output().ok()?;
    if !version.status.success() {
        return None;
    }
    let out = match Command::new("python3")
        .arg(script)
        .arg(tags)
        .arg(rules)
        .arg(runs.to_string())
        .output()
    {
        Ok(out) => out,
        Err(e) => return Some(Err(format!("python3 failed to start: {e}"))),
    };
    if !out.status.success() {
        return Some(Err(format!(
            "python3 baseline failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Some(serde_json::from_slice(&out.stdout).map_err(|e| format!("python3 baseline output: {e}")))
}

fn run() -> Result<bool, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    // the embedded snapshot, written out so each run reads and parses a file as `ranges` does
    let tags = reference_data::write_to(&PUBLIC, dir.path())?;
    let seed_file = ServiceTagFile::load(&tags).map_err(|e| e.to_string())?;
    let rules = dir.path().join("rules.csv");
    std::fs::write(&rules, synthetic_rules(&seed_file)).map_err(|e| format!("write rules: {e}"))?;
    let script = dir.path().join("ranges_baseline.py");
    std::fs::write(&script, BASELINE_PY).map_err(|e| format!("write baseline: {e}"))?;

    let runs = env_count("SNOWDOCTOR_BENCH_RUNS", 21);
    let py_runs = env_count("SNOWDOCTOR_BENCH_PY_RUNS", 3);
    let mut result = once(&tags, &rules)?; // warm-up: page cache and allocator
    scan(&tags)?;
    // interleaved, so a noisy neighbour slows both sides alike
    let (mut times, mut scans) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let start = Instant::now();
        result = black_box(once(&tags, &rules)?);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        scan(&tags)?;
        scans.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let rust_ms = median(times.clone());
    let scan_ms = median(scans);
    phases(&tags, &rules)?;
    let ours = summary(&result);
    println!(
        "ranges: parse + coverage of {} ({} prefixes) against {RULES} rules",
        PUBLIC.file_name,
        seed_file.prefix_count()
    );
    println!("  result: {ours}");
    println!(
        "  rust:   median {rust_ms:.2} ms over {runs} runs (min {:.2}, max {:.2})",
        times.iter().copied().fold(f64::INFINITY, f64::min),
        times.iter().copied().fold(0.0, f64::max)
    );
    let vs_scan = rust_ms / scan_ms;
    println!(
        "  floor:  serde_json IgnoredAny scan of the same file, median {scan_ms:.2} ms; ours is {vs_scan:.2}x that; target <= {TARGET_VS_SCAN}x"
    );
    let mut ok = vs_scan <= TARGET_VS_SCAN;
    match python(&script, &tags, &rules, py_runs) {
        None => println!(
            "  python: python3 not found; no Python ratio (the IgnoredAny target still applies)"
        ),
        Some(Err(e)) => {
            println!("  python: {e}");
            ok = false;
        }
        Some(Ok(py)) => {
            let py_ms = py["median_ms"].as_f64().unwrap_or(f64::NAN);
            let theirs = py["summary"].clone();
            let agree = theirs == ours;
            let ratio = py_ms / rust_ms;
            println!(
                "  python: median {py_ms:.1} ms over {py_runs} runs (ipaddress); results agree: {agree}"
            );
            if !agree {
                println!("  python result: {theirs}");
            }
            println!("  ratio:  {ratio:.1}x faster than Python; target >= {TARGET_VS_PYTHON}x");
            ok &= agree && ratio >= TARGET_VS_PYTHON;
        }
    }
    Ok(ok)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            println!("ranges: a target was missed (see above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("ranges benchmark: {e}");
            ExitCode::FAILURE
        }
    }
}
