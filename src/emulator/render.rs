//! Turns a stored row into the Table API's JSON: `sysparm_fields` (dot-walks included, unknown names
//! ignored), `sysparm_display_value` false/true/all, `sysparm_exclude_reference_link`, password columns
//! served empty, and fields the caller may not read left out.

use serde_json::{Map, Value, json};

use super::store::{Row, Store};

/// `sysparm_display_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    False,
    True,
    All,
}

/// Rendering options taken from the query string.
#[derive(Debug, Clone)]
pub struct RenderOpts {
    pub display: Display,
    pub exclude_link: bool,
    pub fields: Option<Vec<String>>,
    /// `https://host:port`, for reference links.
    pub base: String,
}

impl RenderOpts {
    /// Reads the sysparm_* rendering parameters (unknown values fall back to the defaults).
    pub fn from_params(params: &[(String, String)], base: String) -> RenderOpts {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let display = match get("sysparm_display_value").map(str::to_ascii_lowercase) {
            Some(v) if v == "true" => Display::True,
            Some(v) if v == "all" => Display::All,
            _ => Display::False,
        };
        let fields = get("sysparm_fields")
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|f| !f.is_empty());
        RenderOpts {
            display,
            exclude_link: get("sysparm_exclude_reference_link")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            fields,
            base,
        }
    }
}

/// Renders one row. `hidden(table, field)` says which fields the caller may not see.
pub fn render(
    store: &Store,
    table: &str,
    row: &Row,
    opts: &RenderOpts,
    hidden: &dyn Fn(&str, &str) -> bool,
) -> Map<String, Value> {
    let names: Vec<String> = match &opts.fields {
        Some(fields) => {
            let mut out: Vec<String> = Vec::new();
            for f in fields {
                if store.has_path(table, f) && !out.contains(f) {
                    out.push(f.clone());
                }
            }
            out
        }
        None => row.keys().cloned().collect(),
    };
    let mut out = Map::new();
    for name in names {
        let Some(resolved) = store.resolve(table, row, &name) else {
            continue;
        };
        let first = name.split('.').next().unwrap_or(&name);
        if hidden(table, first) || hidden(&resolved.table, &resolved.field) {
            continue;
        }
        let schema = store.schema(&resolved.table);
        let value = if schema.passwords.contains(&resolved.field) {
            ""
        } else {
            resolved.value
        };
        let rendered = match store.reference(&resolved.table, &resolved.field) {
            Some(target) => reference(store, target, value, opts),
            None => {
                let label = store.label(&resolved.table, &resolved.field, value);
                match opts.display {
                    Display::False => json!(value),
                    Display::True => json!(label),
                    Display::All => json!({"display_value": label, "value": value}),
                }
            }
        };
        out.insert(name, rendered);
    }
    out
}

fn reference(store: &Store, target: &str, value: &str, opts: &RenderOpts) -> Value {
    if value.is_empty() {
        return match opts.display {
            Display::All => json!({"display_value": "", "value": ""}),
            _ => json!(""),
        };
    }
    let link = format!("{}/api/now/table/{target}/{value}", opts.base);
    let display = store.display_of(target, value);
    match (opts.display, opts.exclude_link) {
        (Display::False, true) => json!(value),
        (Display::False, false) => json!({"link": link, "value": value}),
        (Display::True, true) => json!(display),
        (Display::True, false) => json!({"display_value": display, "link": link}),
        (Display::All, true) => json!({"display_value": display, "value": value}),
        (Display::All, false) => json!({"display_value": display, "value": value, "link": link}),
    }
}
