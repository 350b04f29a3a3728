//! `table-read-access`: the integration user can read every table (and field) its integration needs,
//! checked **as the integration user**, the way the integration itself probes them. Microsoft documents
//! the semantics for the Copilot connectors: a 403 means no table access; a 200 whose fields come back
//! empty means row access without field-level access. The properties the integration reads are checked
//! the same way. Tables marked optional in the profile warn instead of failing.

use super::findings::Findings;
use super::{Check, Code, Context, Found, Outcome};
use crate::model::Status;
use crate::profile::TableRead;
use crate::runner::facts::{FactError, FactKey, Facts};
use crate::servicenow::{ClientError, TableQuery};

/// See the module docs.
pub struct TableReadAccess;

const NO_CREDENTIALS: Code = Code::inconclusive("no-integration-credentials");
const NO_READ_ACCESS: Code = Code::fail("no-read-access");
const NO_SUCH_TABLE: Code = Code::fail("no-such-table");
const NO_FIELD_ACCESS: Code = Code::fail("no-field-access");
const PROPERTY_HIDDEN: Code = Code::fail("property-hidden");
const PROPERTIES_FORBIDDEN: Code = Code::fail("properties-forbidden");

/// One row of the table, only the fields the integration needs.
pub fn probe_query(read: &TableRead) -> TableQuery {
    let query = TableQuery::new(&read.table).limit(1);
    if read.fields.is_empty() {
        query
    } else {
        query.fields(read.fields.iter().map(String::as_str))
    }
}

/// One property, by name.
pub fn property_query(name: &str) -> TableQuery {
    TableQuery::new("sys_properties")
        .eq("name", name)
        .fields(["name", "value"])
        .limit(1)
}

