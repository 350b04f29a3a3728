//! Facts: what checks evaluate. A check names the facts it needs ([`FactKey`]); the gatherer fetches each
//! key once (memoised), so a fact two checks need costs one request.

use std::collections::HashMap;
use std::sync::Arc;

use crate::servicenow::oauth::ConnectOutcome;
use crate::servicenow::roundtrip::RoundTripOutcome;
use crate::servicenow::table::TableRows;
use crate::servicenow::{ClientError, RawResponse, Row, TableQuery};

/// A page outside the Table API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Page {
    /// `/stats.do` (text lines).
    Stats,
    /// `/xmlstats.do` (XML).
    XmlStats,
}

/// A question to the instance (or to a local input).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactKey {
    /// Unauthenticated GET of a Table API URL: does a ServiceNow instance answer, and how?
    Reachability,
    /// The diagnosing account: its user record and roles.
    WhoAmI,
    /// A Table API read as the diagnosing account.
    Table(TableQuery),
    /// A diagnostic page, as the diagnosing account.
    Page(Page),
    /// Unauthenticated GET of `/oauth_auth.do?response_type=code&client_id=…`, redirects not followed.
    AuthorizeProbe,
    /// The real OAuth token request and a call with the token.
    Connect,
    /// The ticket create/read/update/delete round trip.
    RoundTrip,
    /// The Azure service-tag file given with `--service-tags`.
    ServiceTags,
    /// A Table API read as the integration user (basic auth): what the integration itself may see.
    TableAsIntegration(TableQuery),
    /// A GET of a path on the instance as the integration user (a profile's probe endpoint).
    EndpointAsIntegration(String),
}

/// The diagnosing account as the instance sees it.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub user_name: String,
    pub sys_id: String,
    /// Roles, when they could be read (`None`: the account may not read its roles).
    pub roles: Option<Vec<String>>,
}

impl Identity {
    /// True when the roles are known and include `admin`.
    pub fn is_admin(&self) -> bool {
        self.roles
            .as_ref()
            .is_some_and(|roles| roles.iter().any(|r| r == "admin"))
    }
}

/// A gathered value.
#[derive(Debug, Clone)]
pub enum FactValue {
    Response(RawResponse),
    Identity(Identity),
    Rows(TableRows),
    ServiceTags(Arc<crate::azure::ServiceTagFile>),
    /// The OAuth connect (token request, token use, identity).
    Connect(Arc<ConnectOutcome>),
    /// The ticket round trip and what became of its records.
    RoundTrip(Arc<RoundTripOutcome>),
}

/// Why a fact is missing.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FactError {
    #[error(transparent)]
    Client(#[from] ClientError),
    /// An input the fact needs was not supplied (e.g. no client secret).
    #[error("{0}")]
    Unavailable(String),
    /// A local input is invalid (e.g. a malformed service-tag file).
    #[error("{0}")]
    Input(String),
    #[error("gathering timed out")]
    TimedOut,
}

/// A gathered fact: the value or why it is missing.
pub type Fact = Result<FactValue, FactError>;

/// The facts one check sees.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    map: HashMap<FactKey, Arc<Fact>>,
}

impl Facts {
    /// Builds a fact set (the runner does this; tests use it to evaluate checks without a server).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (FactKey, Fact)>) -> Facts {
        Facts {
            map: pairs.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
        }
    }

    pub(crate) fn insert(&mut self, key: FactKey, fact: Arc<Fact>) {
        self.map.insert(key, fact);
    }

    /// A fact by key; a check that did not declare it gets an error rather than a panic.
    pub fn get(&self, key: &FactKey) -> Result<&FactValue, FactError> {
        match self.map.get(key) {
            Some(fact) => fact.as_ref().as_ref().map_err(Clone::clone),
            None => Err(FactError::Unavailable(format!(
                "internal: fact {key:?} was not gathered"
            ))),
        }
    }

    /// Rows of a table read.
    pub fn rows(&self, query: &TableQuery) -> Result<&[Row], FactError> {
        match self.get(&FactKey::Table(query.clone()))? {
            FactValue::Rows(rows) => Ok(&rows.rows),
            other => Err(unexpected(other)),
        }
    }

    /// A raw response (reachability, pages, the authorization probe).
    pub fn response(&self, key: &FactKey) -> Result<&RawResponse, FactError> {
        match self.get(key)? {
            FactValue::Response(response) => Ok(response),
            other => Err(unexpected(other)),
        }
    }

    /// Rows of a table read as the integration user.
    pub fn rows_as_integration(&self, query: &TableQuery) -> Result<&[Row], FactError> {
        match self.get(&FactKey::TableAsIntegration(query.clone()))? {
            FactValue::Rows(rows) => Ok(&rows.rows),
            other => Err(unexpected(other)),
        }
    }

    /// The diagnosing account.
    pub fn identity(&self) -> Result<&Identity, FactError> {
        match self.get(&FactKey::WhoAmI)? {
            FactValue::Identity(identity) => Ok(identity),
            other => Err(unexpected(other)),
        }
    }
}

impl Facts {
    /// The OAuth connect.
    pub fn connect(&self) -> Result<&ConnectOutcome, FactError> {
        match self.get(&FactKey::Connect)? {
            FactValue::Connect(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    /// The ticket round trip.
    pub fn round_trip(&self) -> Result<&RoundTripOutcome, FactError> {
        match self.get(&FactKey::RoundTrip)? {
            FactValue::RoundTrip(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(value: &FactValue) -> FactError {
    FactError::Unavailable(format!("internal: unexpected fact shape {value:?}"))
}
