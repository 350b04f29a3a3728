//! The Batch API (`POST /api/now/v1/batch`): several Table API reads in one HTTP request. Each item
//! comes back with its own status, headers and base64 body; this module decodes them into ordinary
//! [`RawResponse`]s, redacted like any other answer, and records each as its own transcript entry marked
//! with its batch. An item the batch could not serve (unserviced, rate-limited, a server error, an
//! unreadable body) comes back as `None`, and the caller sends that read on its own; a refused batch
//! (missing, forbidden, rate-limited, not the platform's envelope) is an error, and the caller sends
//! every read on its own. Reference: the Batch API in the ServiceNow REST API reference
//! (<https://www.servicenow.com/docs/bundle/zurich-api-reference/page/integrate/inbound-rest/concept/batch-api.html>)
//! and pysnc's client (`pysnc/client.py`, `BatchAPI`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::client::{Auth, Body, Client, RawResponse};
use super::redact;
use super::request::Request;
use super::transcript::Exchange;

/// What the transcript keeps of an item's body inside the batch's own entry: the body is base64 there
/// (out of reach of redaction by value) and is recorded, decoded and redacted, in the item's entry.
const ELIDED: &str = "(decoded and recorded as this item's own entry)";

/// Numbers this process's batches (`snowdoctor-1`, `snowdoctor-2`…), so items and their batch match.
static NEXT_BATCH: AtomicU64 = AtomicU64::new(1);

/// Why a batch could not be used; every read is then sent on its own.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the Batch API was not usable: {0}")]
pub struct BatchRefused(pub String);

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    batch_request_id: Value,
    #[serde(default)]
    serviced_requests: Vec<Item>,
}

#[derive(Debug, Deserialize)]
struct Item {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    status_code: u16,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    execution_time: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct NameValue {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

/// A JSON id (string or number) as text: the platform answers strings, whatever was sent.
fn id_text(id: &Value) -> String {
    match id {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Client {
    /// Sends the GETs `urls` (of this instance) in one batch as `auth`. Each answer comes back in
    /// order; `None` marks a read the batch did not serve usably, to be sent alone.
    pub async fn batch_get(
        &self,
        auth: &Auth,
        urls: &[Url],
    ) -> Result<Vec<Option<RawResponse>>, BatchRefused> {
        let batch_id = format!("snowdoctor-{}", NEXT_BATCH.fetch_add(1, Ordering::Relaxed));
        let mut items = Vec::with_capacity(urls.len());
        for (index, url) in urls.iter().enumerate() {
            if url.origin() != self.base_origin() {
                return Err(BatchRefused(format!("{url} is not on this instance")));
            }
            let relative = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_string(),
            };
            items.push(json!({
                "id": index.to_string(),
                "method": "GET",
                "url": relative,
                "headers": [{"name": "Accept", "value": "application/json"}],
                "exclude_response_headers": false,
            }));
        }
        let body = Body {
            mime: "application/json",
            text: json!({"batch_request_id": batch_id, "rest_requests": items}).to_string(),
        };
        let endpoint = self
            .url("api/now/v1/batch")
            .map_err(|e| BatchRefused(e.to_string()))?;
        let started = Instant::now();
        let started_at = chrono::Utc::now().to_rfc3339();
        let response = self
            .send(Request::post(endpoint, auth, body).batch_envelope())
            .await
            .map_err(|e| BatchRefused(e.to_string()))?;
        let elapsed = started.elapsed().as_millis() as u64;
        if response.status != 200 {
            return Err(BatchRefused(format!("it answered {}", response.status)));
        }
        let envelope: Envelope = serde_json::from_str(&response.body)
            .map_err(|e| BatchRefused(format!("its answer is not a batch envelope ({e})")))?;
        if id_text(&envelope.batch_request_id) != batch_id {
            return Err(BatchRefused(format!(
                "it answered batch {:?} to batch {batch_id:?}",
                id_text(&envelope.batch_request_id)
            )));
        }
        let mut answers: Vec<Option<RawResponse>> = vec![None; urls.len()];
        for item in envelope.serviced_requests {
            let Some(index) = id_text(&item.id)
                .parse::<usize>()
                .ok()
                .filter(|i| *i < urls.len())
            else {
                continue;
            };
            if answers[index].is_some() {
                continue;
            }
            let duration = item
                .execution_time
                .as_ref()
                .and_then(|t| t.as_u64().or_else(|| t.as_str()?.parse().ok()))
                .unwrap_or(elapsed);
            answers[index] = self.item_answer(&urls[index], item, &batch_id, &started_at, duration);
        }
        Ok(answers)
    }

    /// Decodes one served item into a redacted answer and records it; `None` when it should be sent
    /// alone (rate-limited, a transient server error, or a body that is not base64).
    fn item_answer(
        &self,
        url: &Url,
        item: Item,
        batch_id: &str,
        started_at: &str,
        duration_ms: u64,
    ) -> Option<RawResponse> {
        let secrets = self.secrets();
        let mut raw_headers = HeaderMap::new();
        for h in &item.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(h.name.as_bytes()),
                HeaderValue::from_str(&h.value),
            ) {
                raw_headers.append(name, value);
            }
        }
        // Scrubbed of known secrets before anything reads them, as for any other answer.
        let headers = redact::headers(secrets, &raw_headers);
        let decoded = match item.body.as_deref().filter(|b| !b.is_empty()) {
            Some(b) => STANDARD.decode(b).ok(),
            None => Some(Vec::new()),
        };
        let text = decoded
            .as_deref()
            .map(|bytes| secrets.redact(&String::from_utf8_lossy(bytes)));
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let status = item.status_code;
        self.transcript().push(Exchange {
            started_at: started_at.to_string(),
            method: "GET".into(),
            url: secrets.redact(&redact::url(url.as_str())),
            request_headers: redact::request_headers("application/json", true, None),
            request_body: None,
            request_mime: None,
            status,
            status_text: StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")
                .to_string(),
            response_headers: redact::response_headers(&headers),
            response_body: text
                .as_deref()
                .map(|t| redact::body(secrets, &content_type, t)),
            response_mime: Some(content_type.clone()),
            error: text
                .is_none()
                .then(|| "the batch item's body is not base64".to_string()),
            duration_ms,
            batch: Some(batch_id.to_string()),
        });
        let transient = status == 429 || ((500..600).contains(&status) && status != 501);
        if transient || status == 0 {
            return None;
        }
        Some(RawResponse {
            status,
            content_type,
            headers,
            body: text?,
            location: None,
            url: url.to_string(),
        })
    }
}

/// The batch's own transcript entry without its items' base64 bodies (see [`ELIDED`]).
pub(super) fn elide_item_bodies(text: &str) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return text.to_string();
    };
    if let Some(items) = value
        .get_mut("serviced_requests")
        .and_then(Value::as_array_mut)
    {
        for item in items {
            if let Some(body) = item.get_mut("body") {
                *body = Value::String(ELIDED.into());
            }
        }
    }
    value.to_string()
}
