//! The default format: what an admin reads in a terminal, most important first — the verdict, the root
//! causes and their fixes, a table of every check by area, then each problem with its evidence.
//!
//! Colour codes come from `colored`'s palette but are applied here, not through its global switch, so
//! the output depends only on the `color` flag and `NO_COLOR`, never on what stdout happens to be.

use colored::Color;
use comfy_table::{Cell, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::view;
use crate::model::{CheckResult, RunReport, Status, WriteState};

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
        Status::NotAssessed => Color::Red,
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
    let word = format!(
        "{} {}",
        view::status_mark(status),
        view::status_word(status)
    );
    let headline = wrap(&report.verdict.headline, &format!("{word}  "), "   ");
    out.push_str(&p.paint(&headline, status_color(status), true));
    let user = if report.user.is_empty() {
        "-"
    } else {
        &report.user
    };
    let meta = format!(
        "{} · profile {} · as {user} · {} · {} · {}",
        report.instance,
        report.profile,
        report.started_at,
        view::duration(report.duration_ms),
        view::counts_line(report)
    );
    out.push_str(&p.dim(&wrap(&meta, "", "")));
    out.push('\n');
}

/// Several root causes are listed by id (the headline names the first; each one's finding and fix
/// print once, under Problems).
fn root_causes(out: &mut String, p: &Painter, report: &RunReport) {
    let causes = view::root_causes(report);
    if causes.len() < 2 {
        return;
    }
    out.push_str(&p.paint("Root causes", Color::Red, true));
    out.push('\n');
    for (n, check) in causes.iter().enumerate() {
        let text = format!("{} — {}", check.id, check.title);
        let block = wrap(&text, &format!("{}. ", n + 1), "   ");
        out.push_str(&emph(
            &block,
            &check.id,
            &p.paint(&check.id, Color::White, true),
        ));
    }
    out.push('\n');
}

/// `Fix: …` wrapped under `indent`, the label highlighted.
fn fix_lines(p: &Painter, fix: &str, indent: &str) -> String {
    let block = wrap(
        &format!("Fix: {}", quote_labels(fix)),
        indent,
        &format!("{indent}     "),
    );
    emph(&block, "Fix:", &p.paint("Fix:", Color::Cyan, true))
}

/// Remediation texts mark UI labels as `*Can read*`; a terminal shows them as “Can read”.
fn quote_labels(text: &str) -> String {
    view::map_labels(text, |label| format!("“{label}”"))
}

/// Replaces the first `token` in `text` with its painted form.
fn emph(text: &str, token: &str, painted: &str) -> String {
    text.replacen(token, painted, 1)
}

fn checks_table(report: &RunReport, p: &Painter) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH)
        .set_header(vec!["Status", "Check", "Summary", "Time"]);
    let not_assessed = report.verdict.status == Status::NotAssessed;
    for (area, checks) in view::by_area(report) {
        table.add_row(vec![
            Cell::new(""),
            Cell::new(p.paint(view::area_title(area), Color::Cyan, true)),
            Cell::new(""),
            Cell::new(""),
        ]);
        for check in checks {
            // Not assessed: the rows that could not run say nothing; one line below counts them.
            if not_assessed && check.status == Status::Blocked {
                continue;
            }
            let summary = match view::blocked_reason(report, check) {
                Some(reason) => format!("{reason}. {}", check.summary),
                None => check.summary.clone(),
            };
            table.add_row(vec![
                Cell::new(p.status(check.status)),
                Cell::new(&check.id),
                Cell::new(summary),
                Cell::new(view::duration(check.duration_ms)),
            ]);
        }
    }
    let not_run = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Blocked)
        .count();
    if not_assessed && not_run > 0 {
        table.add_row(vec![
            Cell::new(p.status(Status::Blocked)),
            Cell::new(format!("{not_run} checks")),
            Cell::new("not run: the instance could not be assessed (see above)"),
            Cell::new(""),
        ]);
    }
    table.to_string()
}

/// Greedy word wrap to [`WIDTH`]: the first line starts with `first`, the others with `rest`.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let width = usize::from(WIDTH);
    let mut out = String::new();
    let mut line = first.to_string();
    let mut line_len = first.chars().count();
    let mut empty = true;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if !empty && line_len + 1 + len > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            line_len = rest.chars().count();
            empty = true;
        }
        if !empty {
            line.push(' ');
            line_len += 1;
        }
        line.push_str(word);
        line_len += len;
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
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
    let root = if check.root_cause {
        " (root cause)"
    } else {
        ""
    };
    out.push_str(&format!(
        "\n{} {} — {}{root}\n",
        p.status(check.status),
        p.paint(&check.id, Color::White, true),
        check.title,
    ));
    out.push_str(&wrap(&check.summary, "  ", "  "));
    for evidence in &check.evidence {
        let block = wrap(
            &format!("{}: {}", evidence.label, evidence.value),
            "  • ",
            "    ",
        );
        out.push_str(&emph(&block, &evidence.label, &p.dim(&evidence.label)));
    }
    if let Some(fix) = &check.remediation {
        out.push_str(&fix_lines(p, fix, "  "));
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
        out.push_str(&p.paint(&format!("Steps of {}", check.id), Color::White, true));
        out.push('\n');
        for step in &check.steps {
            let word = format!(
                "{} {}",
                view::status_mark(step.status),
                view::status_word(step.status)
            );
            let text = format!(
                "{word} {} — {} ({})",
                step.name,
                step.detail,
                view::duration(step.duration_ms)
            );
            let block = wrap(&text, "  ", "    ");
            out.push_str(&emph(&block, &word, &p.status(step.status)));
        }
    }
}

fn footer(out: &mut String, p: &Painter, report: &RunReport) {
    if !report.notes.is_empty() {
        out.push('\n');
        out.push_str(&p.paint("Notes", Color::White, true));
        out.push('\n');
        for note in &report.notes {
            out.push_str(&wrap(note, "  • ", "    "));
        }
    }
    if !report.writes.is_empty() {
        out.push('\n');
        out.push_str(&p.paint("Records written to the instance", Color::White, true));
        out.push('\n');
        for write in &report.writes {
            let leftover = write.state == WriteState::Leftover;
            let state = if leftover {
                p.paint(write.state.as_str(), Color::Red, true)
            } else {
                write.state.to_string()
            };
            let hint = if leftover {
                " (remove it with `snowdoctor cleanup`)"
            } else {
                ""
            };
            out.push_str(&format!(
                "  • {} {} {} — {state}{hint}\n",
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
