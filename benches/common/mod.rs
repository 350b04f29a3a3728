//! What the `diagnosis` and `fleet` benchmarks share: in-process emulators on loopback, the real binary
//! run with a deadline, the critical path read back from a HAR transcript, and the child's peak RSS.

#![allow(dead_code, reason = "each benchmark uses part of this module")]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use snowdoctor::emulator::{Emulator, EmulatorOptions};

/// Emulated network latency per request, as the issue measures it.
pub const LATENCY: Duration = Duration::from_millis(80);

/// No benchmark run may take longer than this; the child is killed and the benchmark fails.
pub const DEADLINE: Duration = Duration::from_secs(180);

/// An emulator with its CA written next to the benchmark's other files.
pub struct Instance {
    pub emulator: Emulator,
    pub ca: PathBuf,
}

impl Instance {
    /// Starts the healthy scenario on loopback with [`LATENCY`].
    pub fn start(dir: &Path, name: &str) -> Instance {
        let emulator = Emulator::start_blocking(EmulatorOptions {
            scenario: "healthy".into(),
            latency: LATENCY,
            ..EmulatorOptions::default()
        })
        .expect("emulator starts on loopback");
        assert!(
            emulator.addr().ip().is_loopback(),
            "benchmarks stay on loopback"
        );
        let ca = dir.join(format!("{name}.ca.pem"));
        std::fs::write(&ca, emulator.ca_pem().expect("TLS CA")).expect("write CA");
        Instance { emulator, ca }
    }

    /// The flags `demo` gives itself: the integration's names and client id, the sample service tags.
    pub fn run_args(&self) -> Vec<String> {
        let creds = self.emulator.credentials();
        [
            "run",
            "--instance",
            &self.emulator.base_url(),
            "--user",
            &creds.user,
            "--ca-cert",
            &self.ca.display().to_string(),
            "--integration-user",
            &creds.integration_user,
            "--oauth-entity",
            &creds.oauth_entity,
            "--client-id",
            &creds.client_id,
            "--service-tags",
            snowdoctor::azure::SAMPLE_SERVICE_TAGS,
            "--no-progress",
        ]
        .map(String::from)
        .to_vec()
    }

    /// The secrets of the emulator, as `run` reads them.
    pub fn secret_env(&self, prefix: &str) -> Vec<(String, String)> {
        let creds = self.emulator.credentials();
        vec![
            (
                format!("{prefix}PASSWORD"),
                creds.password.expose_secret().into(),
            ),
            (
                format!("{prefix}INTEGRATION_PASSWORD"),
                creds.integration_password.expose_secret().into(),
            ),
            (
                format!("{prefix}CLIENT_SECRET"),
                creds.client_secret.expose_secret().into(),
            ),
        ]
    }
}

/// A finished child: exit code, stdout, wall time and peak resident set size.
pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub wall: Duration,
    /// `VmHWM` of the child, sampled every few milliseconds until it exits.
    pub peak_rss_kib: u64,
    /// CPU time (user + system) the child used.
    pub cpu: Duration,
}

/// CPU time of this process (its own threads: in the benchmarks, the in-process emulators) and of
/// its reaped children, from `/proc/self/stat` (clock ticks of 10 ms, Linux's `USER_HZ`).
pub fn cpu_times() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    // utime, stime, cutime, cstime are fields 14–17 of stat(5); `fields[0]` is field 3.
    let ticks = |i: usize| fields.get(i - 3).copied().unwrap_or(0);
    let tick = Duration::from_millis(10);
    (
        tick * (ticks(14) + ticks(15)) as u32,
        tick * (ticks(16) + ticks(17)) as u32,
    )
}

/// Runs the real binary with `args` and `env` (no inherited `SNOWDOCTOR_*`), killing it at [`DEADLINE`].
pub fn snowdoctor(args: &[String], env: &[(String, String)]) -> Finished {
    let mut command = Command::new(env!("CARGO_BIN_EXE_snowdoctor"));
    for (key, _) in std::env::vars() {
        if key.starts_with("SNOWDOCTOR_") {
            command.env_remove(key);
        }
    }
    command
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let (_, children_before) = cpu_times();
    let started = Instant::now();
    let mut child = command.spawn().expect("snowdoctor starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_rss_kib = 0;
    let status = loop {
        // Read before reaping: VmHWM only grows, and is gone once the process has exited.
        if let Some(kib) = std::fs::read_to_string(&status_path)
            .ok()
            .as_deref()
            .and_then(vm_hwm_kib)
        {
            peak_rss_kib = peak_rss_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait for snowdoctor") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("snowdoctor {args:?} exceeded the {DEADLINE:?} deadline");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    let (_, children_after) = cpu_times();
    Finished {
        code: status.code().unwrap_or(-1),
        stdout: reader.join().unwrap_or_default(),
        wall,
        peak_rss_kib,
        cpu: children_after.saturating_sub(children_before),
    }
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// One HTTP exchange of a HAR transcript, in milliseconds from the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: f64,
    pub end: f64,
}

/// The exchanges that went over the wire: a batch's sub-requests (entries carrying `_batch`) travel
/// inside their batch's POST and are not counted again.
pub fn wire_spans(har: &serde_json::Value) -> Vec<Span> {
    har["log"]["entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e.get("_batch").is_none())
                .filter_map(|e| {
                    let start = chrono::DateTime::parse_from_rfc3339(e["startedDateTime"].as_str()?)
                        .ok()?
                        .timestamp_micros() as f64
                        / 1000.0;
                    Some(Span {
                        start,
                        end: start + e["time"].as_f64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The critical-path depth: the longest chain of exchanges each starting after the previous one
/// ended (earliest-end-first selection finds the longest such chain). A millisecond of slack absorbs
/// the whole-millisecond `time` of HAR entries.
pub fn critical_path(spans: &[Span]) -> usize {
    let mut by_end = spans.to_vec();
    by_end.sort_by(|a, b| a.end.total_cmp(&b.end));
    let mut depth = 0;
    let mut last_end = f64::NEG_INFINITY;
    for span in by_end {
        if span.start >= last_end - 1.0 {
            depth += 1;
            last_end = span.end;
        }
    }
    depth
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
