//! Scenario overlays (`fixtures/instances/scenarios/<name>.toml`): small edits on the baseline (set
//! fields on rows matched by an encoded query, add rows, remove rows) plus instance modes that are not
//! table data (hibernation, an interstitial, rate limiting, ACL denials, a rewriting business rule, …).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use super::EmulatorError;
use super::query::{Query, QueryCtx};
use super::store::{Row, Store, TableSchema, fill_row, stable_id};

/// A parsed scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub description: String,
    /// Scenarios applied first (e.g. `multi-fault` combines three).
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub modes: Modes,
    /// Tables to create (or whose schema to replace), applied before the row edits.
    #[serde(default)]
    pub table: Vec<TableOp>,
    #[serde(default)]
    pub set: Vec<SetOp>,
    #[serde(default)]
    pub add: Vec<AddOp>,
    #[serde(default)]
    pub remove: Vec<RemoveOp>,
}

/// Behaviour of the instance that is not table data.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Modes {
    /// Every URL answers 200 text/html with the hibernation page.
    #[serde(default)]
    pub hibernating: bool,
    /// Every URL answers 200 text/html with a login/proxy page.
    #[serde(default)]
    pub interstitial: bool,
    /// API requests allowed before 429s start.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Address the ip_access rules are evaluated against.
    #[serde(default)]
    pub client_ip: Option<IpAddr>,
    /// The account `credentials().user` names (default `admin`).
    #[serde(default)]
    pub diagnosing_user: Option<String>,
    /// Tables whose list queries answer 200 "Transaction cancelled".
    #[serde(default)]
    pub transaction_cancelled: Vec<String>,
    /// Writes denied by an ACL even though the user has the table's write roles.
    #[serde(default)]
    pub deny: Vec<DenyRule>,
    /// Business rules rewriting written fields.
    #[serde(default)]
    pub rewrite: Vec<Rewrite>,
}

/// A write operation an ACL denies to one user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyRule {
    pub table: String,
    /// `insert`, `update` or `delete`.
    pub operation: String,
    pub user: String,
}

/// A "business rule" that changes a field on insert and update.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rewrite {
    pub table: String,
    pub field: String,
    /// Keep at most this many characters.
    #[serde(default)]
    pub truncate: Option<usize>,
    /// Shift a `YYYY-MM-DD HH:MM:SS` value by this many hours (a time-zone bug).
    #[serde(default)]
    pub shift_hours: Option<i64>,
}

/// Create a table the baseline lacks (an app's tables), or replace the schema of one it has (a read
/// ACL an integration's setup adds).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableOp {
    pub name: String,
    /// Columns of a new table (row keys are added too).
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub schema: Option<TableSchema>,
}

/// Set fields on the rows an encoded query matches (at least one must match).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetOp {
    pub table: String,
    pub query: String,
    pub fields: BTreeMap<String, String>,
}

/// Add rows (sys_id generated when absent).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddOp {
    pub table: String,
    pub rows: Vec<BTreeMap<String, String>>,
}

/// Remove the rows an encoded query matches (at least one must match).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveOp {
    pub table: String,
    pub query: String,
}

impl Modes {
    /// Merges `later` over `self` (flags and options override, lists extend).
    pub fn merge(&mut self, later: &Modes) {
        self.hibernating |= later.hibernating;
        self.interstitial |= later.interstitial;
        self.rate_limit = later.rate_limit.or(self.rate_limit);
        self.client_ip = later.client_ip.or(self.client_ip);
        if later.diagnosing_user.is_some() {
            self.diagnosing_user.clone_from(&later.diagnosing_user);
        }
        self.transaction_cancelled
            .extend(later.transaction_cancelled.iter().cloned());
        self.deny.extend(later.deny.iter().cloned());
        self.rewrite.extend(later.rewrite.iter().cloned());
    }
}

impl Scenario {
    /// Parses a scenario file.
    pub fn parse(name: &str, text: &str) -> Result<Scenario, EmulatorError> {
        toml::from_str(text).map_err(|e| EmulatorError::Fixture(format!("scenario {name}: {e}")))
    }

    /// Applies the table edits to `store`.
    pub fn apply(&self, name: &str, store: &mut Store, now: &str) -> Result<(), EmulatorError> {
        let bad = |msg: String| EmulatorError::Fixture(format!("scenario {name}: {msg}"));
        let ctx = QueryCtx::default();
        for op in &self.table {
            let table = store.tables.entry(op.name.clone()).or_default();
            for column in op.columns.iter().chain(["sys_id".to_string()].iter()) {
                if !table.columns.contains(column) {
                    table.columns.push(column.clone());
                }
            }
            if let Some(schema) = &op.schema {
                store.schema.insert(op.name.clone(), schema.clone());
            }
        }
        for op in &self.remove {
            let hits = matching(store, &op.table, &op.query, &ctx)
                .ok_or_else(|| bad(format!("remove: unknown table {}", op.table)))?;
            if hits.is_empty() {
                return Err(bad(format!("remove: {} matched no row", op.query)));
            }
            if let Some(table) = store.tables.get_mut(&op.table) {
                let mut index = 0;
                table.rows.retain(|_| {
                    index += 1;
                    !hits.contains(&(index - 1))
                });
            }
        }
        for op in &self.set {
            let hits = matching(store, &op.table, &op.query, &ctx)
                .ok_or_else(|| bad(format!("set: unknown table {}", op.table)))?;
            if hits.is_empty() {
                return Err(bad(format!("set: {} matched no row", op.query)));
            }
            let Some(table) = store.tables.get_mut(&op.table) else {
                continue;
            };
            for field in op.fields.keys() {
                if !table.columns.contains(field) {
                    return Err(bad(format!("set: {} has no column {field}", op.table)));
                }
            }
            for i in hits {
                if let Some(row) = table.rows.get_mut(i) {
                    for (field, value) in &op.fields {
                        row.insert(field.clone(), Value::String(value.clone()));
                    }
                }
            }
        }
        for (op_index, op) in self.add.iter().enumerate() {
            let table = store
                .tables
                .get_mut(&op.table)
                .ok_or_else(|| bad(format!("add: unknown table {}", op.table)))?;
            for (i, fields) in op.rows.iter().enumerate() {
                let mut row: Row = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                if !row.contains_key("sys_id") {
                    let seed = format!("{name}/{}/{op_index}", op.table);
                    row.insert("sys_id".into(), Value::String(stable_id(&seed, i as u64)));
                }
                for field in row.keys() {
                    if !table.columns.contains(field) {
                        table.columns.push(field.clone());
                        for existing in table.rows.iter_mut() {
                            existing.insert(field.clone(), Value::String(String::new()));
                        }
                    }
                }
                fill_row(&mut row, &table.columns, now);
                table.rows.push(row);
            }
        }
        Ok(())
    }
}

/// Indexes of the rows of `table` matching `query`; `None` for an unknown table.
fn matching(store: &Store, table: &str, query: &str, ctx: &QueryCtx) -> Option<Vec<usize>> {
    let query = Query::parse(query).prepared(store, table);
    let rows = &store.tables.get(table)?.rows;
    Some(
        rows.iter()
            .enumerate()
            .filter(|(_, row)| query.matches(store, table, row, ctx))
            .map(|(i, _)| i)
            .collect(),
    )
}
