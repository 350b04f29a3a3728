//! The encoded-query subset (`sysparm_query`): `=`, `!=`, `IN`, `NOT IN`, `STARTSWITH`, `ENDSWITH`,
//! `LIKE`, `NOT LIKE`, `ISEMPTY`, `ISNOTEMPTY`, `ANYTHING`, `EMPTYSTRING`, `<`, `>`, `<=`, `>=`, joined by `^`
//! (AND), `^OR` and `^NQ`, with `ORDERBY`/`ORDERBYDESC` and dot-walked fields.
//!
//! As on the platform, a term naming an unknown field (or an operator we cannot parse) is ignored and the
//! rest of the query still applies, so a misspelt field can return every row. `=` compares
//! case-sensitively (docs/reference/servicenow-platform.md says values are case-sensitive); `LIKE`, `STARTSWITH` and `ENDSWITH`
//! ignore case like the platform's database collation.

use std::cmp::Ordering;

use super::store::{Row, Store};

/// Who is asking: the values of `javascript:gs.getUserName()` and `javascript:gs.getUserID()`.
#[derive(Debug, Clone, Default)]
pub struct QueryCtx {
    pub user_name: String,
    pub user_sys_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    In,
    NotIn,
    StartsWith,
    EndsWith,
    Like,
    NotLike,
    IsEmpty,
    IsNotEmpty,
    Anything,
    EmptyString,
    Gt,
    Lt,
    Ge,
    Le,
}

/// Operator spellings, longest first where one is a prefix of another.
const OPS: [(&str, Op); 17] = [
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("ANYTHING", Op::Anything),
    ("EMPTYSTRING", Op::EmptyString),
    ("NOT IN", Op::NotIn),
    ("NOT LIKE", Op::NotLike),
    ("NOTLIKE", Op::NotLike),
    ("IN", Op::In),
    ("STARTSWITH", Op::StartsWith),
    ("ENDSWITH", Op::EndsWith),
    ("LIKE", Op::Like),
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
];

#[derive(Debug, Clone)]
struct Cond {
    field: String,
    op: Op,
    value: String,
}

/// AND of OR-clauses.
#[derive(Debug, Clone, Default)]
struct Group {
    clauses: Vec<Vec<Cond>>,
}

/// A parsed encoded query.
#[derive(Debug, Clone, Default)]
pub struct Query {
    groups: Vec<Group>,
    order: Vec<(String, bool)>,
    /// A condition was dropped: unparsable, or naming an unknown field.
    invalid: bool,
}

const ESCAPED_CARET: char = '\u{1}';

impl Query {
    /// Parses an encoded query. Never fails: unparsable terms are dropped.
    pub fn parse(text: &str) -> Query {
        let escaped = text.replace("^^", &ESCAPED_CARET.to_string());
        let mut query = Query::default();
        for group_text in escaped.split("^NQ") {
            let mut group = Group::default();
            for token in group_text.split('^') {
                let token = token.trim();
                if token.is_empty() || token == "EQ" {
                    continue;
                }
                if let Some(field) = token.strip_prefix("ORDERBYDESC") {
                    query.order.push((field.to_string(), true));
                } else if let Some(field) = token.strip_prefix("ORDERBY") {
                    query.order.push((field.to_string(), false));
                } else if let Some(rest) = token
                    .strip_prefix("OR")
                    .filter(|r| r.starts_with(|c: char| c.is_ascii_lowercase()))
                {
                    match parse_cond(rest) {
                        Some(cond) => match group.clauses.last_mut() {
                            Some(clause) => clause.push(cond),
                            None => group.clauses.push(vec![cond]),
                        },
                        None => query.invalid = true,
                    }
                } else if let Some(cond) = parse_cond(token) {
                    group.clauses.push(vec![cond]);
                } else {
                    query.invalid = true;
                }
            }
            query.groups.push(group);
        }
        query
    }

    /// Drops every condition whose field is not a column path of `table` (the platform ignores them).
    pub fn prepared(mut self, store: &Store, table: &str) -> Query {
        for group in &mut self.groups {
            for clause in &mut group.clauses {
                let before = clause.len();
                clause.retain(|c| store.has_path(table, &c.field));
                self.invalid |= clause.len() != before;
            }
            group.clauses.retain(|c| !c.is_empty());
        }
        self.order.retain(|(f, _)| store.has_path(table, f));
        self
    }

    /// True when a term was dropped as invalid (unparsable, or an unknown field): under
    /// `glide.invalid_query.returns_no_rows=true` such a query returns no rows at all.
    pub fn is_invalid(&self) -> bool {
        self.invalid
    }

