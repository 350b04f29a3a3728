//! The default format: what an admin reads in a terminal, most important first — the verdict (which
//! names the root causes), a table of every check by area, then each problem with its evidence and
//! fix, root causes marked. Each root cause's finding and fix print once, under Problems.
//!
//! Colour codes come from `colored`'s palette but are applied here, not through its global switch, so
//! the output depends only on its inputs: the caller decides colour (`--color`, `NO_COLOR`, …) and the
//! width (the terminal's, `COLUMNS`, or [`super::FILE_WIDTH`]). Lines wrap on word boundaries and never
//! inside a word, so a check id, a URL or a command can always be copied whole; when the checks table
//! would have to split its columns' words, it becomes a list instead.

use colored::Color;
use comfy_table::{
    Cell, ColumnConstraint, ContentArrangement, Table, Width, presets::UTF8_FULL_CONDENSED,
};

use super::view;
use crate::model::{CheckResult, RunReport, Status, WriteState};

/// Applies colour to text, or leaves it alone.
struct Painter {
    on: bool,
}

impl Painter {
    fn new(color: bool) -> Self {
        Painter { on: color }
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
        Status::Inconclusive | Status::Interrupted => Color::Magenta,
        Status::NotAssessed => Color::Red,
        Status::Blocked | Status::Skipped => Color::BrightBlack,
    }
}

/// Renders the report for a terminal.
pub fn render(report: &RunReport, color: bool, width: usize) -> String {
    let p = Painter::new(color);
    let w = Wrap(width);
    let mut out = String::new();
    verdict(&mut out, &p, w, report);
    unnamed_root_causes(&mut out, &p, w, report);
    out.push_str(&checks_table(report, &p, w));
    out.push('\n');
    let not_run = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Blocked)
        .count();
    if report.verdict.status == Status::NotAssessed && not_run > 0 {
        out.push_str(&p.dim(&format!(
            "{not_run} other checks not run: the instance could not be assessed\n"
        )));
    }
    problems(&mut out, &p, w, report);
    steps(&mut out, &p, w, report);
    footer(&mut out, &p, w, report);
    out
}

/// The verdict line alone (`--quiet`): status and headline, unwrapped.
pub fn verdict_line(report: &RunReport, color: bool) -> String {
    let p = Painter::new(color);
    let status = report.verdict.status;
    let line = format!(
        "{} {}  {}",
        view::status_mark(status),
        view::status_word(status),
        report.verdict.headline
    );
    format!("{}\n", p.paint(&line, status_color(status), true))
}

/// The width lines wrap to.
#[derive(Debug, Clone, Copy)]
struct Wrap(usize);

fn verdict(out: &mut String, p: &Painter, w: Wrap, report: &RunReport) {
    let status = report.verdict.status;
    let word = format!(
        "{} {}",
        view::status_mark(status),
        view::status_word(status)
    );
    let headline = wrap(w, &report.verdict.headline, &format!("{word}  "), "   ");
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
    out.push_str(&p.dim(&wrap(w, &meta, "", "")));
    out.push('\n');
}

/// Root causes the headline does not name (a report saved by an older version) are listed by id;
/// each one's finding and fix print once, under Problems.
fn unnamed_root_causes(out: &mut String, p: &Painter, w: Wrap, report: &RunReport) {
    let causes = view::root_causes(report);
    if causes
        .iter()
        .all(|c| report.verdict.headline.contains(c.id.as_str()))
    {
        return;
    }
    out.push_str(&p.paint("Root causes", Color::Red, true));
    out.push('\n');
    for (n, check) in causes.iter().enumerate() {
        let text = format!("{} — {}", check.id, check.title);
        let block = wrap(w, &text, &format!("{}. ", n + 1), "   ");
        out.push_str(&emph(
            &block,
            &check.id,
            &p.paint(&check.id, Color::White, true),
        ));
    }
    out.push('\n');
}

