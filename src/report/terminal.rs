//! The default format: what an admin reads in a terminal, most important first — the verdict, the root
//! causes and their fixes, a table of every check by area, then each problem with its evidence.
//!
//! Colour codes come from `colored`'s palette but are applied here, not through its global switch, so
//! the output depends only on the `color` flag and `NO_COLOR`, never on what stdout happens to be.

use colored::Color;
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::view;
use crate::model::{CheckResult, RunReport, Status};

/// Fits a 100-column terminal.
const WIDTH: u16 = 100;

/// Applies colour to text, or leaves it alone.
struct Painter {
    on: bool,
}

impl Painter {
    fn new(color: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Painter {
            on: color && !no_color,
        }
    }

    fn paint(&self, text: &str, color: Color, bold: bool) -> String {
        if !self.on {
            return text.to_string();
        }
        let bold = if bold { "1;" } else { "" };
        format!("\x1b[{bold}{}m{text}\x1b[0m", color.to_fg_str())
    }

    fn dim(&self, text: &str) -> String {
        if self.on {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn status(&self, status: Status) -> String {
        let word = format!(
            "{} {}",
            view::status_mark(status),
            view::status_word(status)
        );
        self.paint(&word, status_color(status), true)
    }
}

fn status_color(status: Status) -> Color {
    match status {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail => Color::Red,
        Status::Inconclusive => Color::Magenta,
        Status::Blocked | Status::Skipped => Color::BrightBlack,
    }
}

/// Renders the report for a terminal.
pub fn render(report: &RunReport, color: bool) -> String {
    let p = Painter::new(color);
    let mut out = String::new();
    verdict(&mut out, &p, report);
    root_causes(&mut out, &p, report);
    out.push_str(&checks_table(report, &p));
    out.push('\n');
    problems(&mut out, &p, report);
    steps(&mut out, &p, report);
    footer(&mut out, &p, report);
    out
}

fn verdict(out: &mut String, p: &Painter, report: &RunReport) {
    let status = report.verdict.status;
    out.push_str(&format!(
        "{}  {}\n",
        p.status(status),
        p.paint(&report.verdict.headline, status_color(status), true)
    ));
    out.push_str(&p.dim(&format!(
        "{} · profile {} · as {} · {} · {} · {}\n",
        report.instance,
        report.profile,
        if report.user.is_empty() {
            "-"
        } else {
            &report.user
        },
        report.started_at,
        view::duration(report.duration_ms),
        view::counts_line(report)
    )));
    out.push('\n');
}

fn root_causes(out: &mut String, p: &Painter, report: &RunReport) {
    let causes = view::root_causes(report);
    if causes.is_empty() {
        return;
    }
    let heading = if causes.len() == 1 {
        "Root cause"
    } else {
        "Root causes"
    };
    out.push_str(&p.paint(heading, Color::Red, true));
    out.push('\n');
    for (n, check) in causes.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} — {}\n",
            n + 1,
            p.paint(&check.id, Color::White, true),
            check.summary
        ));
        if let Some(fix) = &check.remediation {
            out.push_str(&format!(
                "   {} {fix}\n",
                p.paint("Fix:", Color::Cyan, true)
            ));
        }
    }
    out.push('\n');
}

fn checks_table(report: &RunReport, p: &Painter) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH)
        .set_header(vec!["Area", "Status", "Check", "Summary", "Time"]);
    for (area, checks) in view::by_area(report) {
        for (n, check) in checks.iter().enumerate() {
            let area_cell = if n == 0 { view::area_title(area) } else { "" };
            let summary = match view::blocked_reason(report, check) {
                Some(reason) => format!("{reason}. {}", check.summary),
                None => check.summary.clone(),
            };
            table.add_row(vec![
                Cell::new(area_cell),
                Cell::new(p.status(check.status)),
                Cell::new(&check.id),
                Cell::new(summary),
                Cell::new(view::duration(check.duration_ms)),
            ]);
        }
    }
    table.to_string()
}

fn problems(out: &mut String, p: &Painter, report: &RunReport) {
    let problems = view::problems(report);
    if problems.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(&p.paint("Problems", Color::White, true));
    out.push('\n');
    for check in problems {
        problem(out, p, check);
    }
}

fn problem(out: &mut String, p: &Painter, check: &CheckResult) {
    out.push_str(&format!(
        "\n{} {} — {}{}\n",
        p.status(check.status),
        p.paint(&check.id, Color::White, true),
        check.title,
        if check.root_cause {
            " (root cause)"
        } else {
            ""
        }
    ));
    out.push_str(&format!("  {}\n", check.summary));
    for evidence in &check.evidence {
        out.push_str(&format!(
            "  {} {}: {}\n",
            p.dim("•"),
            p.dim(&evidence.label),
            evidence.value
        ));
    }
    if let Some(fix) = &check.remediation {
        out.push_str(&format!("  {} {fix}\n", p.paint("Fix:", Color::Cyan, true)));
    }
    for doc in &check.docs {
        out.push_str(&format!("  {} {doc}\n", p.dim("Docs:")));
    }
    out.push_str(&format!(
        "  {}\n",
        p.dim(&format!("snowdoctor explain {}", check.id))
    ));
}

fn steps(out: &mut String, p: &Painter, report: &RunReport) {
    for check in report.checks.iter().filter(|c| !c.steps.is_empty()) {
        out.push('\n');
        out.push_str(&format!(
            "{} {}\n",
            p.paint("Steps of", Color::White, true),
            p.paint(&check.id, Color::White, true)
        ));
        for step in &check.steps {
            out.push_str(&format!(
                "  {} {} — {} {}\n",
                p.status(step.status),
                step.name,
                step.detail,
                p.dim(&format!("({})", view::duration(step.duration_ms)))
            ));
        }
    }
}

fn footer(out: &mut String, p: &Painter, report: &RunReport) {
    if !report.notes.is_empty() {
        out.push('\n');
        out.push_str(&p.paint("Notes", Color::White, true));
        out.push('\n');
        for note in &report.notes {
            out.push_str(&format!("  • {note}\n"));
        }
    }
    if !report.writes.is_empty() {
        out.push('\n');
        out.push_str(&p.paint("Records written to the instance", Color::White, true));
        out.push('\n');
        for write in &report.writes {
            let state = if write.state == "leftover" {
                p.paint(&write.state, Color::Red, true)
            } else {
                write.state.clone()
            };
            out.push_str(&format!(
                "  • {} {} {} — {state}\n",
                write.table,
                if write.number.is_empty() {
                    "-"
                } else {
                    &write.number
                },
                write.sys_id
            ));
        }
    }
}
