//! `snowdoctor list` and `snowdoctor explain`: the catalogue as text or JSON.

use comfy_table::{
    ColumnConstraint, ContentArrangement, Table, Width, presets::UTF8_FULL_CONDENSED,
};

use super::{Catalogue, Manifest, Probe};
use crate::checks::code::COMMON;
use crate::checks::declarative::{ROWS, VALUE};

/// The catalogue as a table `width` columns wide (or JSON). Ids are never split: when the id, area and
/// severity columns leave the title too little room, the table becomes a list.
pub fn list(catalogue: &Catalogue, json: bool, width: usize) -> String {
    if json {
        return serde_json::to_string_pretty(catalogue.checks()).unwrap_or_default();
    }
    let rows: Vec<Row> = catalogue
        .checks()
        .iter()
        .map(|check| Row {
            id: check.id.clone(),
            area: check.area.to_string(),
            severity: format!("{:?}", check.severity).to_lowercase(),
            title: check.title.clone(),
            depends: check.depends_on.join(", "),
        })
        .collect();
    let widest = |field: fn(&Row) -> &str, header: &str| {
        rows.iter()
            .map(field)
            .chain([header])
            .map(|text| text.chars().count())
            .max()
            .unwrap_or(0)
    };
    let fixed = [
        widest(|r| &r.id, "id"),
        widest(|r| &r.area, "area"),
        widest(|r| &r.severity, "severity"),
    ];
    let longest_word = rows
        .iter()
        .flat_map(|r| {
            r.title
                .split_whitespace()
                .chain(r.depends.split_whitespace())
        })
        .map(|word| word.chars().count())
        .max()
        .unwrap_or(0);
    // Borders and padding of a four-column UTF8_FULL_CONDENSED table: "│ a │ b │ c │ d │".
    let title_width = width.saturating_sub(fixed.iter().sum::<usize>() + 13);
    let footer = format!(
        "{} checks. `snowdoctor explain ID` shows one in full.",
        rows.len()
    );
    if title_width < longest_word.max(16) {
        return format!("{}{footer}", list_lines(&rows, width));
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX))
        .set_header(["id", "area", "severity", "title (depends on)"]);
    for row in &rows {
        let title = if row.depends.is_empty() {
            row.title.clone()
        } else {
            format!("{}\n(after {})", row.title, row.depends)
        };
        table.add_row([
            row.id.clone(),
            row.area.clone(),
            row.severity.clone(),
            title,
        ]);
    }
    for (index, column_width) in fixed.iter().enumerate() {
        if let Some(column) = table.column_mut(index) {
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(
                u16::try_from(column_width + 2).unwrap_or(u16::MAX),
            )));
        }
    }
    format!("{table}\n{footer}")
}

/// One catalogue entry as `list` shows it.
struct Row {
    id: String,
    area: String,
    severity: String,
    title: String,
    depends: String,
}

/// The catalogue for a narrow terminal: the id on its own line, the rest indented beneath.
fn list_lines(rows: &[Row], width: usize) -> String {
    let mut out = String::new();
    for row in rows {
        out.push_str(&format!("{}  ({}, {})\n", row.id, row.area, row.severity));
        out.push_str(&wrap_words(&row.title, "    ", width));
        if !row.depends.is_empty() {
            out.push_str(&wrap_words(
                &format!("after {}", row.depends),
                "    ",
                width,
            ));
        }
    }
    out
}

/// Greedy word wrap with a hanging indent; words are never split.
fn wrap_words(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if line.trim().is_empty() || fits {
            if !line.trim().is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        } else {
            out.push_str(&line);
            out.push('\n');
            line = format!("{indent}{word}");
        }
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// One check in full.
pub fn explain(check: &Manifest) -> String {
    let mut out = format!(
        "{id} — {title}\n\narea: {area}    severity: {severity}    manifest: {path}\n",
        id = check.id,
        title = check.title,
        area = check.area,
        severity = format!("{:?}", check.severity).to_lowercase(),
        path = check.manifest_path,
    );
    if !check.depends_on.is_empty() {
        out.push_str(&format!("depends on: {}\n", check.depends_on.join(", ")));
    }
    out.push_str(&format!(
        "\nWhy it matters\n{}\n",
        indent(&check.description)
    ));
    out.push_str("\nWhat it reads\n");
    match &check.probe {
        Probe::Builtin { builtin } => {
            for item in &check.looks_at {
                out.push_str(&format!("  - {item}\n"));
            }
            out.push_str(&format!("  (built-in probe `{builtin}`)\n"));
        }
        Probe::Table(probe) => {
            out.push_str(&format!(
                "  - {} where {} (fields: {})\n",
                probe.table,
                if probe.query.is_empty() {
                    "(all rows)"
                } else {
                    &probe.query
                },
                if probe.fields.is_empty() {
                    "all".to_string()
                } else {
                    probe.fields.join(", ")
                }
            ));
            for item in &check.looks_at {
                out.push_str(&format!("  - {item}\n"));
            }
            for assertion in &probe.assertions {
                out.push_str(&format!(
                    "  assert {}: {}\n",
                    assertion.field, assertion.message
                ));
            }
        }
    }
    out.push_str(&format!(
        "\nHow to fix a failure\n{}\n",
        indent(&check.remediation)
    ));
    out.push_str(&finding_codes(check));
    if !check.docs.is_empty() {
        out.push_str("\nDocumentation\n");
        for doc in &check.docs {
            out.push_str(&format!("  {doc}\n"));
        }
    }
    out
}

/// The check's finding codes, each with the status it gives and its fix (placeholders in braces are
/// filled with what a run finds).
fn finding_codes(check: &Manifest) -> String {
    let mut out = String::from("\nFinding codes\n");
    match &check.probe {
        Probe::Builtin { builtin } => {
            let codes = crate::checks::builtin(builtin).map_or(&[][..], |c| c.codes());
            for code in codes {
                out.push_str(&format!("  {} ({})\n", code.full(&check.id), code.status));
                if let Some(fix) = check.findings.get(code.name) {
                    out.push_str(&format!("{}\n", indent_by(&fix.fix, 4)));
                }
            }
        }
        Probe::Table(_) => {
            for (name, what) in [
                (ROWS.name, "the row count is not what the probe expects"),
                (VALUE.name, "an assertion on a field fails"),
            ] {
                out.push_str(&format!("  {}/{name}: {what}\n", check.id));
                let fix = check
                    .findings
                    .get(name)
                    .map_or(check.remediation.as_str(), |f| f.fix.as_str());
                out.push_str(&format!("{}\n", indent_by(fix, 4)));
            }
        }
    }
    out.push_str("  Any check may also report: ");
    let common: Vec<&str> = COMMON.iter().map(|(code, _)| code.name).collect();
    out.push_str(&common.join(", "));
    out.push_str(" (see the README, \"Finding codes\").\n");
    out
}

fn indent(text: &str) -> String {
    indent_by(text, 2)
}

fn indent_by(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.trim()
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
