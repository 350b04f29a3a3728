//! A Table API row as returned with `sysparm_display_value=all`: each field is a plain string or a
//! `{display_value, value, link?}` object. Accessors accept both shapes so checks never care.

use serde_json::{Map, Value};

/// One record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row(pub Map<String, Value>);

impl Row {
    /// Wraps a JSON object; anything else becomes an empty row.
    pub fn from_value(value: Value) -> Row {
        match value {
            Value::Object(map) => Row(map),
            _ => Row::default(),
        }
    }

    /// The stored value of a field (`value` of an object, or the plain string).
    pub fn value(&self, field: &str) -> Option<&str> {
        match self.0.get(field)? {
            Value::String(s) => Some(s),
            Value::Object(obj) => obj.get("value").and_then(Value::as_str),
            _ => None,
        }
    }

    /// The display value (label) of a field, falling back to the stored value.
    pub fn display(&self, field: &str) -> Option<&str> {
        match self.0.get(field)? {
            Value::String(s) => Some(s),
            Value::Object(obj) => obj
                .get("display_value")
                .and_then(Value::as_str)
                .or_else(|| obj.get("value").and_then(Value::as_str)),
            _ => None,
        }
    }

    /// The stored value, or "" when absent.
    pub fn text(&self, field: &str) -> &str {
        self.value(field).unwrap_or("")
    }

    /// A boolean field: ServiceNow sends `"true"`/`"false"` (and `1`/`0` on some tables).
    pub fn flag(&self, field: &str) -> Option<bool> {
        let raw = self.value(field)?.trim().to_ascii_lowercase();
        match raw.as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" | "" => Some(false),
            _ => None,
        }
    }

    /// True when the stored value or the label equals one of `candidates`, case-insensitively.
    pub fn is_one_of(&self, field: &str, candidates: &[&str]) -> bool {
        let value = self.value(field).unwrap_or("");
        let label = self.display(field).unwrap_or("");
        candidates
            .iter()
            .any(|c| c.eq_ignore_ascii_case(value) || c.eq_ignore_ascii_case(label))
    }

    /// The record's sys_id.
    pub fn sys_id(&self) -> &str {
        self.text("sys_id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_plain_and_display_value_all_shapes() {
        let row = Row::from_value(json!({
            "name": "oauth_entity",
            "access": {"display_value": "All application scopes", "value": "public"},
            "read_access": {"display_value": "true", "value": "true"},
        }));
        assert_eq!(row.value("name"), Some("oauth_entity"));
        assert_eq!(row.value("access"), Some("public"));
        assert_eq!(row.display("access"), Some("All application scopes"));
        assert_eq!(row.flag("read_access"), Some(true));
        assert!(row.is_one_of("access", &["all application scopes"]));
        assert_eq!(row.value("missing"), None);
    }
}
