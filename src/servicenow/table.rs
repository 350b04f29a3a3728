//! The Table API over [`Client`]: paged reads with `sysparm_display_value=all`, single-record reads and
//! writes, and the mapping of the platform's error envelope to [`ClientError`].

use serde_json::{Map, Value};

use super::client::{Auth, Body, Client, RawResponse, html_kind, retry_after};
use super::error::ClientError;
use super::query::TableQuery;
use super::request::Request;
use super::row::Row;

/// Hard stop on paging, whatever the server says about its total.
const MAX_PAGES: usize = 200;
const JSON: &str = "application/json";
/// What the platform says, with a 200, when a transaction hit the maximum execution time.
const CANCELLED: &str = "Transaction cancelled";

/// The rows of a list read and the server's total count.
#[derive(Debug, Clone, Default)]
pub struct TableRows {
    pub rows: Vec<Row>,
    /// `X-Total-Count`, when sent.
    pub total: Option<u64>,
}

impl Client {
    /// Reads every row matching `query` (paged), with display values and without reference links.
    pub async fn table_list(
        &self,
        auth: &Auth,
        query: &TableQuery,
    ) -> Result<TableRows, ClientError> {
        self.table_list_from(auth, query, None).await
    }

    /// The URL of the first page [`Client::table_list`] reads for `query` (what a batch carries).
    pub fn table_first_page_url(&self, query: &TableQuery) -> Result<url::Url, ClientError> {
        let page_size = self.page_size().max(1);
        let size = query.limit.map_or(page_size, |l| l.min(page_size));
        self.table_url(query, size, 0)
    }

    /// [`Client::table_list`] whose first page, the answer to [`Client::table_first_page_url`], was
    /// already read (inside a batch); later pages are read as usual.
    pub async fn table_list_from(
        &self,
        auth: &Auth,
        query: &TableQuery,
        mut first_page: Option<RawResponse>,
    ) -> Result<TableRows, ClientError> {
        let mut rows = Vec::new();
        let mut total: Option<u64> = None;
        // The platform applies the limit before ACLs, so a page can come back short (or empty) while
        // more readable rows follow: advance by what was asked for, and trust X-Total-Count to stop.
        let page_size = self.page_size().max(1);
        let mut offset = 0usize;
        for _ in 0..MAX_PAGES {
            let wanted = query.limit.map(|l| l.saturating_sub(rows.len()));
            let size = wanted.map_or(page_size, |w| w.min(page_size));
            if size == 0 {
                break;
            }
            let response = match first_page.take() {
                Some(response) => response,
                None => {
                    let url = self.table_url(query, size, offset)?;
                    self.send(Request::get(url, auth)).await?
                }
            };
            let value = json_result(&response, &format!("GET {}", query.table), &query.table)?;
            total = response
                .header("x-total-count")
                .and_then(|t| t.trim().parse().ok());
            let batch = match value {
                Value::Array(items) => items,
                other => {
                    return Err(ClientError::Decode {
                        what: format!("GET {}", query.table),
                        detail: format!("expected a list in \"result\", got {}", kind_of(&other)),
                    });
                }
            };
            let got = batch.len();
            rows.extend(batch.into_iter().map(Row::from_value));
            offset += size;
            let more = match total {
                Some(total) => (offset as u64) < total,
                // Without a count, only a full page promises more.
                None => got == size,
            };
            if !more {
                break;
            }
        }
        Ok(TableRows { rows, total })
    }

    /// Reads one record by sys_id.
    pub async fn table_get(
        &self,
        auth: &Auth,
        table: &str,
        sys_id: &str,
    ) -> Result<Row, ClientError> {
        let url = record_url(&self.table_url_of(table, Some(sys_id))?);
        let response = self.send(Request::get(url, auth)).await?;
        json_result(&response, &format!("GET {table}/{sys_id}"), table).map(Row::from_value)
    }

    /// Creates a record (never retried: a retry could create a duplicate).
    pub async fn table_create(
        &self,
        auth: &Auth,
        table: &str,
        fields: &Map<String, Value>,
    ) -> Result<Row, ClientError> {
        let url = record_url(&self.table_url_of(table, None)?);
        let body = json_body(fields);
        let response = self.send(Request::post(url, auth, body)).await?;
        json_result(&response, &format!("POST {table}"), table).map(Row::from_value)
    }

    /// Updates fields of a record (PATCH is idempotent, so transient failures are retried).
    pub async fn table_update(
        &self,
        auth: &Auth,
        table: &str,
        sys_id: &str,
        fields: &Map<String, Value>,
    ) -> Result<Row, ClientError> {
        let url = record_url(&self.table_url_of(table, Some(sys_id))?);
        let response = self
            .send(Request::patch(url, auth, json_body(fields)))
            .await?;
        json_result(&response, &format!("PATCH {table}/{sys_id}"), table).map(Row::from_value)
    }