impl Check for TableReadAccess {
    fn name(&self) -> &'static str {
        "table-read-access"
    }

    fn codes(&self) -> &'static [Code] {
        &[
            NO_CREDENTIALS,
            NO_READ_ACCESS,
            NO_SUCH_TABLE,
            NO_FIELD_ACCESS,
            PROPERTY_HIDDEN,
            PROPERTIES_FORBIDDEN,
        ]
    }

    fn needs(&self, ctx: &Context) -> Vec<FactKey> {
        let profile = &ctx.settings.profile;
        let mut keys: Vec<FactKey> = profile
            .read_tables
            .iter()
            .map(|t| FactKey::TableAsIntegration(probe_query(t)))
            .collect();
        keys.extend(
            profile
                .read_properties
                .iter()
                .map(|p| FactKey::TableAsIntegration(property_query(p))),
        );
        keys
    }

    fn evaluate(&self, ctx: &Context, facts: &Facts) -> Outcome {
        let profile = &ctx.settings.profile;
        if profile.read_tables.is_empty() && profile.read_properties.is_empty() {
            return Outcome::skipped(format!(
                "not applicable: the {} profile names no table the integration user must read",
                profile.name
            ));
        }
        let user = profile
            .integration_user
            .as_deref()
            .unwrap_or("the integration user");
        let mut f = Findings::default();
        let mut readable = 0usize;
        for read in &profile.read_tables {
            let table = &read.table;
            // An optional table's finding keeps its code and only warns.
            let problem = |f: &mut Findings, summary: String, code: Found| {
                if read.optional {
                    let mut code = code;
                    code.code.status = Status::Warn;
                    f.warn(
                        code,
                        format!("{summary} (optional: needed only by some configurations)"),
                    );
                } else {
                    f.fail(code, summary);
                }
            };
            match facts.rows_as_integration(&probe_query(read)) {
                Err(FactError::Unavailable(why)) => {
                    return Outcome::inconclusive(format!(
                        "cannot read as the integration user: {why}"
                    ))
                    .code(NO_CREDENTIALS);
                }
                Err(FactError::Client(ClientError::Forbidden { message, .. })) => {
                    f.note(format!("GET {table} as {user}"), format!("403 {message}"));
                    problem(
                        &mut f,
                        format!("{user} has no read access to {table} (403: no table access)"),
                        NO_READ_ACCESS.arg("user", user).arg("table", table),
                    );
                }
                Err(FactError::Client(ClientError::InvalidTable { .. })) => {
                    f.note(format!("GET {table} as {user}"), "400 Invalid table");
                    problem(
                        &mut f,
                        format!(
                            "{table} does not exist on the instance (or is not exposed to web services)"
                        ),
                        NO_SUCH_TABLE.arg("table", table),
                    );
                }
                Err(other) => {
                    f.note(format!("GET {table} as {user}"), other.to_string());
                    f.unreadable(format!("cannot read {table} as {user}: {other}"));
                }
                Ok([]) => {
                    f.note(
                        format!("GET {table} as {user}"),
                        "200, no rows (fields not judged)",
                    );
                    readable += 1;
                }
                Ok([row, ..]) => {
                    let empty: Vec<&str> = read
                        .fields
                        .iter()
                        .map(String::as_str)
                        .filter(|field| {
                            row.text(field).is_empty()
                                && row.display(field).is_none_or(str::is_empty)
                        })
                        .collect();
                    if !read.fields.is_empty() && empty.len() == read.fields.len() {
                        f.note(
                            format!("GET {table} as {user}"),
                            format!("200, every requested field empty: {}", empty.join(", ")),
                        );
                        problem(
                            &mut f,
                            format!(
                                "{user} reads rows of {table} but none of its fields ({}): row access without field-level access",
                                empty.join(", ")
                            ),
                            NO_FIELD_ACCESS.arg("user", user).arg("table", table),
                        );
                    } else {
                        f.note(format!("GET {table} as {user}"), "200 with fields");
                        readable += 1;
                    }
                }
            }
        }
        for name in &profile.read_properties {
            match facts.rows_as_integration(&property_query(name)) {
                Ok([row, ..]) => {
                    f.note(format!("sys_properties[{name}] as {user}"), row.text("value"));
                }
                Ok([]) => f.fail(
                    PROPERTY_HIDDEN.arg("user", user).arg("property", name),
                    format!("{user} cannot see the property {name} (no row returned)"),
                ),
                Err(FactError::Client(ClientError::Forbidden { message, .. })) => f.fail(
                    PROPERTIES_FORBIDDEN.arg("user", user).arg("property", name),
                    format!("{user} cannot read sys_properties (403 {message}), so the property {name} is unknown to the integration"),
                ),
                Err(e) => f.unreadable(format!("cannot read {name} as {user}: {e}")),
            }
        }
        f.outcome(format!(
            "{user} reads the {readable} table(s) the {} needs{}",
            profile.integration,
            if profile.read_properties.is_empty() {
                String::new()
            } else {
                format!(" and {} propert(ies)", profile.read_properties.len())
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{context_with, forbidden};
    use crate::model::Status;
    use crate::runner::facts::FactValue;
    use crate::servicenow::Row;
    use crate::servicenow::table::TableRows;

    fn read(table: &str, optional: bool) -> TableRead {
        TableRead {
            table: table.into(),
            fields: vec!["number".into(), "text".into()],
            optional,
        }
    }

    fn ok(read: &TableRead, row: serde_json::Value) -> (FactKey, crate::runner::facts::Fact) {
        (
            FactKey::TableAsIntegration(probe_query(read)),
            Ok(FactValue::Rows(TableRows {
                rows: vec![Row::from_value(row)],
                total: None,
            })),
        )
    }

    fn run(
        optional: bool,
        fact: impl Fn(&TableRead) -> (FactKey, crate::runner::facts::Fact),
    ) -> Outcome {
        let kb = read("kb_knowledge", optional);
        let ctx = context_with(|s| {
            s.profile.integration_user = Some("svc".into());
            s.profile.read_tables = vec![kb.clone()];
        });
        TableReadAccess.evaluate(&ctx, &Facts::from_pairs([fact(&kb)]))
    }

    #[test]
    fn forbidden_is_no_table_access_and_empty_fields_no_field_access() {
        let full = |r: &TableRead| ok(r, serde_json::json!({"number": "KB1", "text": "x"}));
        assert_eq!(run(false, full).status, Status::Pass);
        let outcome = run(false, |r| {
            forbidden(FactKey::TableAsIntegration(probe_query(r)))
        });
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("no table access"),
            "{}",
            outcome.summary
        );
        let empty = |r: &TableRead| ok(r, serde_json::json!({"number": "", "text": ""}));
        let outcome = run(false, empty);
        assert_eq!(outcome.status, Status::Fail);
        assert!(
            outcome.summary.contains("field-level"),
            "{}",
            outcome.summary
        );
        assert_eq!(run(true, empty).status, Status::Warn);
    }

    #[test]
    fn without_the_integration_password_it_is_inconclusive() {
        let outcome = run(false, |r| {
            (
                FactKey::TableAsIntegration(probe_query(r)),
                Err(FactError::Unavailable("no password".into())),
            )
        });
        assert_eq!(outcome.status, Status::Inconclusive);
    }
}
