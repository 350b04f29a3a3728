//! Benchmark (not a test): a full diagnosis of the embedded emulator with 80 ms latency per request, with
//! the default concurrency and with `--jobs 1`, measured in the same run and printed as a ratio.
//!
//! Run: `cargo bench --bench diagnosis`.

use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;
const LATENCY_MS: &str = "80";

fn run_once(jobs: &str) -> Duration {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_snowdoctor"))
        .args([
            "demo",
            "--latency-ms",
            LATENCY_MS,
            "--format",
            "json",
            "--no-progress",
            "--jobs",
            jobs,
        ])
        .output()
        .expect("snowdoctor demo runs");
    let elapsed = started.elapsed();
    let code = output.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "demo exited {code}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // Interleave the two configurations so machine noise affects both alike.
    let mut concurrent = Vec::new();
    let mut serial = Vec::new();
    for _ in 0..RUNS {
        concurrent.push(run_once("8"));
        serial.push(run_once("1"));
    }
    let (c, s) = (median(concurrent), median(serial));
    println!("full diagnosis, emulator latency {LATENCY_MS} ms, median of {RUNS} runs");
    println!("  --jobs 8 (default): {:>8.0} ms", c.as_secs_f64() * 1000.0);
    println!(
        "  --jobs 1 (baseline): {:>7.0} ms",
        s.as_secs_f64() * 1000.0
    );
    println!(
        "  speed-up: {:.2}x (baseline / concurrent)",
        s.as_secs_f64() / c.as_secs_f64()
    );
}
