//! Benchmark (not a test): a full diagnosis of an in-process healthy emulator at 80 ms latency per
//! request, through the real binary. From the run's own HAR transcript it prints the number of HTTP
//! requests, the critical-path depth (the longest chain of requests each waiting for the previous one)
//! and the wall time against the floor that depth sets (depth × latency). Each figure is printed for
//! the Batch API answering (its items costing 5 ms each inside the instance, and the emulator's
//! pessimistic default of the full latency each) and for it refused (404: the fallback to individual
//! requests), and the default `--jobs 8` is compared with `--jobs 1`, all in the same run. "wall" is the
//! run's own `duration_ms` (from the first request to the verdict); "process wall" adds the binary's
//! startup and the writing of its reports.
//!
//! Run: `cargo bench --bench diagnosis`. Loopback only; every run has a deadline.

mod common;

use std::time::Duration;

use common::{Instance, LATENCY, critical_path, median, ms, snowdoctor, wire_spans};
use snowdoctor::emulator::BatchApi;

const RUNS: usize = 3;
/// What a batch item costs inside the instance in the "instance time" configuration.
const ITEM_TIME: Duration = Duration::from_millis(5);

/// One configuration's figures: the counts of its last run, the median wall of its runs.
struct Figures {
    label: &'static str,
    requests: usize,
    har_entries: usize,
    depth: usize,
    walls: Vec<Duration>,
    wall: Duration,
    /// From spawning the binary to its exit: startup and report writing included.
    process_walls: Vec<Duration>,
    process_wall: Duration,
}

/// One diagnosis of `instance` with `--jobs jobs`, recorded into `figures`.
fn sample(
    instance: &Instance,
    dir: &std::path::Path,
    jobs: &str,
    run: usize,
    figures: &mut Figures,
) {
    let har_path = dir.join(format!("{}-{run}.har", figures.label).replace([' ', ','], "_"));
    let mut args = instance.run_args();
    args.extend(
        [
            "--format",
            "json",
            "--jobs",
            jobs,
            "--report",
            &format!("har={}", har_path.display()),
        ]
        .map(String::from),
    );
    let before = instance.emulator.request_count();
    let finished = snowdoctor(&args, &instance.secret_env("SNOWDOCTOR_"));
    figures.requests = instance.emulator.request_count() - before;
    assert_eq!(
        finished.code, 0,
        "a healthy run passes:\n{}",
        finished.stdout
    );
    let report: serde_json::Value = serde_json::from_str(&finished.stdout).expect("JSON report");
    let har: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&har_path).expect("HAR written"))
            .expect("HAR is JSON");
    figures.har_entries = har["log"]["entries"].as_array().map_or(0, Vec::len);
    figures.depth = critical_path(&wire_spans(&har));
    figures.walls.push(Duration::from_millis(
        report["duration_ms"].as_u64().expect("duration_ms"),
    ));
    figures.process_walls.push(finished.wall);
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The emulator's default: each batch item costs the full latency inside the instance (items run
    // one after another), a pessimistic bound, since the latency stands for network and instance time.
    let pessimistic = Instance::start(dir.path(), "batch-pessimistic");
    // Items costing what a Table API read costs inside an instance, with no network round trip.
    let instance_time = Instance::start(dir.path(), "batch-instance-time");
    instance_time.emulator.set_batch_item_latency(ITEM_TIME);
    let without_batch = Instance::start(dir.path(), "no-batch");
    without_batch.emulator.set_batch_api(BatchApi::Missing);
    let configurations = [
        (&instance_time, "8", "batch (items 5 ms)"),
        (&pessimistic, "8", "batch (items 80 ms)"),
        (&without_batch, "8", "no batch (404)"),
        (&instance_time, "1", "batch, --jobs 1"),
    ];
    let mut rows: Vec<Figures> = configurations
        .iter()
        .map(|(_, _, label)| Figures {
            label,
            requests: 0,
            har_entries: 0,
            depth: 0,
            walls: Vec::new(),
            wall: Duration::ZERO,
            process_walls: Vec::new(),
            process_wall: Duration::ZERO,
        })
        .collect();
    // Interleaved so machine noise affects every configuration alike.
    for run in 0..RUNS {
        for ((instance, jobs, _), figures) in configurations.iter().zip(rows.iter_mut()) {
            sample(instance, dir.path(), jobs, run, figures);
        }
    }
    for row in &mut rows {
        row.wall = median(std::mem::take(&mut row.walls));
        row.process_wall = median(std::mem::take(&mut row.process_walls));
    }

    let latency = ms(LATENCY);
    println!(
        "full healthy diagnosis, {latency:.0} ms emulated latency per request, median of {RUNS} runs"
    );
    println!(
        "  {:<22} {:>8} {:>11} {:>14} {:>9} {:>22} {:>13}",
        "configuration",
        "requests",
        "HAR entries",
        "critical path",
        "wall",
        "wall ÷ (path × latency)",
        "process wall"
    );
    let ratio = |row: &Figures| ms(row.wall) / (row.depth as f64 * latency);
    for row in &rows {
        println!(
            "  {:<22} {:>8} {:>11} {:>14} {:>6.0} ms {:>22.2} {:>10.0} ms",
            row.label,
            row.requests,
            row.har_entries,
            row.depth,
            ms(row.wall),
            ratio(row),
            ms(row.process_wall)
        );
    }
    let (batched, pessimistic, alone, serial) = (&rows[0], &rows[1], &rows[2], &rows[3]);
    println!(
        "  --jobs 8 vs --jobs 1: {:.2}x ({:.0} ms vs {:.0} ms)",
        ms(serial.wall) / ms(batched.wall),
        ms(batched.wall),
        ms(serial.wall)
    );
    println!(
        "  batch vs no batch: {} vs {} requests, {:.0} ms (items 5 ms) / {:.0} ms (items 80 ms) vs {:.0} ms",
        batched.requests,
        alone.requests,
        ms(batched.wall),
        ms(pessimistic.wall),
        ms(alone.wall)
    );
    println!(
        "  goals: requests ≤ 15 with batch: {}; critical path ≤ 9: {} (batch) / {} (no batch); \
         wall ÷ (path × latency) ≤ 1.15: {} (items 5 ms) / {} (items 80 ms) / {} (no batch)",
        met(batched.requests <= 15),
        met(batched.depth <= 9),
        met(alone.depth <= 9),
        met(ratio(batched) <= 1.15),
        met(ratio(pessimistic) <= 1.15),
        met(ratio(alone) <= 1.15)
    );
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}
