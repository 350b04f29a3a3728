//! How the connector's seven data fields map onto the ticket table's columns, and the record the round
//! trip creates from them.
//!
//! Microsoft never documented its column mapping (docs/reference/microsoft-integration.md §2.4), so the mapping is data:
//! [`FieldMapping`] with the suggested defaults, one column per data field; several data fields may share
//! a text column (the default puts four of them in `description`). A profile may move any of them with
//! `[profiles.NAME.field_mapping]` ([`MappingOverrides`], validated when the config file is read).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::marker::Marker;
use super::priority::impact_urgency;
use super::ticket::{DATE_TIME, TicketData};
use super::verify::{Expected, Rule};

/// Where the priority goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorityTarget {
    /// Incident-like tables: write impact and urgency; the platform derives `priority` (docs/reference/servicenow-platform.md §10.9a).
    Derived {
        impact: String,
        urgency: String,
        priority: String,
    },
    /// Tables that store the priority as sent.
    Direct(String),
}

/// `priority = "impact_urgency"`: write impact and urgency and let the platform derive `priority`.
pub const IMPACT_URGENCY: &str = "impact_urgency";

/// The keys of `[profiles.NAME.field_mapping]`: the connector's seven data fields.
pub const DATA_FIELDS: [&str; 7] = [
    "initiating_user",
    "task_name",
    "task_description",
    "priority",
    "due_date",
    "recommendation_source",
    "recommendation_category",
];

/// A profile's `[profiles.NAME.field_mapping]`: the column each data field goes to; an absent key keeps
/// the default of [`FieldMapping::for_table`]. Unknown keys, empty or malformed column names and two
/// kinds of value sharing one column are rejected while the config file is read (with its line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "MappingKeys")]
pub struct MappingOverrides {
    pub initiating_user: Option<String>,
    pub task_name: Option<String>,
    pub task_description: Option<String>,
    /// A column written directly, or [`IMPACT_URGENCY`].
    pub priority: Option<String>,
    pub due_date: Option<String>,
    pub recommendation_source: Option<String>,
    pub recommendation_category: Option<String>,
}

/// The file's shape of [`MappingOverrides`], before the cross-field validation.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct MappingKeys {
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    initiating_user: Option<Column>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    task_name: Option<Column>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    task_description: Option<Column>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    priority: Option<Column>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    due_date: Option<Column>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    recommendation_source: Option<Column>,
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    recommendation_category: Option<Column>,
}

/// A column name, checked as it is read so the error carries the value's line.
struct Column(String);

impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Column, D::Error> {
        let name = String::deserialize(deserializer)?;
        check_column(&name).map_err(serde::de::Error::custom)?;
        Ok(Column(name))
    }
}

/// A ServiceNow column name: letters, digits and `_`; the Table API silently drops anything else.
fn check_column(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        Err("empty column name: name the ticket table's column, or remove the key to keep the default".into())
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Err(format!(
            "{name:?} is not a column name (letters, digits and _ only; dot-walked fields cannot be written)"
        ))
    } else {
        Ok(())
    }
}

impl TryFrom<MappingKeys> for MappingOverrides {
    type Error = String;

    fn try_from(keys: MappingKeys) -> Result<MappingOverrides, String> {
        let take = |c: Option<Column>| c.map(|Column(name)| name);
        let overrides = MappingOverrides {
            initiating_user: take(keys.initiating_user),
            task_name: take(keys.task_name),
            task_description: take(keys.task_description),
            priority: take(keys.priority),
            due_date: take(keys.due_date),
            recommendation_source: take(keys.recommendation_source),
            recommendation_category: take(keys.recommendation_category),
        };
        // incident's derived priority uses the most columns, so a mapping valid there is valid anywhere
        FieldMapping::for_profile("incident", &overrides).check()?;
        Ok(overrides)
    }
}

/// Which column receives each of the seven data fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMapping {
    pub initiating_user: String,
    pub task_name: String,
    pub task_description: String,
    pub priority: PriorityTarget,
    pub due_date: String,
    pub recommendation_source: String,
    pub recommendation_category: String,
    /// Column for `snowdoctor-<uuid>`; ignored by the platform when the table has no such column.
    pub correlation_id: Option<String>,
}

/// The column that always carries the run marker, so cleanup finds a record whatever the mapping.
const MARKER_COLUMN: &str = "short_description";

