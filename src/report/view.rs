//! What the human-readable formats (terminal, Markdown, HTML) share: grouping by area, the order
//! problems are told in, and the wording of statuses, blockers and durations. One place, so the three
//! formats tell the same story.

use crate::model::{Area, CheckResult, RunReport, Severity, Status};

/// Checks grouped by area, in [`Area::ALL`] order, each group in report order; empty areas left out.
pub fn by_area(report: &RunReport) -> Vec<(Area, Vec<&CheckResult>)> {
    Area::ALL
        .into_iter()
        .map(|area| {
            let checks: Vec<&CheckResult> =
                report.checks.iter().filter(|c| c.area == area).collect();
            (area, checks)
        })
        .filter(|(_, checks)| !checks.is_empty())
        .collect()
}

/// The root causes named by the verdict, in its order; else every check flagged as one.
pub fn root_causes(report: &RunReport) -> Vec<&CheckResult> {
    let named: Vec<&CheckResult> = report
        .verdict
        .root_causes
        .iter()
        .filter_map(|id| report.check(id))
        .collect();
    if named.is_empty() {
        report.checks.iter().filter(|c| c.root_cause).collect()
    } else {
        named
    }
}

/// True for the statuses a reader has to act on or look at.
pub fn is_problem(status: Status) -> bool {
    matches!(status, Status::Fail | Status::Warn | Status::Inconclusive)
}

/// Failures, warnings and inconclusive checks: root causes first, then by status (fail, inconclusive,
/// warn) and severity, ties in report order.
pub fn problems(report: &RunReport) -> Vec<&CheckResult> {
    let mut out: Vec<&CheckResult> = report
        .checks
        .iter()
        .filter(|c| is_problem(c.status))
        .collect();
    let rank = |status: Status| match status {
        Status::Fail => 0,
        Status::Inconclusive => 1,
        _ => 2,
    };
    out.sort_by_key(|c| (!c.root_cause, rank(c.status), std::cmp::Reverse(c.severity)));
    out
}

/// Upper-case status word, padded by no one: `PASS`, `FAIL`, ….
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Inconclusive => "INCONCLUSIVE",
        Status::Blocked => "BLOCKED",
        Status::Skipped => "SKIPPED",
        Status::Interrupted => "INTERRUPTED",
    }
}

/// A one-character mark that reads without colour.
pub fn status_mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✔",
        Status::Warn => "!",
        Status::Fail => "✘",
        Status::Inconclusive => "?",
        Status::Blocked => "⊘",
        Status::Skipped => "–",
        Status::Interrupted => "■",
    }
}

/// `blocked by oauth-entity (blocked), integration-user (fail)`: each blocker with its own status.
pub fn blocked_reason(report: &RunReport, check: &CheckResult) -> Option<String> {
    if check.blocked_by.is_empty() {
        return None;
    }
    let blockers: Vec<String> = check
        .blocked_by
        .iter()
        .map(|id| match report.check(id) {
            Some(blocker) => format!("{id} ({})", blocker.status),
            None => id.clone(),
        })
        .collect();
    Some(format!("blocked by {}", blockers.join(", ")))
}

/// Why a check did not count as passed or failed, for skipped and blocked checks.
pub fn not_run_reason(report: &RunReport, check: &CheckResult) -> String {
    match blocked_reason(report, check) {
        Some(reason) if check.summary.is_empty() => reason,
        Some(reason) => format!("{reason}: {}", check.summary),
        None => check.summary.clone(),
    }
}

/// `84 ms`, `1.2 s`, `2 min 5 s`.
pub fn duration(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{}.{} s", ms / 1_000, (ms % 1_000) / 100)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1_000)
    }
}

/// `3 pass · 1 fail · 2 blocked`, leaving out zero counts.
pub fn counts_line(report: &RunReport) -> String {
    let parts: Vec<String> = report
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    parts.join(" · ")
}

/// Lower-case severity, as in the JSON report.
pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
        Severity::Critical => "critical",
    }
}

/// The area as a reader sees it.
pub fn area_title(area: Area) -> &'static str {
    match area {
        Area::Connectivity => "Connectivity",
        Area::Version => "Instance version",
        Area::Privileges => "Diagnosing account",
        Area::App => "Connector app",
        Area::CrossScope => "Cross-scope access",
        Area::OauthEntity => "OAuth entity",
        Area::IntegrationUser => "Integration user",
        Area::Sso => "Single sign-on",
        Area::IpAllowlist => "IP allowlist",
        Area::Connect => "OAuth connect",
        Area::RoundTrip => "Ticket round trip",
    }
}

/// Rewrites each `*label*` span of a remediation text (Markdown emphasis marking a UI label) with
/// `render(label)`; a lone `*`, or one next to a space, stays text.
pub fn map_labels(text: &str, mut render: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('*') {
        let after = &rest[start + 1..];
        match after.find('*') {
            Some(len)
                if len > 0 && !after[..len].starts_with(' ') && !after[..len].ends_with(' ') =>
            {
                out.push_str(&rest[..start]);
                out.push_str(&render(&after[..len]));
                rest = &after[len + 1..];
            }
            _ => {
                out.push_str(&rest[..=start]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_rewritten_and_lone_asterisks_kept() {
        let quoted = map_labels("set *Can read* and *Can create*; 2 * 3; *x", |l| {
            format!("“{l}”")
        });
        assert_eq!(quoted, "set “Can read” and “Can create”; 2 * 3; *x");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(84), "84 ms");
        assert_eq!(duration(1_234), "1.2 s");
        assert_eq!(duration(125_000), "2 min 5 s");
    }
}