/// `Fix: …` wrapped under `indent`, the label highlighted.
fn fix_lines(p: &Painter, w: Wrap, fix: &str, indent: &str) -> String {
    let block = wrap(
        w,
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

/// The checks by area: a table when every column fits whole words, else a list.
fn checks_table(report: &RunReport, p: &Painter, w: Wrap) -> String {
    // Not assessed: the rows that could not run say nothing; one line after the table counts them.
    let not_assessed = report.verdict.status == Status::NotAssessed;
    let rows: Vec<(&str, Vec<(&CheckResult, String)>)> = view::by_area(report)
        .into_iter()
        .map(|(area, checks)| {
            let rows = checks
                .into_iter()
                .filter(|check| !(not_assessed && check.status == Status::Blocked))
                .map(|check| {
                    let summary = match view::blocked_reason(report, check) {
                        Some(reason) => format!("{reason}. {}", check.summary),
                        None => check.summary.clone(),
                    };
                    (check, summary)
                })
                .collect();
            (view::area_title(area), rows)
        })
        .filter(|(_, rows): &(&str, Vec<(&CheckResult, String)>)| !rows.is_empty())
        .collect();
    let all = || rows.iter().flat_map(|(_, checks)| checks.iter());
    let status_width = all()
        .map(|(c, _)| plain_status(c.status).chars().count())
        .chain(["Status".len()])
        .max()
        .unwrap_or(0);
    let id_width = all()
        .map(|(c, _)| c.id.chars().count())
        .chain(rows.iter().map(|(title, _)| title.chars().count()))
        .max()
        .unwrap_or(0);
    let time_width = all()
        .map(|(c, _)| view::duration(c.duration_ms).chars().count())
        .chain(["Time".len()])
        .max()
        .unwrap_or(0);
    let longest_word = all()
        .flat_map(|(_, summary)| summary.split_whitespace())
        .map(|word| word.chars().count())
        .max()
        .unwrap_or(0);
    // Borders and padding of a four-column UTF8_FULL_CONDENSED table: "│ a │ b │ c │ d │".
    let fixed = status_width + id_width + time_width + 13;
    let summary_width = w.0.saturating_sub(fixed);
    if summary_width < longest_word.clamp(20, 40) {
        return checks_list(&rows, p, w);
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(w.0).unwrap_or(u16::MAX))
        .set_header(vec!["Status", "Check", "Summary", "Time"]);
    for (title, checks) in &rows {
        table.add_row(vec![
            Cell::new(""),
            Cell::new(p.paint(title, Color::Cyan, true)),
            Cell::new(""),
            Cell::new(""),
        ]);
        for (check, summary) in checks {
            table.add_row(vec![
                Cell::new(p.status(check.status)),
                Cell::new(&check.id),
                Cell::new(summary),
                Cell::new(view::duration(check.duration_ms)),
            ]);
        }
    }
    // Status, id and time are never wrapped; only the summary gives way.
    for (index, width) in [(0, status_width), (1, id_width), (3, time_width)] {
        if let Some(column) = table.column_mut(index) {
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(
                u16::try_from(width + 2).unwrap_or(u16::MAX),
            )));
        }
    }
    table.to_string()
}

/// The checks table for a narrow terminal: one line per check, its summary wrapped beneath.
fn checks_list(rows: &[(&str, Vec<(&CheckResult, String)>)], p: &Painter, w: Wrap) -> String {
    let mut out = String::new();
    for (title, checks) in rows {
        out.push_str(&p.paint(title, Color::Cyan, true));
        out.push('\n');
        for (check, summary) in checks {
            let head = format!(
                "{} {} ({})",
                plain_status(check.status),
                check.id,
                view::duration(check.duration_ms)
            );
            out.push_str(&format!(
                "  {}\n",
                head.replacen(&plain_status(check.status), &p.status(check.status), 1)
            ));
            out.push_str(&wrap(w, summary, "      ", "      "));
        }
    }
    out.trim_end_matches('\n').to_string()
}

/// A status as its mark and word, uncoloured.
fn plain_status(status: Status) -> String {
    format!(
        "{} {}",
        view::status_mark(status),
        view::status_word(status)
    )
}

/// Greedy word wrap: the first line starts with `first`, the others with `rest`. A word longer than
/// the line stays whole (it overflows rather than being split).
fn wrap(w: Wrap, text: &str, first: &str, rest: &str) -> String {
    let width = w.0;
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

fn problems(out: &mut String, p: &Painter, w: Wrap, report: &RunReport) {
    let problems = view::problems(report);
    if problems.is_empty() {
        return;
    }
    out.push('\n');
    out.push_str(&p.paint("Problems", Color::White, true));
    out.push('\n');
    for check in problems {
        problem(out, p, w, check);
    }
}

fn problem(out: &mut String, p: &Painter, w: Wrap, check: &CheckResult) {
    let root = if check.root_cause {
        " (root cause)"
    } else {
        ""
    };
    let status = plain_status(check.status);
    let heading = wrap(
        w,
        &format!("{} — {}{root}", check.id, check.title),
        &format!("{status} "),
        "       ",
    );
    let heading = emph(&heading, &status, &p.status(check.status));
    out.push('\n');
    out.push_str(&emph(
        &heading,
        &check.id,
        &p.paint(&check.id, Color::White, true),
    ));
    out.push_str(&wrap(w, &check.summary, "  ", "  "));
    for evidence in &check.evidence {
        let block = wrap(
            w,
            &format!("{}: {}", evidence.label, evidence.value),
            "  • ",
            "    ",
        );
        out.push_str(&emph(&block, &evidence.label, &p.dim(&evidence.label)));
    }
    if let Some(fix) = &check.remediation {
        out.push_str(&fix_lines(p, w, fix, "  "));
    }
    if !check.codes.is_empty() {
        let label = if check.codes.len() == 1 {
            "Code:"
        } else {
            "Codes:"
        };
        let block = wrap(
            w,
            &format!("{label} {}", check.codes.join(", ")),
            "  ",
            "    ",
        );
        out.push_str(&emph(&block, label, &p.dim(label)));
    }
    for doc in &check.docs {
        out.push_str(&format!("  {} {doc}\n", p.dim("Docs:")));
    }
    out.push_str(&format!(
        "  {}\n",
        p.dim(&format!("snowdoctor explain {}", check.id))
    ));
}

fn steps(out: &mut String, p: &Painter, w: Wrap, report: &RunReport) {
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
            let block = wrap(w, &text, "  ", "    ");
            out.push_str(&emph(&block, &word, &p.status(step.status)));
        }
    }
}

fn footer(out: &mut String, p: &Painter, w: Wrap, report: &RunReport) {
    if !report.notes.is_empty() {
        out.push('\n');
        out.push_str(&p.paint("Notes", Color::White, true));
        out.push('\n');
        for note in &report.notes {
            out.push_str(&wrap(w, note, "  • ", "    "));
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
