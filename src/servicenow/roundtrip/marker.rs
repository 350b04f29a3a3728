//! The run marker: `[snowdoctor:<uuid>]` in text columns and `snowdoctor-<uuid>` as correlation id.
//! Every record a run creates carries it; cleanup finds records by it and touches nothing without it.

use crate::servicenow::Row;

/// The unique marker of one run: `[snowdoctor:<uuid>]` in text fields, `snowdoctor-<uuid>` as
/// correlation id. Cleanup finds records by it and touches nothing without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub id: uuid::Uuid,
}

impl Marker {
    /// A fresh marker.
    pub fn new() -> Marker {
        Marker {
            id: uuid::Uuid::new_v4(),
        }
    }

    /// `[snowdoctor:<uuid>]`.
    pub fn tag(&self) -> String {
        format!("[snowdoctor:{}]", self.id)
    }

    /// `snowdoctor-<uuid>`.
    pub fn correlation_id(&self) -> String {
        format!("snowdoctor-{}", self.id)
    }

    /// True when the row carries this run's marker.
    pub fn is_on(&self, row: &Row) -> bool {
        row.text("short_description").contains(&self.tag())
            || row.text("description").contains(&self.tag())
            || row.text("correlation_id") == self.correlation_id()
    }
}

impl Default for Marker {
    fn default() -> Self {
        Marker::new()
    }
}

/// True when a row carries some snowdoctor run's marker (a well-formed uuid, not just the prefix).
pub fn carries_any_marker(row: &Row) -> bool {
    let tagged = |text: &str| {
        text.match_indices("[snowdoctor:").any(|(at, prefix)| {
            let rest = &text[at + prefix.len()..];
            rest.get(..36)
                .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok() && rest[36..].starts_with(']'))
        })
    };
    let correlated = row
        .text("correlation_id")
        .strip_prefix("snowdoctor-")
        .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok());
    tagged(row.text("short_description")) || correlated
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_well_formed_markers_count() {
        let row = |sd: &str, corr: &str| {
            Row::from_value(json!({"short_description": sd, "correlation_id": corr}))
        };
        let id = uuid::Uuid::new_v4();
        assert!(carries_any_marker(&row(
            &format!("x [snowdoctor:{id}]"),
            ""
        )));
        assert!(carries_any_marker(&row("", &format!("snowdoctor-{id}"))));
        assert!(!carries_any_marker(&row("[snowdoctor:not-a-uuid]", "")));
        assert!(!carries_any_marker(&row("printer on fire", "snowdoctor-")));
        assert!(!carries_any_marker(&row(&format!("[snowdoctor:{id}"), "")));
    }
}