    /// True when `row` matches.
    pub fn matches(&self, store: &Store, table: &str, row: &Row, ctx: &QueryCtx) -> bool {
        if self.groups.is_empty() {
            return true;
        }
        self.groups.iter().any(|g| {
            g.clauses
                .iter()
                .all(|clause| clause.iter().any(|c| eval(store, table, row, c, ctx)))
        })
    }

    /// Sorts rows by the `ORDERBY` terms (stable, so the stored order breaks ties).
    pub fn sort(&self, store: &Store, table: &str, rows: &mut [Row]) {
        if self.order.is_empty() {
            return;
        }
        rows.sort_by(|a, b| {
            for (field, desc) in &self.order {
                let va = store
                    .resolve(table, a, field)
                    .map(|r| r.value)
                    .unwrap_or("");
                let vb = store
                    .resolve(table, b, field)
                    .map(|r| r.value)
                    .unwrap_or("");
                let ord = compare(va, vb);
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
}

fn parse_cond(token: &str) -> Option<Cond> {
    let restore = |s: &str| s.replace(ESCAPED_CARET, "^");
    let split = token
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
        .unwrap_or(token.len());
    let (field, rest) = token.split_at(split);
    if field.is_empty() {
        return None;
    }
    let (op, value) = OPS
        .iter()
        .find_map(|(spelling, op)| rest.strip_prefix(spelling).map(|v| (*op, v)))?;
    Some(Cond {
        field: field.to_string(),
        op,
        value: restore(value),
    })
}

fn substitute(value: &str, ctx: &QueryCtx) -> String {
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "javascript:gs.getUserName()" | "javascript:gs.getUser().getName()" => {
            ctx.user_name.clone()
        }
        "javascript:gs.getUserID()" | "javascript:gs.getUser().getID()" => ctx.user_sys_id.clone(),
        _ => value.to_string(),
    }
}

fn eval(store: &Store, table: &str, row: &Row, cond: &Cond, ctx: &QueryCtx) -> bool {
    let actual = store
        .resolve(table, row, &cond.field)
        .map(|r| r.value)
        .unwrap_or("");
    let wanted = substitute(&cond.value, ctx);
    let lower = |s: &str| s.to_lowercase();
    let list = || -> Vec<String> {
        wanted
            .split(',')
            .map(|v| substitute(v.trim(), ctx))
            .collect()
    };
    match cond.op {
        Op::Eq => actual == wanted,
        Op::Ne => actual != wanted,
        Op::In => list().iter().any(|v| v == actual),
        Op::NotIn => !list().iter().any(|v| v == actual),
        Op::StartsWith => lower(actual).starts_with(&lower(&wanted)),
        Op::EndsWith => lower(actual).ends_with(&lower(&wanted)),
        Op::Like => lower(actual).contains(&lower(&wanted)),
        Op::NotLike => !lower(actual).contains(&lower(&wanted)),
        Op::IsEmpty | Op::EmptyString => actual.is_empty(),
        Op::IsNotEmpty => !actual.is_empty(),
        Op::Anything => true,
        Op::Gt => compare(actual, &wanted) == Ordering::Greater,
        Op::Lt => compare(actual, &wanted) == Ordering::Less,
        Op::Ge => compare(actual, &wanted) != Ordering::Less,
        Op::Le => compare(actual, &wanted) != Ordering::Greater,
    }
}

/// Numbers compare numerically, everything else as text (dates sort correctly as text).
fn compare(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_or_chains_groups_and_order() {
        let q = Query::parse("active=true^nameSTARTSWITHa^ORname=b^NQsys_id=1^ORDERBYDESCname");
        assert_eq!(q.groups.len(), 2);
        assert_eq!(q.groups[0].clauses.len(), 2);
        assert_eq!(q.groups[0].clauses[1].len(), 2);
        assert_eq!(q.order, vec![("name".to_string(), true)]);
    }

    #[test]
    fn escaped_caret_stays_in_the_value_and_bad_terms_drop() {
        let q = Query::parse("name=a^^b^garbage");
        assert_eq!(q.groups[0].clauses.len(), 1);
        assert_eq!(q.groups[0].clauses[0][0].value, "a^b");
        assert!(q.is_invalid());
        let q = Query::parse("nameNOT INx,y");
        assert_eq!(q.groups[0].clauses[0][0].op, Op::NotIn);
        assert!(!q.is_invalid());
    }
}
