//! The Import Set API's insert (`POST /api/now/import/{staging_table}`): the platform stores the row in
//! the staging table, runs the table's transform map synchronously and answers with the import set and
//! one transform result per target, e.g.
//! `{"import_set": "ISET0010001", "staging_table": "x_mioms_microsoft_oms_incident", "result": [{
//! "transform_map": "OMS Incident", "table": "incident", "display_name": "number", "display_value":
//! "INC0010002", "record_link": "…", "status": "inserted", "sys_id": "…"}]}` (ServiceNow "Import Set
//! API", <https://www.servicenow.com/docs/r/api-reference/rest-apis/c_ImportSetAPI.html>). The HTTP status
//! is a success even when the transform failed: only each result's `status` (`inserted`, `updated`,
//! `ignored`, `skipped`, `error`) and its `status_message` / `error_message` say what happened.

use serde_json::{Map, Value};

use super::client::{Auth, Body, Client};
use super::error::ClientError;
use super::request::Request;
use super::table::json_result;

/// What the Import Set API answered to one inserted row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportAnswer {
    /// The import set the row went into (its number, or sys_id).
    pub import_set: String,
    pub staging_table: String,
    /// One per transform map that ran (usually one).
    pub results: Vec<TransformResult>,
}

/// One transform map's outcome for the row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransformResult {
    pub transform_map: String,
    /// The target table.
    pub table: String,
    pub display_name: String,
    pub display_value: String,
    pub record_link: String,
    pub status: TransformStatus,
    /// The target record's sys_id (untrusted until read back with the run's marker).
    pub sys_id: String,
    /// `error_message`, else `status_message`.
    pub message: String,
}

/// A transform result's `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TransformStatus {
    Inserted,
    Updated,
    Ignored,
    Skipped,
    Error,
    /// Anything else the instance said (kept as sent).
    #[default]
    Unknown,
    Other(String),
}

impl TransformStatus {
    fn parse(text: &str) -> TransformStatus {
        match text.trim().to_ascii_lowercase().as_str() {
            "inserted" => TransformStatus::Inserted,
            "updated" => TransformStatus::Updated,
            "ignored" => TransformStatus::Ignored,
            "skipped" => TransformStatus::Skipped,
            "error" => TransformStatus::Error,
            "" => TransformStatus::Unknown,
            other => TransformStatus::Other(other.to_string()),
        }
    }

    /// The status as the instance wrote it.
    pub fn as_str(&self) -> &str {
        match self {
            TransformStatus::Inserted => "inserted",
            TransformStatus::Updated => "updated",
            TransformStatus::Ignored => "ignored",
            TransformStatus::Skipped => "skipped",
            TransformStatus::Error => "error",
            TransformStatus::Unknown => "(none)",
            TransformStatus::Other(text) => text,
        }
    }
}

impl ImportAnswer {
    /// Reads the answer leniently: a missing or mistyped member is empty, never a panic.
    pub fn from_body(body: &Value, result: &Value) -> ImportAnswer {
        let text = |v: &Value, key: &str| {
            v.get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let results = match result {
            Value::Array(items) => items.iter().map(TransformResult::from_value).collect(),
            // a single object is accepted as one result
            Value::Object(_) => vec![TransformResult::from_value(result)],
            _ => Vec::new(),
        };
        ImportAnswer {
            import_set: text(body, "import_set"),
            staging_table: text(body, "staging_table"),
            results,
        }
    }
}

impl TransformResult {
    fn from_value(v: &Value) -> TransformResult {
        let text = |key: &str| {
            v.get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let error = text("error_message");
        TransformResult {
            transform_map: text("transform_map"),
            table: text("table"),
            display_name: text("display_name"),
            display_value: text("display_value"),
            record_link: text("record_link"),
            status: TransformStatus::parse(&text("status")),
            sys_id: text("sys_id"),
            message: if error.is_empty() {
                text("status_message")
            } else {
                error
            },
        }
    }
}

impl Client {
    /// Inserts one row into an import set's staging table; the platform transforms it synchronously.
    /// Never retried: a retry could import the row twice.
    pub async fn import_insert(
        &self,
        auth: &Auth,
        staging_table: &str,
        fields: &Map<String, Value>,
    ) -> Result<ImportAnswer, ClientError> {
        let url = self.import_url_of(staging_table)?;
        let body = Body {
            mime: "application/json",
            text: Value::Object(fields.clone()).to_string(),
        };
        let response = self.send(Request::post(url, auth, body)).await?;
        let what = format!("POST /api/now/import/{staging_table}");
        let result = json_result(&response, &what, staging_table)?;
        let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        Ok(ImportAnswer::from_body(&body, &result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_documented_answer_is_read() {
        let body = json!({
            "import_set": "ISET0010001",
            "staging_table": "x_mioms_microsoft_oms_incident",
            "result": [{
                "transform_map": "OMS Incident",
                "table": "incident",
                "status": "error",
                "error_message": "Target record not found"
            }]
        });
        let answer = ImportAnswer::from_body(&body, &body["result"]);
        assert_eq!(answer.import_set, "ISET0010001");
        assert_eq!(answer.results.len(), 1);
        assert_eq!(answer.results[0].status, TransformStatus::Error);
        assert_eq!(answer.results[0].message, "Target record not found");
        assert_eq!(answer.results[0].transform_map, "OMS Incident");
    }

    #[test]
    fn a_hostile_answer_reads_as_empty() {
        let body = json!({"import_set": 7, "result": [{"status": ["x"], "sys_id": {"a": 1}}, 3]});
        let answer = ImportAnswer::from_body(&body, &body["result"]);
        assert_eq!(answer.import_set, "");
        assert_eq!(answer.results.len(), 2);
        assert_eq!(answer.results[0].status, TransformStatus::Unknown);
        assert_eq!(answer.results[0].sys_id, "");
        assert_eq!(
            TransformStatus::parse("Inserted"),
            TransformStatus::Inserted
        );
    }
}
