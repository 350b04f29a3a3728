//! A real terminal through tmux: the binary sees a tty of a given size, the way a user's shell runs it.
//! Skipped with a clear note when tmux is missing, required when `CI` is set.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A detached tmux server on its own socket, killed on drop.
pub struct Tmux {
    socket: String,
}

/// Whether tmux can run here; panics in CI when it cannot (the gate must not skip silently).
pub fn available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        assert!(
            !in_ci,
            "tmux is missing: apt-get install -y tmux (required in CI)"
        );
        eprintln!(
            "TTY TEST NOT RUN: tmux is missing (apt-get install -y tmux); it is required when CI is set"
        );
    }
    ok
}

impl Tmux {
    /// Starts `shell_command` in a `width`×`height` terminal.
    pub fn start(width: u16, height: u16, shell_command: &str) -> Tmux {
        let socket = format!("snowdoctor-test-{}-{}", std::process::id(), rand_suffix());
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(shell_command)
            .env_remove("TMUX")
            .status()
            .expect("tmux starts");
        assert!(status.success(), "tmux new-session failed");
        // Keep the pane after the command exits so its output can be captured.
        let _ = Command::new("tmux")
            .args(["-L", &socket, "set-option", "-g", "remain-on-exit", "on"])
            .status();
        Tmux { socket }
    }

    /// The pane's text (`-e`: with colour escapes), once `marker` shows up (at most `timeout`).
    pub fn capture_when(&self, marker: &str, escapes: bool, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            let text = self.capture(escapes);
            // `__END__` is complete only with the exit status after it.
            let complete = match text.find(marker) {
                Some(at) if marker == "__END__" => {
                    text[at + marker.len()..].starts_with(|c: char| c.is_ascii_digit())
                }
                Some(_) => true,
                None => false,
            };
            if complete || started.elapsed() > timeout {
                return text;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn capture(&self, escapes: bool) -> String {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-"]);
        if escapes {
            command.arg("-e");
        }
        let out = command.output().expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Tmux {
    /// Types `keys` and Enter into the pane.
    pub fn send_line(&self, keys: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", "-l", keys])
            .status()
            .expect("send-keys");
        assert!(status.success());
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", "Enter"])
            .status();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

/// A shell command line running the binary with `args` in a clean environment, then a marker.
pub fn shell_line(binary: &Path, env: &[(&str, &str)], args: &str) -> String {
    let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        // The pane must outlive the command (its output is captured after it exits): `sleep` keeps it,
        // and the server's kill on drop ends it.
        "env -u COLUMNS -u NO_COLOR -u CLICOLOR_FORCE TERM=xterm-256color {} {} {args}; echo __END__$?; sleep 600",
        env.join(" "),
        binary.display()
    )
}