impl FieldMapping {
    /// The suggested mapping for a table: derived priority on `incident` and `problem`.
    pub fn for_table(table: &str) -> FieldMapping {
        let priority = if matches!(table, "incident" | "problem") {
            PriorityTarget::Derived {
                impact: "impact".into(),
                urgency: "urgency".into(),
                priority: "priority".into(),
            }
        } else {
            PriorityTarget::Direct("priority".into())
        };
        FieldMapping {
            initiating_user: "description".into(),
            task_name: "short_description".into(),
            task_description: "description".into(),
            priority,
            due_date: "due_date".into(),
            recommendation_source: "description".into(),
            recommendation_category: "description".into(),
            correlation_id: Some("correlation_id".into()),
        }
    }

    /// The mapping of a profile: the table's defaults with the profile's overrides applied.
    pub fn for_profile(table: &str, overrides: &MappingOverrides) -> FieldMapping {
        let mut mapping = FieldMapping::for_table(table);
        let slots = [
            (&overrides.initiating_user, &mut mapping.initiating_user),
            (&overrides.task_name, &mut mapping.task_name),
            (&overrides.task_description, &mut mapping.task_description),
            (&overrides.due_date, &mut mapping.due_date),
            (
                &overrides.recommendation_source,
                &mut mapping.recommendation_source,
            ),
            (
                &overrides.recommendation_category,
                &mut mapping.recommendation_category,
            ),
        ];
        for (given, slot) in slots {
            if let Some(column) = given {
                slot.clone_from(column);
            }
        }
        match overrides.priority.as_deref() {
            None => {}
            Some(IMPACT_URGENCY) => {
                mapping.priority = PriorityTarget::Derived {
                    impact: "impact".into(),
                    urgency: "urgency".into(),
                    priority: "priority".into(),
                }
            }
            Some(column) => mapping.priority = PriorityTarget::Direct(column.to_string()),
        }
        mapping
    }

