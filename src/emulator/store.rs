//! The emulator's in-memory database: tables of rows whose values are all strings (as the Table API
//! serves them), plus the per-table schema facts the platform keeps elsewhere (reference targets, choice
//! labels, password columns, read and write ACLs).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value};

/// One stored record: column name to string value.
pub type Row = Map<String, Value>;

/// Columns every table has, filled on load and on insert.
pub const SYS_COLUMNS: [&str; 6] = [
    "sys_id",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
];

/// The column naming the table a record of a table hierarchy lives in.
pub const CLASS_COLUMN: &str = "sys_class_name";

/// How a table answers a caller without the read roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denied {
    /// 403 on list and count queries (a role-gated table).
    Forbidden,
    /// Rows silently dropped from lists; 404 by sys_id.
    Filter,
}

/// Read ACL of a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadAcl {
    pub roles: Vec<String>,
    pub denied: Denied,
    /// A reference column: rows pointing at the caller stay readable (e.g. one's own role grants).
    #[serde(default)]
    pub own: Option<String>,
}

/// Schema facts of one table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSchema {
    /// Column whose value is the record's display value.
    #[serde(default)]
    pub display: Option<String>,
    /// Columns of a table that may be empty in the fixture.
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub references: BTreeMap<String, String>,
    #[serde(default)]
    pub choices: BTreeMap<String, BTreeMap<String, String>>,
    /// Columns served as "" (password / password2).
    #[serde(default)]
    pub passwords: Vec<String>,
    /// Columns left out of responses for callers without admin.
    #[serde(default)]
    pub admin_fields: Vec<String>,
    #[serde(default)]
    pub read: Option<ReadAcl>,
    /// Roles that may insert, update and delete (admin always may).
    #[serde(default)]
    pub write_roles: Vec<String>,
    /// Prefix of the auto-numbered `number` column.
    #[serde(default)]
    pub number_prefix: Option<String>,
    /// Tables extending this one: their rows also appear when this table is read.
    #[serde(default)]
    pub children: Vec<String>,
}

/// The schema file (`baseline/_schema.json`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// How many rows to generate per table (see `fixtures::generate`).
    #[serde(default)]
    pub generated: BTreeMap<String, usize>,
    pub tables: BTreeMap<String, TableSchema>,
}

/// A table's rows and known columns.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// The whole instance database.
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub tables: BTreeMap<String, Table>,
    pub schema: BTreeMap<String, TableSchema>,
    /// Next auto-number per table.
    pub counters: HashMap<String, u64>,
}

/// A dot-walked field resolved against one row.
pub struct Resolved<'a> {
    /// Table owning the final field.
    pub table: String,
    pub field: String,
    pub value: &'a str,
}

impl Store {
    /// True when `table` exists.
    pub fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    /// Schema of a table (empty defaults when none is declared).
    pub fn schema(&self, table: &str) -> TableSchema {
        self.schema.get(table).cloned().unwrap_or_default()
    }