    /// Deletes a record; 204 (or 200) is success, 404 means it is already gone.
    pub async fn table_delete(
        &self,
        auth: &Auth,
        table: &str,
        sys_id: &str,
    ) -> Result<(), ClientError> {
        let url = self.table_url_of(table, Some(sys_id))?;
        let response = self.send(Request::delete(url, auth)).await?;
        match response.status {
            200 | 204 => Ok(()),
            _ => json_result(&response, &format!("DELETE {table}/{sys_id}"), table).map(|_| ()),
        }
    }

    fn table_url(
        &self,
        query: &TableQuery,
        limit: usize,
        offset: usize,
    ) -> Result<url::Url, ClientError> {
        let mut url = self.table_url_of(&query.table, None)?;
        {
            let mut pairs = url.query_pairs_mut();
            if !query.query.is_empty() {
                pairs.append_pair("sysparm_query", &query.query);
            }
            if !query.fields.is_empty() {
                pairs.append_pair("sysparm_fields", &query.fields.join(","));
            }
            pairs
                .append_pair("sysparm_display_value", "all")
                .append_pair("sysparm_exclude_reference_link", "true")
                .append_pair("sysparm_suppress_pagination_header", "true")
                .append_pair("sysparm_limit", &limit.to_string())
                .append_pair("sysparm_offset", &offset.to_string());
        }
        Ok(url)
    }
}

/// The single-record read and write parameters: display values, no reference links.
fn record_url(url: &url::Url) -> url::Url {
    let mut url = url.clone();
    url.query_pairs_mut()
        .append_pair("sysparm_display_value", "all")
        .append_pair("sysparm_exclude_reference_link", "true");
    url
}