    /// The text columns and the data fields each carries, in the order they are written.
    fn text_columns(&self) -> Vec<(&str, Vec<&'static str>)> {
        let mut columns: Vec<(&str, Vec<&'static str>)> = Vec::new();
        for (field, column) in [
            ("task_name", &self.task_name),
            ("task_description", &self.task_description),
            ("initiating_user", &self.initiating_user),
            ("recommendation_source", &self.recommendation_source),
            ("recommendation_category", &self.recommendation_category),
        ] {
            match columns.iter_mut().find(|(c, _)| c == column) {
                Some((_, fields)) => fields.push(field),
                None => columns.push((column, vec![field])),
            }
        }
        columns
    }

    /// Text may share a column; a date, a number and the marker may not share one with anything else.
    pub fn check(&self) -> Result<(), String> {
        let mut taken: Vec<(String, &str)> = self
            .text_columns()
            .into_iter()
            .map(|(column, fields)| (column.to_string(), fields[0]))
            .collect();
        if !taken.iter().any(|(c, _)| c == MARKER_COLUMN) {
            taken.push((MARKER_COLUMN.to_string(), "the run marker"));
        }
        let mut single = vec![(self.due_date.clone(), "due_date")];
        match &self.priority {
            PriorityTarget::Derived {
                impact,
                urgency,
                priority,
            } => single.extend([
                (impact.clone(), "priority (impact)"),
                (urgency.clone(), "priority (urgency)"),
                (priority.clone(), "priority (derived)"),
            ]),
            PriorityTarget::Direct(column) => single.push((column.clone(), "priority")),
        }
        if let Some(column) = &self.correlation_id {
            single.push((column.clone(), "the run marker (correlation id)"));
        }
        for (column, what) in single {
            if let Some((_, other)) = taken.iter().find(|(c, _)| *c == column) {
                return Err(format!(
                    "field_mapping puts {what} and {other} in the same column {column}; give {what} a column of its own"
                ));
            }
            taken.push((column, what));
        }
        Ok(())
    }

    /// The record to create and what each column must read back as.
    ///
    /// A data field alone in its column is written as it is; fields sharing a column are written one
    /// per line, labelled. `short_description` and `description` also carry the run marker.
    pub fn build(&self, data: &TicketData, marker: &Marker) -> (Map<String, Value>, Vec<Expected>) {
        let value = |field: &str| -> (Option<&str>, String) {
            match field {
                "task_name" => (None, data.task_name.clone()),
                "task_description" => (None, data.task_description.clone()),
                "initiating_user" => (Some("Initiating user"), data.initiating_user.clone()),
                "recommendation_source" => (
                    Some("Recommendation source"),
                    data.recommendation_source.clone(),
                ),
                _ => (
                    Some("Recommendation category"),
                    data.recommendation_category.clone(),
                ),
            }
        };
        let mut fields = Map::new();
        let mut expected = Vec::new();
        let mut marked_short = false;
        for (column, carried) in self.text_columns() {
            let shared = carried.len() > 1;
            let mut lines: Vec<String> = carried
                .iter()
                .map(|field| match value(field) {
                    (Some(label), text) if shared => format!("{label}: {text}"),
                    (_, text) => text,
                })
                .collect();
            if matches!(column, MARKER_COLUMN | "description") {
                marked_short |= column == MARKER_COLUMN;
                let separator = if shared { "\n" } else { " " };
                if let Some(last) = lines.last_mut() {
                    last.push_str(separator);
                    last.push_str(&marker.tag());
                }
            }
            let text = lines.join("\n");
            expected.push(Expected::exact(column, &text, &carried));
            fields.insert(column.to_string(), Value::String(text));
        }
        if !marked_short {
            let text = format!("snowdoctor round trip {}", marker.tag());
            expected.push(Expected {
                field: MARKER_COLUMN.into(),
                sent: text.clone(),
                rule: Rule::ExactIfPresent,
                carries: Vec::new(),
            });
            fields.insert(MARKER_COLUMN.into(), Value::String(text));
        }
        let due = data.due.format(DATE_TIME).to_string();
        expected.push(Expected {
            field: self.due_date.clone(),
            sent: due.clone(),
            rule: Rule::DateTimeUtc,
            carries: vec!["due_date"],
        });
        fields.insert(self.due_date.clone(), Value::String(due));
        match &self.priority {
            PriorityTarget::Derived {
                impact,
                urgency,
                priority,
            } => {
                let (i, u) = impact_urgency(data.priority);
                for (column, value) in [(impact, i), (urgency, u)] {
                    expected.push(Expected::exact(column, &value.to_string(), &["priority"]));
                    fields.insert(column.clone(), Value::String(value.to_string()));
                }
                expected.push(Expected {
                    field: priority.clone(),
                    sent: String::new(),
                    rule: Rule::DerivedPriority {
                        impact: i,
                        urgency: u,
                    },
                    carries: vec!["priority"],
                });
            }
            PriorityTarget::Direct(column) => {
                let value = data.priority.to_string();
                expected.push(Expected::exact(column, &value, &["priority"]));
                fields.insert(column.clone(), Value::String(value));
            }
        }
        if let Some(column) = &self.correlation_id {
            expected.push(Expected {
                field: column.clone(),
                sent: marker.correlation_id(),
                rule: Rule::ExactIfPresent,
                carries: Vec::new(),
            });
            fields.insert(column.clone(), Value::String(marker.correlation_id()));
        }
        (fields, expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servicenow::Row;
    use crate::servicenow::roundtrip::marker::carries_any_marker;
    use crate::servicenow::roundtrip::verify::{Verification, verify};
    use serde_json::json;

    #[test]
    fn default_mapping_carries_the_seven_fields_and_the_marker() {
        let marker = Marker::new();
        let (fields, expected) =
            FieldMapping::for_table("incident").build(&TicketData::fixed(), &marker);
        let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or("");
        assert!(text("short_description").starts_with("snowdoctor connectivity test"));
        assert!(text("short_description").ends_with(&marker.tag()));
        let description = text("description");
        for needle in [
            "Initiating user: snowdoctor-round-trip",
            "Recommendation source: Microsoft recommendation",
            "Recommendation category: Identity",
            &marker.tag(),
        ] {
            assert!(description.contains(needle), "{needle} missing");
        }
        assert_eq!(text("impact"), "2");
        assert_eq!(text("urgency"), "2");
        assert!(
            fields.get("priority").is_none(),
            "priority is derived on incident"
        );
        assert_eq!(text("due_date"), "2025-10-16 08:53:20");
        assert_eq!(text("correlation_id"), marker.correlation_id());
        let row = Row::from_value(Value::Object(fields.clone()));
        assert!(marker.is_on(&row));
        assert!(carries_any_marker(&row));
        // The platform's derived priority (ITIL 2/2 → 3) completes the record.
        let mut stored = fields;
        stored.insert(
            "priority".into(),
            json!({"value": "3", "display_value": "3 - Moderate"}),
        );
        let v = verify(&Row(stored), &expected);
        assert_eq!(v, Verification::default());
    }

    fn overrides(text: &str) -> Result<MappingOverrides, String> {
        toml::from_str(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn overrides_move_fields_and_alone_a_field_is_written_bare() {
        let o = overrides(
            "task_name = \"u_title\"\nrecommendation_source = \"u_source\"\nrecommendation_category = \"close_notes\"\ninitiating_user = \"close_notes\"\npriority = \"u_severity\"",
        );
        let mapping = FieldMapping::for_profile("incident", &o.expect("a valid mapping"));
        assert_eq!(
            mapping.priority,
            PriorityTarget::Direct("u_severity".into())
        );
        let marker = Marker::new();
        let (fields, expected) = mapping.build(&TicketData::fixed(), &marker);
        let text = |k: &str| fields.get(k).and_then(Value::as_str).unwrap_or("");
        assert_eq!(text("u_title"), "snowdoctor connectivity test");
        assert_eq!(text("u_source"), "Microsoft recommendation");
        assert_eq!(
            text("close_notes"),
            "Initiating user: snowdoctor-round-trip\nRecommendation category: Identity"
        );
        assert_eq!(
            text("description"),
            format!("{} {}", TicketData::fixed().task_description, marker.tag())
        );
        assert_eq!(text("u_severity"), "3");
        assert!(fields.get("impact").is_none());
        // no data field in short_description: it still carries the marker, so cleanup finds the record
        assert_eq!(
            text("short_description"),
            format!("snowdoctor round trip {}", marker.tag())
        );
        assert!(carries_any_marker(&Row(fields.clone())));
        let carried: Vec<(&str, Vec<&str>)> = expected
            .iter()
            .map(|e| (e.field.as_str(), e.carries.clone()))
            .collect();
        assert!(carried.contains(&("u_source", vec!["recommendation_source"])));
        assert!(carried.contains(&(
            "close_notes",
            vec!["initiating_user", "recommendation_category"]
        )));
        assert_eq!(verify(&Row(fields), &expected), Verification::default());
    }

    #[test]
    fn missing_and_emptied_columns_have_their_own_causes() {
        let o = overrides("recommendation_source = \"u_source\"\ndue_date = \"u_due\"")
            .expect("a valid mapping");
        let marker = Marker::new();
        let (fields, expected) =
            FieldMapping::for_profile("incident", &o).build(&TicketData::fixed(), &marker);
        let mut stored = fields;
        stored.remove("u_source");
        stored.insert("u_due".into(), json!(""));
        stored.insert("priority".into(), json!("3"));
        let v = verify(&Row(stored), &expected);
        let causes: Vec<(&str, &str)> = v
            .mismatches
            .iter()
            .map(|m| (m.field.as_str(), m.cause.as_str()))
            .collect();
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(causes[0].0, "u_source");
        assert!(
            causes[0]
                .1
                .contains("(recommendation_source → u_source): the table has no column u_source")
        );
        assert_eq!(causes[1].0, "u_due");
        assert!(
            causes[1]
                .1
                .contains("u_due came back empty (due_date → u_due)")
        );
    }

    #[test]
    fn malformed_overrides_are_rejected() {
        for (text, message) in [
            ("priority = \"\"", "empty column name"),
            ("task_name = \"caller_id.name\"", "is not a column name"),
            ("tasks = \"x\"", "unknown field `tasks`"),
            ("due_date = \"short_description\"", "due_date and task_name"),
            ("priority = \"due_date\"", "priority and due_date"),
            ("task_name = \"impact\"", "priority (impact) and task_name"),
            (
                "initiating_user = \"correlation_id\"",
                "run marker (correlation id) and initiating_user",
            ),
            (
                "task_name = \"u_title\"\ndue_date = \"short_description\"",
                "due_date and the run marker",
            ),
        ] {
            let err = overrides(text).expect_err(text);
            assert!(err.contains(message), "{text}: {err}");
        }
        // text fields may share any column; impact_urgency selects the derived priority anywhere
        let o = overrides("task_name = \"description\"\npriority = \"impact_urgency\"")
            .expect("a valid mapping");
        let mapping = FieldMapping::for_profile("change_request", &o);
        assert!(matches!(mapping.priority, PriorityTarget::Derived { .. }));
        assert_eq!(mapping.task_name, "description");
        assert_eq!(
            FieldMapping::for_profile("incident", &MappingOverrides::default()),
            FieldMapping::for_table("incident")
        );
    }

    #[test]
    fn direct_priority_tables_store_what_is_sent() {
        let marker = Marker::new();
        let (fields, _) =
            FieldMapping::for_table("change_request").build(&TicketData::fixed(), &marker);
        assert_eq!(fields.get("priority"), Some(&json!("3")));
        assert!(fields.get("impact").is_none());
    }
}
