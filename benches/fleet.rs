//! Benchmark (not a test): `run --targets` over 200 in-process healthy emulators at 80 ms latency each
//! (Batch API items 5 ms each),
//! through the real binary, against one instance diagnosed the same way in the same run. Prints the
//! fleet's wall time as a multiple of one instance's (goal ≤ 4×) and the binary's peak RSS (goal
//! ≤ 150 MB).
//!
//! Run: `cargo bench --bench fleet`. Loopback only; the emulators are bounded (200) and every run has a
//! deadline.

mod common;

use common::{Instance, median, ms, snowdoctor};

const INSTANCES: usize = 200;
const PARALLEL: usize = 200;
const RUNS: usize = 3;

/// A targets file for `instances`, each reading its secrets from `T<i>_*` variables.
fn targets_file(instances: &[Instance], path: &std::path::Path) -> Vec<(String, String)> {
    let mut text = String::new();
    let mut env = Vec::new();
    for (i, instance) in instances.iter().enumerate() {
        let creds = instance.emulator.credentials();
        text.push_str(&format!(
            "[[target]]\nname = \"t{i}\"\ninstance = \"{}\"\nuser = \"{}\"\nca_cert = {:?}\n\
             integration_user = \"{}\"\noauth_entity = \"{}\"\nclient_id = \"{}\"\n\
             password_env = \"T{i}_PASSWORD\"\nintegration_password_env = \"T{i}_INTEGRATION_PASSWORD\"\n\
             client_secret_env = \"T{i}_CLIENT_SECRET\"\n\n",
            instance.emulator.base_url(),
            creds.user,
            instance.ca.display().to_string(),
            creds.integration_user,
            creds.oauth_entity,
            creds.client_id,
        ));
        env.extend(instance.secret_env(&format!("T{i}_")));
    }
    std::fs::write(path, text).expect("write targets file");
    env
}

fn fleet_run(file: &std::path::Path, env: &[(String, String)], expect: usize) -> common::Finished {
    let args = [
        "run",
        "--targets",
        &file.display().to_string(),
        "--parallel-targets",
        &PARALLEL.to_string(),
        "--service-tags",
        snowdoctor::azure::SAMPLE_SERVICE_TAGS,
        "--format",
        "json",
        "--no-progress",
    ]
    .map(String::from);
    let finished = snowdoctor(&args, env);
    let fleet: serde_json::Value = serde_json::from_str(&finished.stdout).expect("fleet JSON");
    assert_eq!(
        finished.code, 0,
        "every healthy target passes; summary: {:#}",
        fleet["summary"]["targets"][0]
    );
    let passed = fleet["summary"]["targets"]
        .as_array()
        .map_or(0, |t| t.iter().filter(|t| t["verdict"] == "pass").count());
    assert_eq!(passed, expect, "every target passed");
    finished
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Batch items at 5 ms inside the instance, as in the `diagnosis` bench's headline figures: the
    // emulator's pessimistic default (the full latency per item) would pad every run with a second of
    // waiting and flatter the ratio.
    let instances: Vec<Instance> = (0..INSTANCES)
        .map(|i| {
            let instance = Instance::start(dir.path(), &format!("i{i}"));
            instance
                .emulator
                .set_batch_item_latency(std::time::Duration::from_millis(5));
            instance
        })
        .collect();
    let one_file = dir.path().join("one.toml");
    let one_env = targets_file(&instances[..1], &one_file);
    let all_file = dir.path().join("all.toml");
    let all_env = targets_file(&instances, &all_file);

    let (mut one, mut all, mut rss) = (Vec::new(), Vec::new(), 0);
    for _ in 0..RUNS {
        one.push(fleet_run(&one_file, &one_env, 1).wall);
        let finished = fleet_run(&all_file, &all_env, INSTANCES);
        rss = rss.max(finished.peak_rss_kib);
        all.push(finished.wall);
    }
    let (one, all) = (median(one), median(all));
    let ratio = ms(all) / ms(one);
    let rss_mb = rss as f64 / 1024.0;
    println!(
        "fleet: {INSTANCES} healthy emulated instances at {:.0} ms latency (batch items 5 ms), --parallel-targets {PARALLEL}, median of {RUNS} runs (process wall)",
        ms(common::LATENCY)
    );
    println!("  one instance:  {:>7.0} ms", ms(one));
    println!("  {INSTANCES} instances: {:>7.0} ms", ms(all));
    println!(
        "  wall ratio:    {ratio:>7.2}x one instance's (goal ≤ 4x: {})",
        if ratio <= 4.0 { "met" } else { "NOT met" }
    );
    println!(
        "  peak RSS:      {rss_mb:>7.1} MB (goal ≤ 150 MB: {})",
        if rss_mb <= 150.0 { "met" } else { "NOT met" }
    );
}
