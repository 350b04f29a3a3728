//! The only code that talks HTTP to an instance: URL validation, authentication, the Table API, the
//! OAuth endpoints, the round trip's writes, and the transcript of every exchange.

pub mod auth;
pub mod base_url;
pub mod batch;
pub mod budget;
pub mod client;
pub mod error;
mod host;
pub mod import_set;
pub mod oauth;
pub mod path;
pub mod query;
pub mod redact;
pub mod request;
pub mod response;
pub mod roundtrip;
pub mod row;
pub mod table;
pub mod transcript;
pub mod version;

pub use client::{Auth, Body, Client, ClientOptions, RawResponse};
pub use error::ClientError;
pub use query::TableQuery;
pub use request::Request;
pub use row::Row;