    /// True when `column` is a column of `table`.
    pub fn has_column(&self, table: &str, column: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|t| t.columns.iter().any(|c| c == column))
    }

    /// The reference target of `table.column`, if it is a reference.
    pub fn reference(&self, table: &str, column: &str) -> Option<&str> {
        self.schema
            .get(table)
            .and_then(|s| s.references.get(column))
            .map(String::as_str)
    }

    /// True when a dotted path names real columns (`source_scope.scope`).
    pub fn has_path(&self, table: &str, path: &str) -> bool {
        let mut current = table.to_string();
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if !self.has_column(&current, part) {
                return false;
            }
            if i + 1 < parts.len() {
                match self.reference(&current, part) {
                    Some(target) => current = target.to_string(),
                    None => return false,
                }
            }
        }
        true
    }

    /// The value of a `sys_properties` row, when the property exists.
    pub fn property(&self, name: &str) -> Option<String> {
        self.tables
            .get("sys_properties")?
            .rows
            .iter()
            .find(|r| text(r, "name") == name)
            .map(|r| text(r, "value").to_string())
    }

    /// Finds a row by sys_id, in the table or one of the tables extending it (a reference to
    /// `sys_scope` may name a `sys_store_app` record).
    pub fn find(&self, table: &str, sys_id: &str) -> Option<&Row> {
        let has_id = |r: &&Row| r.get("sys_id").and_then(Value::as_str) == Some(sys_id);
        self.tables
            .get(table)?
            .rows
            .iter()
            .find(has_id)
            .or_else(|| {
                self.schema
                    .get(table)?
                    .children
                    .iter()
                    .filter_map(|child| self.tables.get(child))
                    .find_map(|t| t.rows.iter().find(has_id))
            })
    }

    /// The rows of a table that `keep` accepts, including those of its child tables (projected on the
    /// parent's columns), each carrying its `sys_class_name` as the platform does: the table the record
    /// really lives in. Only accepted rows are copied (a query of a 300-row table copies its matches).
    pub fn rows_with_children_where(
        &self,
        table: &str,
        mut keep: impl FnMut(&Row) -> bool,
    ) -> Vec<Row> {
        let Some(t) = self.tables.get(table) else {
            return Vec::new();
        };
        let hierarchy = t.columns.iter().any(|c| c == CLASS_COLUMN);
        let mut rows = Vec::new();
        for row in &t.rows {
            if hierarchy && text(row, CLASS_COLUMN).is_empty() {
                let mut classed = row.clone();
                classed.insert(CLASS_COLUMN.into(), Value::String(table.into()));
                if keep(&classed) {
                    rows.push(classed);
                }
            } else if keep(row) {
                rows.push(row.clone());
            }
        }
        for child in self.schema(table).children {
            if let Some(c) = self.tables.get(&child) {
                for row in &c.rows {
                    let mut projected: Row = t
                        .columns
                        .iter()
                        .map(|col| (col.clone(), row.get(col).cloned().unwrap_or_default()))
                        .collect();
                    projected.insert(CLASS_COLUMN.into(), Value::String(child.clone()));
                    if keep(&projected) {
                        rows.push(projected);
                    }
                }
            }
        }
        rows
    }

    /// Resolves a possibly dotted field on a row; `None` when the path is not a column path.
    pub fn resolve<'a>(&'a self, table: &str, row: &'a Row, path: &str) -> Option<Resolved<'a>> {
        let mut current_table = table.to_string();
        let mut current_row = row;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            if !self.has_column(&current_table, part) {
                return None;
            }
            let value = text(current_row, part);
            if i + 1 == parts.len() {
                return Some(Resolved {
                    table: current_table,
                    field: (*part).to_string(),
                    value,
                });
            }
            let target = self.reference(&current_table, part)?.to_string();
            match self.find(&target, value) {
                Some(next) => current_row = next,
                None => {
                    // Empty reference: every walked field reads as "".
                    return self
                        .has_path(&target, &parts[i + 1..].join("."))
                        .then(|| Resolved {
                            table: target.clone(),
                            field: parts[parts.len() - 1].to_string(),
                            value: "",
                        });
                }
            }
            current_table = target;
        }
        None
    }

    /// The display value of a record (its display column, else its sys_id).
    pub fn display_of(&self, table: &str, sys_id: &str) -> String {
        let Some(row) = self.find(table, sys_id) else {
            return String::new();
        };
        let column = self
            .schema(table)
            .display
            .unwrap_or_else(|| "sys_id".into());
        text(row, &column).to_string()
    }

    /// The label of a choice value, or the value itself.
    pub fn label(&self, table: &str, field: &str, value: &str) -> String {
        self.schema
            .get(table)
            .and_then(|s| s.choices.get(field))
            .and_then(|c| c.get(value))
            .cloned()
            .unwrap_or_else(|| value.to_string())
    }

    /// Normalises every table: known columns in a stable order, every row holding every column; the
    /// tables of a hierarchy (a table with `children`, and those children) also get `sys_class_name`.
    pub fn normalise(&mut self, now: &str) {
        let hierarchy: BTreeSet<String> = self
            .schema
            .iter()
            .filter(|(_, s)| !s.children.is_empty())
            .flat_map(|(parent, s)| s.children.iter().chain([parent]).cloned())
            .collect();
        for (name, table) in self.tables.iter_mut() {
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let mut columns: Vec<String> = Vec::new();
            let declared = self
                .schema
                .get(name)
                .map(|s| s.columns.clone())
                .unwrap_or_default();
            let from_rows = table.rows.iter().flat_map(|r| r.keys().cloned());
            for column in SYS_COLUMNS
                .iter()
                .map(|c| (*c).to_string())
                .chain(declared)
                .chain(from_rows.collect::<Vec<_>>())
                .chain(hierarchy.contains(name).then(|| CLASS_COLUMN.to_string()))
            {
                if seen.insert(column.clone()) {
                    columns.push(column);
                }
            }
            for row in table.rows.iter_mut() {
                fill_row(row, &columns, now);
            }
            table.columns = columns;
        }
    }
}

/// Orders a row's columns like the table and fills the missing ones.
pub fn fill_row(row: &mut Row, columns: &[String], now: &str) {
    let mut out = Row::new();
    for column in columns {
        let value = match row.remove(column) {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => default_for(column, now),
            Some(other) => other.to_string(),
        };
        out.insert(column.clone(), Value::String(value));
    }
    *row = out;
}

fn default_for(column: &str, now: &str) -> String {
    match column {
        "sys_created_on" | "sys_updated_on" => now.to_string(),
        "sys_created_by" | "sys_updated_by" => "admin".into(),
        "sys_mod_count" => "0".into(),
        _ => String::new(),
    }
}

/// A row's field as text ("" when absent).
pub fn text<'a>(row: &'a Row, field: &str) -> &'a str {
    row.get(field).and_then(Value::as_str).unwrap_or("")
}

/// Deterministic 32-hex id from a seed, so generated fixtures are stable across runs.
pub fn stable_id(seed: &str, index: u64) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let a = splitmix(hash ^ index);
    let b = splitmix(a ^ index.rotate_left(17));
    format!("{a:016x}{b:016x}")
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_32_hex_and_distinct() {
        let a = stable_id("sys_user", 1);
        let b = stable_id("sys_user", 2);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(a, stable_id("sys_user", 1));
    }
}