fn json_body(fields: &Map<String, Value>) -> Body {
    Body {
        mime: JSON,
        text: Value::Object(fields.clone()).to_string(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Interprets a Table API response: the `result` of a 2xx JSON body, or the typed error.
pub fn json_result(response: &RawResponse, what: &str, table: &str) -> Result<Value, ClientError> {
    // Redirects and server errors are told by their status, whatever their body: both usually come
    // with a small HTML page, which is neither an interstitial nor a login page.
    if (300..=399).contains(&response.status) {
        return Err(ClientError::redirect(
            response.location.as_deref().unwrap_or_default(),
            &response.url,
        ));
    }
    if response.is_html() {
        let (kind, title) = html_kind(&response.body);
        return Err(match response.status {
            403 => ClientError::IpBlocked,
            status @ 500..=599 => ClientError::Server {
                status,
                message: if title.is_empty() {
                    "an HTML error page".into()
                } else {
                    format!("an HTML error page ({title:?})")
                },
            },
            _ => ClientError::Html { kind, title },
        });
    }
    let parsed: Result<Value, _> = serde_json::from_str(&response.body);
    let (message, detail) = match &parsed {
        Ok(body) => error_envelope(body),
        Err(_) => (String::new(), String::new()),
    };
    match response.status {
        200..=299 => {
            // The platform says so in the error envelope, or in a body that is not JSON at all. A
            // well-formed result that merely *contains* the words (a ticket's text) is data.
            let cancelled = match &parsed {
                Ok(_) => message.contains(CANCELLED),
                Err(_) => response.body.contains(CANCELLED),
            };
            if cancelled {
                return Err(ClientError::TransactionCancelled);
            }
            let body = parsed.map_err(|e| ClientError::Decode {
                what: what.to_string(),
                detail: format!("the body is not valid JSON ({e})"),
            })?;
            match body {
                Value::Object(mut map) => map.remove("result").ok_or_else(|| ClientError::Decode {
                    what: what.to_string(),
                    detail: "the JSON body has no \"result\"".into(),
                }),
                other => Err(ClientError::Decode {
                    what: what.to_string(),
                    detail: format!("expected a JSON object, got {}", kind_of(&other)),
                }),
            }
        }
        400 if message.starts_with("Invalid table") => Err(ClientError::InvalidTable {
            table: table.to_string(),
        }),
        400 => Err(ClientError::BadRequest { message, detail }),
        401 => Err(ClientError::Unauthorized {
            message: if message.is_empty() {
                "User Not Authenticated".into()
            } else {
                message
            },
        }),
        403 if parsed.is_err() => Err(ClientError::IpBlocked),
        403 => Err(ClientError::Forbidden { message, detail }),
        404 => Err(ClientError::NotFound {
            message: if message.is_empty() {
                "No Record found".into()
            } else {
                message
            },
        }),
        429 => Err(ClientError::RateLimited {
            message: if message.is_empty() {
                "Rate limit exceeded".into()
            } else {
                message
            },
            retry_after: retry_after(&response.headers),
        }),
        status @ 500..=599 => Err(ClientError::Server {
            status,
            message: if message.is_empty() {
                "no error message".into()
            } else {
                message
            },
        }),
        status => Err(ClientError::Status {
            status,
            what: what.to_string(),
        }),
    }
}

/// `{"error":{"message","detail"},"status":"failure"}` → (message, detail).
fn error_envelope(body: &Value) -> (String, String) {
    let error = body.get("error");
    let text = |key: &str| {
        error
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    (text("message"), text("detail"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn response(status: u16, content_type: &str, body: &str) -> RawResponse {
        RawResponse {
            url: String::new(),
            status,
            content_type: content_type.into(),
            headers: HeaderMap::new(),
            body: body.into(),
            location: None,
        }
    }

    #[test]
    fn maps_the_error_envelope_and_hostile_bodies() {
        let forbidden = r#"{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}"#;
        assert!(matches!(
            json_result(&response(403, JSON, forbidden), "POST incident", "incident"),
            Err(ClientError::Forbidden { .. })
        ));
        assert!(matches!(
            json_result(
                &response(403, "text/html", "<html>blocked</html>"),
                "GET x",
                "x"
            ),
            Err(ClientError::IpBlocked)
        ));
        assert!(matches!(
            json_result(&response(200, JSON, "{\"result\":[{\"a\":"), "GET x", "x"),
            Err(ClientError::Decode { .. })
        ));
        assert!(matches!(
            json_result(&response(200, JSON, "[1,2]"), "GET x", "x"),
            Err(ClientError::Decode { .. })
        ));
        let invalid =
            r#"{"error":{"message":"Invalid table nope","detail":null},"status":"failure"}"#;
        assert!(matches!(
            json_result(&response(400, JSON, invalid), "GET nope", "nope"),
            Err(ClientError::InvalidTable { .. })
        ));
        assert!(matches!(
            json_result(
                &response(
                    200,
                    JSON,
                    r#"{"result":[]} Transaction cancelled: maximum execution time exceeded"#
                ),
                "GET x",
                "x"
            ),
            Err(ClientError::TransactionCancelled)
        ));
        assert!(matches!(
            json_result(&response(502, "text/plain", "bad gateway"), "GET x", "x"),
            Err(ClientError::Server { status: 502, .. })
        ));
    }

    #[test]
    fn a_cancelled_transaction_is_told_from_data_that_mentions_one() {
        let envelope = r#"{"error":{"message":"Transaction cancelled: maximum execution time exceeded","detail":"Check logs"},"status":"failure"}"#;
        assert!(matches!(
            json_result(&response(200, JSON, envelope), "GET x", "x"),
            Err(ClientError::TransactionCancelled)
        ));
        let data = r#"{"result":[{"short_description":"Transaction cancelled: maximum execution time exceeded"}]}"#;
        match json_result(&response(200, JSON, data), "GET incident", "incident") {
            Ok(Value::Array(rows)) => assert_eq!(rows.len(), 1),
            other => panic!("a record mentioning a cancelled transaction is data, got {other:?}"),
        }
    }

    #[test]
    fn status_wins_over_an_html_body_for_redirects_and_server_errors() {
        let proxy_page =
            "<html><head><title>502 Bad Gateway</title></head><body>nginx proxy</body></html>";
        match json_result(&response(502, "text/html", proxy_page), "GET x", "x") {
            Err(ClientError::Server { status, message }) => {
                assert_eq!(status, 502);
                assert!(message.contains("502 Bad Gateway"), "{message}");
            }
            other => panic!("a proxy's 502 page is a server error, got {other:?}"),
        }
        let mut moved = response(302, "text/html", "<html><title>Sign in</title></html>");
        moved.url = "https://acme.service-now.com/api/now/table/x".into();
        moved.location = Some("https://elsewhere.example/login".into());
        assert!(matches!(
            json_result(&moved, "GET x", "x"),
            Err(ClientError::CrossHostRedirect { location }) if location.contains("elsewhere")
        ));
        // A redirect on the instance's own host is reported as such, not as another host.
        moved.location = Some("https://acme.service-now.com/login.do".into());
        assert!(matches!(
            json_result(&moved, "GET x", "x"),
            Err(ClientError::Redirect { location }) if location.ends_with("/login.do")
        ));
        // A 200 login page is still an interstitial, a 403 page still an IP block.
        assert!(matches!(
            json_result(
                &response(200, "text/html", "<html><title>Sign in</title></html>"),
                "GET x",
                "x"
            ),
            Err(ClientError::Html {
                kind: crate::servicenow::error::HtmlKind::Interstitial,
                ..
            })
        ));
    }
}
