//! `snowdoctor profiles` and `snowdoctor profiles show NAME`: the profiles as a table, JSON, or one in
//! full with its sources.

use std::fmt::Write as _;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};

use super::{DEFAULT_PROFILE, Lifecycle, Profile};

/// The profiles as a table.
pub fn list(profiles: &[Profile]) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["name", "integration", "direction", "writes", "status"]);
    for profile in profiles {
        let mut name = profile.name.clone();
        if name == DEFAULT_PROFILE {
            name.push_str(" (default)");
        }
        table.add_row([
            name,
            profile.integration.clone(),
            profile.direction.as_str().to_string(),
            profile.writes(),
            profile.lifecycle.as_str().to_string(),
        ]);
    }
    format!(
        "{table}\n{} profiles. `snowdoctor profiles show NAME` shows one in full; `--profile NAME` selects one.",
        profiles.len()
    )
}

/// The profiles as JSON (every field `show` prints).
pub fn list_json(profiles: &[Profile]) -> String {
    let values: Vec<Value> = profiles.iter().map(to_json).collect();
    serde_json::to_string_pretty(&values).unwrap_or_default()
}

/// One profile as JSON.
pub fn to_json(p: &Profile) -> Value {
    json!({
        "name": p.name,
        "default": p.name == DEFAULT_PROFILE,
        "description": p.description,
        "integration": p.integration,
        "direction": p.direction,
        "lifecycle": p.lifecycle,
        "lifecycle_note": p.lifecycle_note,
        "writes": p.writes(),
        "sources": p.sources,
        "app_scope": p.app_scope,
        "app_name": p.app_name,
        "oauth_entity": p.oauth_entity,
        "integration_user": p.integration_user,
        "expected_roles": p.expected_roles,
        "forbidden_roles": p.forbidden_roles,
        "auth_kinds": p.auth_kinds,
        "redirect_urls": p.redirect_urls,
        "required_plugins": p.required_plugins,
        "source_ranges": p.source_ranges,
        "read_tables": p.read_tables,
        "read_properties": p.read_properties,
        "probes": p.probes,
        "write": p.write,
        "tokens": p.tokens,
        "releases": p.releases,
        "ticket_table": p.ticket_table,
    })
}

/// One profile in full.
pub fn show(p: &Profile) -> String {
    let mut out = format!("{} — {}\n\n", p.name, p.description);
    let mut line = |label: &str, value: String| {
        if !value.is_empty() {
            let _ = writeln!(out, "{label:<18}{value}");
        }
    };
    line("integration", p.integration.clone());
    line("direction", p.direction.as_str().into());
    let status = match p.lifecycle {
        Lifecycle::Live => "live".to_string(),
        other if p.lifecycle_note.is_empty() => other.as_str().to_string(),
        other => format!("{} — {}", other.as_str(), p.lifecycle_note),
    };
    line("status", status);
    line(
        "app",
        match (p.app_name.is_empty(), p.app_scope.is_empty()) {
            (_, true) => String::new(),
            (true, false) => p.app_scope.clone(),
            (false, false) => format!("{} ({})", p.app_name, p.app_scope),
        },
    );
    line(
        "auth",
        p.auth_kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    );
    line("oauth entity", p.oauth_entity.clone().unwrap_or_default());
    line(
        "redirect URLs",
        p.redirect_urls
            .iter()
            .map(|r| format!("{} ({})", r.url, r.cloud.as_str()))
            .collect::<Vec<_>>()
            .join("\n                  "),
    );
    line(
        "integration user",
        p.integration_user.clone().unwrap_or_default(),
    );
    line("required roles", p.expected_roles.join(", "));
    line("forbidden roles", p.forbidden_roles.join(", "));
    line("plugins", p.required_plugins.join(", "));
    line(
        "source ranges",
        p.source_ranges
            .iter()
            .map(|r| {
                let mut parts: Vec<String> = r
                    .service_tags
                    .iter()
                    .map(|t| format!("service tag {t}"))
                    .collect();
                parts.extend(r.cidrs.iter().map(ToString::to_string));
                format!("{}: {}", r.cloud.as_str(), parts.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n                  "),
    );
    line(
        "reads",
        p.read_tables
            .iter()
            .map(|t| {
                let mut s = t.table.clone();
                if !t.fields.is_empty() {
                    let _ = write!(s, " ({})", t.fields.join(", "));
                }
                if t.optional {
                    s.push_str(" [optional]");
                }
                s
            })
            .collect::<Vec<_>>()
            .join("\n                  "),
    );
    line("properties read", p.read_properties.join(", "));
    line(
        "probes",
        p.probes
            .iter()
            .map(|probe| format!("GET {} → {}", probe.path, probe.expect_status))
            .collect::<Vec<_>>()
            .join("\n                  "),
    );
    line("writes", p.writes());
    line(
        "refresh token",
        p.tokens
            .refresh_lifespan_min
            .map(|s| format!("at least {s} s ({} days)", s / 86_400))
            .unwrap_or_default(),
    );
    line(
        "releases",
        match (&p.releases.min, &p.releases.max) {
            (None, None) => String::new(),
            (Some(min), None) => format!("{min} or newer"),
            (None, Some(max)) => format!("up to {max} (newer warns)"),
            (Some(min), Some(max)) => format!("{min} … {max} (newer warns)"),
        },
    );
    if !p.sources.is_empty() {
        out.push_str("\nSources:\n");
        for source in &p.sources {
            let _ = writeln!(out, "  {source}");
        }
    }
    out
}
