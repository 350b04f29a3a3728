//! Reads of the same table merged into one: the checks ask `sys_properties` for a few properties each
//! (`name=X`, `nameINa,b`), and the wave asks once for all of them (`nameINa,b,X…`); each check's fact is
//! then the merged answer's rows with its own names. One request (or one batch item) instead of five,
//! with the same rows per check.

use std::collections::BTreeSet;

use crate::servicenow::TableQuery;
use crate::servicenow::table::TableRows;

/// The table whose name-only reads are merged.
const PROPERTIES: &str = "sys_properties";

/// The property names a `sys_properties` read asks for by name alone (`name=X` or `nameINa,b`), or
/// `None` for any other read (other conditions, a row limit, another table), which stays as it is.
pub fn property_names(query: &TableQuery) -> Option<Vec<String>> {
    if query.table != PROPERTIES || query.limit.is_some() || query.query.contains('^') {
        return None;
    }
    let names: Vec<String> = if let Some(list) = query.query.strip_prefix("nameIN") {
        list.split(',').map(str::to_string).collect()
    } else if let Some(name) = query.query.strip_prefix("name=") {
        vec![name.to_string()]
    } else {
        return None;
    };
    let valid = |n: &String| !n.is_empty() && !n.contains(['=', '<', '>', '!', ' ']);
    names.iter().all(valid).then_some(names)
}

/// One read covering every name-only `sys_properties` read among `queries` (at least two of them),
/// with the union of their fields (and `name`, to split the answer); `None` when there is nothing to
/// merge.
pub fn merged_properties(queries: &[TableQuery]) -> Option<(TableQuery, Vec<TableQuery>)> {
    let members: Vec<TableQuery> = queries
        .iter()
        .filter(|q| property_names(q).is_some())
        .cloned()
        .collect();
    if members.len() < 2 {
        return None;
    }
    let names: BTreeSet<String> = members
        .iter()
        .flat_map(|q| property_names(q).unwrap_or_default())
        .collect();
    // A member asking for every field makes the merged read ask for every field.
    let fields = if members.iter().any(|q| q.fields.is_empty()) {
        Vec::new()
    } else {
        let mut fields: BTreeSet<String> = members.iter().flat_map(|q| q.fields.clone()).collect();
        fields.insert("name".into());
        fields.into_iter().collect()
    };
    let merged = TableQuery::new(PROPERTIES)
        .query(format!(
            "nameIN{}",
            names.into_iter().collect::<Vec<_>>().join(",")
        ))
        .fields(fields);
    Some((merged, members))
}

/// The rows of the merged answer that `member` asked for.
pub fn rows_for(member: &TableQuery, merged: &TableRows) -> TableRows {
    let names = property_names(member).unwrap_or_default();
    let rows: Vec<_> = merged
        .rows
        .iter()
        .filter(|row| names.iter().any(|n| n == row.text("name")))
        .cloned()
        .collect();
    TableRows {
        total: Some(rows.len() as u64),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_only_property_reads_merge_and_split_back() {
        let one = TableQuery::new("sys_properties")
            .query("name=glide.user.max_unlock_attempts")
            .fields(["name", "value"]);
        let two = TableQuery::new("sys_properties")
            .query("nameINglide.war,glide.buildtag")
            .fields(["name", "value", "description"]);
        let other = TableQuery::new("sys_properties").query("nameSTARTSWITHglide.oauth");
        let limited = TableQuery::new("sys_properties")
            .query("name=glide.war")
            .limit(1);
        let (merged, members) =
            merged_properties(&[one.clone(), other.clone(), two.clone(), limited.clone()])
                .expect("two to merge");
        assert_eq!(members, vec![one.clone(), two.clone()]);
        assert_eq!(
            merged.query,
            "nameINglide.buildtag,glide.user.max_unlock_attempts,glide.war"
        );
        assert_eq!(merged.fields, ["description", "name", "value"]);
        let row = |name: &str| {
            crate::servicenow::Row::from_value(serde_json::json!({"name": name, "value": "1"}))
        };
        let answer = TableRows {
            rows: vec![row("glide.war"), row("glide.user.max_unlock_attempts")],
            total: Some(2),
        };
        let split = rows_for(&two, &answer);
        assert_eq!(split.rows.len(), 1);
        assert_eq!(split.rows[0].text("name"), "glide.war");
        assert_eq!(split.total, Some(1));
        assert!(merged_properties(&[one, other]).is_none());
    }
}
