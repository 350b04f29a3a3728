//! HAR 1.2 (the HTTP Archive format browsers' developer tools import) from the run's transcript.
//!
//! The transcript is redacted when it is recorded, so this only reshapes it. An exchange that got no
//! response (status 0) is still an entry, with the transport error in `_error` (the custom-field
//! convention of HAR 1.2, as Chromium uses it). The transcript does not record the HTTP version, so
//! entries say `HTTP/1.1`, and the whole duration is counted as `wait`.

use serde::Serialize;

use crate::error::Error;
use crate::model::RunReport;
use crate::servicenow::transcript::{Exchange, Header};

#[derive(Serialize)]
struct Har<'a> {
    log: Log<'a>,
}

#[derive(Serialize)]
struct Log<'a> {
    version: &'static str,
    creator: Creator<'a>,
    entries: Vec<Entry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
struct Creator<'a> {
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    started_date_time: &'a str,
    time: u64,
    request: Request<'a>,
    response: Response<'a>,
    cache: Empty,
    timings: Timings,
    #[serde(rename = "_error", skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    /// The `batch_request_id` of the Batch API request this exchange travelled inside.
    #[serde(rename = "_batch", skip_serializing_if = "Option::is_none")]
    batch: Option<&'a str>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    http_version: &'static str,
    cookies: Vec<Empty>,
    headers: Vec<NameValue>,
    query_string: Vec<NameValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_data: Option<PostData<'a>>,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostData<'a> {
    mime_type: &'a str,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    status: u16,
    status_text: &'a str,
    http_version: &'static str,
    cookies: Vec<Empty>,
    headers: Vec<NameValue>,
    content: Content<'a>,
    #[serde(rename = "redirectURL")]
    redirect_url: String,
    headers_size: i64,
    body_size: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Content<'a> {
    size: i64,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
}

#[derive(Serialize)]
struct NameValue {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct Timings {
    send: u64,
    wait: u64,
    receive: u64,
}

const HTTP_VERSION: &str = "HTTP/1.1";
const UNKNOWN_MIME: &str = "x-unknown";

/// Renders the HAR log as pretty JSON.
pub fn render(report: &RunReport, transcript: &[Exchange]) -> Result<String, Error> {
    let comment = transcript.is_empty().then(|| {
        "No HTTP exchange was recorded: a report rendered from saved JSON has no transcript; \
         the live run's --report har=PATH or --bundle keeps it."
            .to_string()
    });
    let har = Har {
        log: Log {
            version: "1.2",
            creator: Creator {
                name: &report.tool.name,
                version: &report.tool.version,
            },
            entries: transcript.iter().map(entry).collect(),
            comment,
        },
    };
    let mut text = serde_json::to_string_pretty(&har)
        .map_err(|e| Error::Report(format!("cannot serialise the HAR transcript: {e}")))?;
    text.push('\n');
    Ok(text)
}

fn entry(exchange: &Exchange) -> Entry<'_> {
    let responded = exchange.status != 0;
    let request = Request {
        method: &exchange.method,
        url: &exchange.url,
        http_version: HTTP_VERSION,
        cookies: Vec::new(),
        headers: headers(&exchange.request_headers),
        query_string: query(&exchange.url),
        post_data: exchange.request_body.as_deref().map(|text| PostData {
            mime_type: exchange.request_mime.as_deref().unwrap_or(UNKNOWN_MIME),
            text,
        }),
        headers_size: -1,
        body_size: exchange.request_body.as_ref().map_or(0, |b| len(b)),
    };
    let body = exchange.response_body.as_deref();
    let response = Response {
        status: exchange.status,
        status_text: &exchange.status_text,
        http_version: if responded { HTTP_VERSION } else { "" },
        cookies: Vec::new(),
        headers: headers(&exchange.response_headers),
        content: Content {
            size: body.map_or(0, len),
            mime_type: exchange.response_mime.as_deref().unwrap_or(UNKNOWN_MIME),
            text: body,
        },
        redirect_url: header(&exchange.response_headers, "location").unwrap_or_default(),
        headers_size: -1,
        body_size: if responded { body.map_or(0, len) } else { -1 },
    };
    Entry {
        started_date_time: &exchange.started_at,
        time: exchange.duration_ms,
        request,
        response,
        cache: Empty {},
        timings: Timings {
            send: 0,
            wait: exchange.duration_ms,
            receive: 0,
        },
        error: exchange.error.as_deref(),
        batch: exchange.batch.as_deref(),
    }
}

fn len(text: &str) -> i64 {
    i64::try_from(text.len()).unwrap_or(i64::MAX)
}

fn headers(headers: &[Header]) -> Vec<NameValue> {
    headers
        .iter()
        .map(|h| NameValue {
            name: h.name.clone(),
            value: h.value.clone(),
        })
        .collect()
}

fn header(headers: &[Header], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.clone())
}

/// The decoded query parameters; an unparsable URL has none rather than failing the report.
fn query(url: &str) -> Vec<NameValue> {
    url::Url::parse(url)
        .map(|parsed| {
            parsed
                .query_pairs()
                .map(|(name, value)| NameValue {
                    name: name.into_owned(),
                    value: value.into_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}
