//! `snowdoctor list` and `snowdoctor explain`: the catalogue as text or JSON.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::{Catalogue, Manifest, Probe};

/// The catalogue as a table (or JSON).
pub fn list(catalogue: &Catalogue, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(catalogue.checks()).unwrap_or_default();
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["id", "area", "severity", "depends on", "title"]);
    for check in catalogue.checks() {
        table.add_row([
            check.id.clone(),
            check.area.to_string(),
            format!("{:?}", check.severity).to_lowercase(),
            check.depends_on.join(", "),
            check.title.clone(),
        ]);
    }
    format!(
        "{table}\n{} checks. `snowdoctor explain ID` shows one in full.",
        catalogue.checks().len()
    )
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
    if !check.docs.is_empty() {
        out.push_str("\nDocumentation\n");
        for doc in &check.docs {
            out.push_str(&format!("  {doc}\n"));
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.trim()
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
