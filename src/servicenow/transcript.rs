//! The record of every HTTP exchange of a run, redacted before it is stored; the HAR report reads it.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A header name and value (value already redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// One request and its response (or the error that replaced it). Every text field is redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// RFC 3339 time the request was sent.
    pub started_at: String,
    pub method: String,
    /// Full URL with secret query values redacted.
    pub url: String,
    pub request_headers: Vec<Header>,
    pub request_body: Option<String>,
    /// Request body MIME type, when there is a body.
    pub request_mime: Option<String>,
    /// 0 when no response arrived (see `error`).
    pub status: u16,
    pub status_text: String,
    pub response_headers: Vec<Header>,
    pub response_body: Option<String>,
    pub response_mime: Option<String>,
    /// Transport error, timeout or body-read failure.
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The Batch API request this exchange travelled inside (its `batch_request_id`); `None` for an
    /// exchange that went over the wire on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// Append-only, shared list of exchanges.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an exchange; the caller has redacted it.
    pub fn push(&self, exchange: Exchange) {
        if let Ok(mut exchanges) = self.exchanges.lock() {
            exchanges.push(exchange);
        }
    }

    /// A copy of every exchange so far, in order.
    pub fn snapshot(&self) -> Vec<Exchange> {
        self.exchanges.lock().map(|e| e.clone()).unwrap_or_default()
    }
}
