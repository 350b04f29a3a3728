//! Markdown that pastes into a ticket or a CI job summary: the verdict, the root causes with their fixes,
//! a table of every check, then the details of each check in a `<details>` block.
//!
//! Text from the instance is untrusted, so `<`, `>` and `&` become entities (a ticket system that
//! renders HTML in Markdown must not run it) and table cells lose their pipes and line breaks.

use super::view;
use crate::model::{CheckResult, RunReport, Status};

/// Renders the Markdown document.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let verdict = &report.verdict;
    out.push_str(&format!(
        "## {} snowdoctor: {} — {}\n\n",
        emoji(verdict.status),
        view::status_word(verdict.status),
        inline(&verdict.headline)
    ));
    out.push_str(&format!(
        "**Instance** {} · **profile** `{}` · **as** `{}` · {} · {} · {}\n\n",
        inline(&report.instance),
        code(&report.profile),
        code(if report.user.is_empty() {
            "-"
        } else {
            &report.user
        }),
        inline(&report.started_at),
        view::duration(report.duration_ms),
        view::counts_line(report)
    ));
    root_causes(&mut out, report);
    table(&mut out, report);
    details(&mut out, report);
    footer(&mut out, report);
    out
}

fn root_causes(out: &mut String, report: &RunReport) {
    let causes = view::root_causes(report);
    if causes.is_empty() {
        return;
    }
    out.push_str(if causes.len() == 1 {
        "### Root cause\n\n"
    } else {
        "### Root causes\n\n"
    });
    for (n, check) in causes.iter().enumerate() {
        out.push_str(&format!(
            "{}. **`{}`** — {}\n",
            n + 1,
            code(&check.id),
            inline(&check.summary)
        ));
        if let Some(fix) = &check.remediation {
            out.push_str(&format!("   **Fix:** {}\n", inline(fix)));
        }
    }
    out.push('\n');
}

fn table(out: &mut String, report: &RunReport) {
    out.push_str(
        "### Checks\n\n| Area | Status | Check | Summary | Time |\n|---|---|---|---|---:|\n",
    );
    for (area, checks) in view::by_area(report) {
        for check in checks {
            let summary = match view::blocked_reason(report, check) {
                Some(reason) => format!("{reason}. {}", check.summary),
                None => check.summary.clone(),
            };
            out.push_str(&format!(
                "| {} | {} {} | `{}` | {} | {} |\n",
                view::area_title(area),
                emoji(check.status),
                check.status,
                code(&check.id),
                cell(&summary),
                view::duration(check.duration_ms)
            ));
        }
    }
    out.push('\n');
}

fn details(out: &mut String, report: &RunReport) {
    out.push_str("### Details\n\n");
    for check in &report.checks {
        let open = if view::is_problem(check.status) {
            " open"
        } else {
            ""
        };
        out.push_str(&format!(
            "<details{open}><summary>{} <code>{}</code> {} — {}</summary>\n\n",
            emoji(check.status),
            inline(&check.id),
            inline(&check.title),
            check.status
        ));
        check_body(out, report, check);
        out.push_str("</details>\n\n");
    }
}

fn check_body(out: &mut String, report: &RunReport, check: &CheckResult) {
    out.push_str(&format!("{}\n\n", inline(&check.summary)));
    if let Some(reason) = view::blocked_reason(report, check) {
        out.push_str(&format!("*{}*\n\n", inline(&reason)));
    }
    if !check.evidence.is_empty() {
        out.push_str("| Evidence | Value |\n|---|---|\n");
        for evidence in &check.evidence {
            out.push_str(&format!(
                "| {} | {} |\n",
                cell(&evidence.label),
                cell(&evidence.value)
            ));
        }
        out.push('\n');
    }
    if !check.steps.is_empty() {
        out.push_str("| Step | Status | Detail | Time |\n|---|---|---|---:|\n");
        for step in &check.steps {
            out.push_str(&format!(
                "| {} | {} {} | {} | {} |\n",
                cell(&step.name),
                emoji(step.status),
                step.status,
                cell(&step.detail),
                view::duration(step.duration_ms)
            ));
        }
        out.push('\n');
    }
    // A root cause's fix is printed once, in the root-cause list at the top.
    match &check.remediation {
        Some(_) if check.root_cause => out.push_str("**Fix:** under *Root causes*, above.\n\n"),
        Some(fix) => out.push_str(&format!("**Fix:** {}\n\n", inline(fix))),
        None => {}
    }
    if !check.codes.is_empty() {
        let codes: Vec<String> = check
            .codes
            .iter()
            .map(|c| format!("`{}`", code(c)))
            .collect();
        let label = if codes.len() == 1 { "Code" } else { "Codes" };
        out.push_str(&format!("- {label}: {}\n", codes.join(", ")));
    }
    for doc in &check.docs {
        out.push_str(&format!("- Docs: <{}>\n", inline(doc)));
    }
    out.push_str(&format!(
        "- Severity {} · defined in `{}` · `snowdoctor explain {}`\n\n",
        view::severity_word(check.severity),
        code(&check.manifest),
        code(&check.id)
    ));
}

fn footer(out: &mut String, report: &RunReport) {
    if !report.notes.is_empty() {
        out.push_str("### Notes\n\n");
        for note in &report.notes {
            out.push_str(&format!("- {}\n", inline(note)));
        }
        out.push('\n');
    }
    if !report.writes.is_empty() {
        out.push_str("### Records written to the instance\n\n| Table | Number | sys_id | State |\n|---|---|---|---|\n");
        for write in &report.writes {
            out.push_str(&format!(
                "| {} | {} | `{}` | {} |\n",
                cell(&write.table),
                cell(&write.number),
                code(&write.sys_id),
                cell(write.state.as_str())
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "<sub>{} {} · report schema {}</sub>\n",
        inline(&report.tool.name),
        inline(&report.tool.version),
        inline(&report.schema_version)
    ));
}

fn emoji(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
        Status::Inconclusive => "❔",
        Status::Blocked => "⛔",
        Status::Skipped => "⏭️",
        Status::NotAssessed => "🚫",
        Status::Interrupted => "⏹️",
    }
}

/// Untrusted text in running Markdown: HTML-significant characters become entities, line breaks spaces.
fn inline(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\r', '\n'], " ")
}

/// Untrusted text in a table cell: also no pipe may end the cell early.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Text inside backticks: a backtick would close the span, so it is replaced.
fn code(text: &str) -> String {
    text.replace('`', "'")
        .replace(['\r', '\n'], " ")
        .replace('|', "\\|")
}
