//! The real OAuth connect: `POST /oauth_token.do` (form-encoded) with the OAuth entity's client id and
//! secret, then a call with the bearer token that proves it works and shows whom it acts as.
//!
//! This module only performs the exchange and records what happened; ranking the likely causes of a
//! refusal (ServiceNow answers nearly every token failure with the same generic 401) is the
//! `oauth-connect` check's job, because it needs the configuration the other checks read.
//!
//! Over 500 lines: one idea, the token exchange and its use, in its grants and failure modes.

use std::time::Instant;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::client::{Auth, Body, Client, html_kind};
use super::error::ClientError;
use super::request::Request;
use super::table::json_result;
use super::{Row, TableQuery};
use crate::model::{Status, Step};

const FORM: &str = "application/x-www-form-urlencoded";

/// The OAuth grant the connect uses (`--grant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Password,
    RefreshToken,
    ClientCredentials,
}

impl Grant {
    /// Every grant, in the order help lists them.
    pub const ALL: &'static [Grant] = &[
        Grant::Password,
        Grant::RefreshToken,
        Grant::ClientCredentials,
    ];

    /// The name used on the command line and in the config file.
    pub fn name(self) -> &'static str {
        match self {
            Grant::Password => "password",
            Grant::RefreshToken => "refresh-token",
            Grant::ClientCredentials => "client-credentials",
        }
    }
}

/// Step names, shared with the check and the tests.
pub const STEP_TOKEN: &str = "token request";
pub const STEP_USE: &str = "token use";
pub const STEP_IDENTITY: &str = "identity";

/// What the connect needs; every secret is a `SecretString` already registered for redaction.
#[derive(Clone)]
pub struct ConnectInputs {
    pub grant: Grant,
    pub client_id: Option<String>,
    /// Where the client id came from (`--client-id` or the `oauth_entity` row), for evidence.
    pub client_id_source: String,
    pub integration_user: Option<String>,
    pub integration_password: Option<SecretString>,
    pub client_secret: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
    /// The user the token must act as (integration user, or the entity's application user).
    pub expected_user: Option<String>,
    /// Why no token request may be sent (one more failed password grant would lock the account).
    pub withheld: Option<String>,
}

impl std::fmt::Debug for ConnectInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectInputs")
            .field("grant", &self.grant)
            .field("client_id", &self.client_id)
            .field("integration_user", &self.integration_user)
            .finish_non_exhaustive()
    }
}

/// An input the connect could not run without: what is missing and how to supply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingInput {
    pub what: String,
    pub how: String,
}

/// The documented success fields of `/oauth_token.do`; the tokens stay secret.
#[derive(Clone)]
pub struct IssuedToken {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub scope: String,
    pub token_type: String,
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

/// Why the connect did not complete.
#[derive(Debug, Clone)]
pub enum ConnectFailure {
    /// The token endpoint answered with an OAuth error body (usually the generic 401).
    TokenRefused {
        status: u16,
        error: String,
        error_description: String,
        /// `x-is-logged-in` header, when present.
        logged_in: Option<String>,
    },
    /// The token request failed before an OAuth answer came back (network, HTML page, …).
    TokenRequest(ClientError),
    /// A 200 whose body is not the documented token response.
    TokenMalformed(String),
    /// The authenticated call with the token failed.
    UseFailed(ClientError),
    /// The token works but acts as someone else.
    WrongUser { expected: String, actual: String },
}

/// Who the token acts as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActingUser {
    pub user_name: String,
    pub sys_id: String,
}

/// What the connect did, step by step.
#[derive(Debug, Clone)]
pub struct ConnectOutcome {
    pub grant: Grant,
    pub client_id: Option<String>,
    pub client_id_source: String,
    pub expected_user: Option<String>,
    /// Inputs that were missing; when non-empty nothing was sent.
    pub missing: Vec<MissingInput>,
    /// Why the token request was not sent although every input was there (harm to the account).
    pub withheld: Option<String>,
    pub steps: Vec<Step>,
    pub token: Option<IssuedToken>,
    pub acting_as: Option<ActingUser>,
    pub failure: Option<ConnectFailure>,
    /// The entity's OAuth Application User (client credentials), read for the diagnosis.
    pub application_user: Option<Row>,
}

impl ConnectOutcome {
    /// The bearer token, when the connect succeeded far enough to use it: also when the instance
    /// only cancelled or timed out the call that proves it (the token itself was issued).
    pub fn bearer(&self) -> Option<Auth> {
        match (&self.token, &self.failure) {
            (
                Some(token),
                None
                | Some(ConnectFailure::UseFailed(
                    ClientError::TransactionCancelled | ClientError::Timeout { .. },
                )),
            ) => Some(Auth::Bearer(token.access_token.clone())),
            _ => None,
        }
    }

    /// True when a token was issued, worked, and acts as the expected user.
    pub fn succeeded(&self) -> bool {
        self.missing.is_empty()
            && self.withheld.is_none()
            && self.failure.is_none()
            && self.token.is_some()
    }
}

/// The inputs the chosen grant needs and does not have.
pub fn missing_inputs(inputs: &ConnectInputs, grant: Grant) -> Vec<MissingInput> {
    let mut missing = Vec::new();
    if inputs.client_id.is_none() {
        missing.push(MissingInput {
            what: "the OAuth client id".into(),
            how: "pass --client-id (or SNOWDOCTOR_CLIENT_ID), or --oauth-entity NAME so it can be read from the Application Registry".into(),
        });
    }
    if inputs.client_secret.is_none() {
        missing.push(MissingInput {
            what: "the OAuth client secret".into(),
            how: "set SNOWDOCTOR_CLIENT_SECRET (or pass --client-secret-file FILE)".into(),
        });
    }
    match grant {
        Grant::Password => {
            if inputs.integration_user.is_none() {
                missing.push(MissingInput {
                    what: "the integration user".into(),
                    how: "pass --integration-user NAME (or SNOWDOCTOR_INTEGRATION_USER)".into(),
                });
            }
            if inputs.integration_password.is_none() {
                missing.push(MissingInput {
                    what: "the integration user's password".into(),
                    how: "set SNOWDOCTOR_INTEGRATION_PASSWORD (or pass --integration-password-file FILE)".into(),
                });
            }
        }
        Grant::RefreshToken => {
            if inputs.refresh_token.is_none() {
                missing.push(MissingInput {
                    what: "the refresh token".into(),
                    how: "set SNOWDOCTOR_REFRESH_TOKEN (or pass --refresh-token-file FILE)".into(),
                });
            }
        }
        Grant::ClientCredentials => {}
    }
    missing
}

/// The `grant_type` parameter of a grant.
pub fn grant_type(grant: Grant) -> &'static str {
    match grant {
        Grant::Password => "password",
        Grant::RefreshToken => "refresh_token",
        Grant::ClientCredentials => "client_credentials",
    }
}

/// Obtains a token, uses it, and checks whom it acts as. Every token minted is registered in the
/// client's secret registry before anything else sees it.
pub async fn connect(client: &Client, inputs: &ConnectInputs) -> ConnectOutcome {
    let grant = inputs.grant;
    let mut outcome = ConnectOutcome {
        grant,
        client_id: inputs.client_id.clone(),
        client_id_source: inputs.client_id_source.clone(),
        expected_user: inputs.expected_user.clone(),
        missing: missing_inputs(inputs, grant),
        withheld: None,
        steps: Vec::new(),
        token: None,
        acting_as: None,
        failure: None,
        application_user: None,
    };
    if !outcome.missing.is_empty() {
        return outcome;
    }
    if let Some(why) = &inputs.withheld {
        outcome.withheld = Some(why.clone());
        return outcome;
    }
    let started = Instant::now();
    let token = request_token(client, inputs, grant).await;
    let elapsed = started.elapsed().as_millis() as u64;
    let token = match token {
        Ok(token) => {
            let detail = format!(
                "{} grant: {} token issued (scope {:?}, expires in {}, refresh token {})",
                grant_type(grant),
                if token.token_type.is_empty() {
                    "bearer"
                } else {
                    &token.token_type
                },
                token.scope,
                token
                    .expires_in
                    .map(|s| format!("{s} s"))
                    .unwrap_or_else(|| "an unknown time".into()),
                if token.refresh_token.is_some() {
                    "issued"
                } else {
                    "not issued"
                },
            );
            outcome
                .steps
                .push(step(STEP_TOKEN, Status::Pass, detail, elapsed));
            token
        }
        Err(failure) => {
            let detail = describe_failure(&failure);
            outcome
                .steps
                .push(step(STEP_TOKEN, Status::Fail, detail, elapsed));
            outcome.failure = Some(failure);
            return outcome;
        }
    };
    let bearer = Auth::Bearer(token.access_token.clone());
    outcome.token = Some(token);
    let started = Instant::now();
    let acting = who_is(client, &bearer).await;
    let elapsed = started.elapsed().as_millis() as u64;
    let acting = match acting {
        Ok(acting) => {
            outcome.steps.push(step(
                STEP_USE,
                Status::Pass,
                "GET /api/now/table/sys_user with the bearer token: accepted".to_string(),
                elapsed,
            ));
            acting
        }
        Err(error) => {
            let failure = ConnectFailure::UseFailed(error);
            outcome.steps.push(step(
                STEP_USE,
                Status::Fail,
                describe_failure(&failure),
                elapsed,
            ));
            outcome.failure = Some(failure);
            return outcome;
        }
    };
    let identity_ok = inputs
        .expected_user
        .as_ref()
        .is_none_or(|expected| expected.eq_ignore_ascii_case(&acting.user_name));
    let detail = match &inputs.expected_user {
        Some(expected) if identity_ok => format!("the token acts as {expected}"),
        Some(expected) => format!(
            "the token acts as {:?}, not as {expected:?}",
            acting.user_name
        ),
        None => format!("the token acts as {:?}", acting.user_name),
    };
    let status = if identity_ok {
        Status::Pass
    } else {
        Status::Fail
    };
    outcome.steps.push(step(STEP_IDENTITY, status, detail, 0));
    if !identity_ok {
        outcome.failure = Some(ConnectFailure::WrongUser {
            expected: inputs.expected_user.clone().unwrap_or_default(),
            actual: acting.user_name.clone(),
        });
    }
    outcome.acting_as = Some(acting);
    outcome
}

fn step(name: &str, status: Status, detail: String, duration_ms: u64) -> Step {
    Step {
        name: name.to_string(),
        status,
        detail,
        duration_ms,
    }
}

/// One line for a step's detail.
pub fn describe_failure(failure: &ConnectFailure) -> String {
    match failure {
        ConnectFailure::TokenRefused {
            status,
            error,
            error_description,
            ..
        } => format!("{status} {error_description} / {error} from /oauth_token.do"),
        ConnectFailure::TokenRequest(e) => format!("the token request failed: {e}"),
        ConnectFailure::TokenMalformed(why) => format!("unexpected token response: {why}"),
        ConnectFailure::UseFailed(e) => format!("the call with the token failed: {e}"),
        ConnectFailure::WrongUser { expected, actual } => {
            format!("the token acts as {actual:?}, not as {expected:?}")
        }
    }
}

async fn request_token(
    client: &Client,
    inputs: &ConnectInputs,
    grant: Grant,
) -> Result<IssuedToken, ConnectFailure> {
    let text = token_form(inputs, grant);
    let url = client
        .url("oauth_token.do")
        .map_err(ConnectFailure::TokenRequest)?;
    let body = Body { mime: FORM, text };
    // Never retried: a failed password grant counts towards the user's lockout.
    let (response, minted) = client
        .send_minting(Request::post(url, &Auth::None, body).mints_tokens())
        .await
        .map_err(ConnectFailure::TokenRequest)?;
    if response.is_html() {
        let (kind, title) = html_kind(&response.body);
        return Err(ConnectFailure::TokenRequest(ClientError::Html {
            kind,
            title,
        }));
    }
    let parsed: Option<Value> = serde_json::from_str(&response.body).ok();
    let text = |key: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if response.status != 200 {
        if let Some(Value::Object(_)) = &parsed
            && (!text("error").is_empty() || !text("error_description").is_empty())
        {
            return Err(ConnectFailure::TokenRefused {
                status: response.status,
                error: text("error"),
                error_description: text("error_description"),
                logged_in: response.header("x-is-logged-in").map(str::to_string),
            });
        }
        let error = json_result(&response, "POST /oauth_token.do", "oauth_token")
            .err()
            .unwrap_or(ClientError::Status {
                status: response.status,
                what: "POST /oauth_token.do".into(),
            });
        return Err(ConnectFailure::TokenRequest(error));
    }
    let Some(Value::Object(_)) = &parsed else {
        return Err(ConnectFailure::TokenMalformed(
            "the 200 body is not a JSON object".into(),
        ));
    };
    // The tokens come from the client, registered on arrival; the body shows them redacted.
    let Some(access_token) = minted.access_token else {
        return Err(ConnectFailure::TokenMalformed(
            "no access_token in the 200 body".into(),
        ));
    };
    let refresh_token = minted.refresh_token;
    let expires_in = parsed
        .as_ref()
        .and_then(|v| v.get("expires_in"))
        .and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
    Ok(IssuedToken {
        access_token,
        refresh_token,
        scope: text("scope"),
        token_type: text("token_type"),
        expires_in,
    })
}

/// The form body of the token request (parameters only in the body, docs/reference/servicenow-platform.md §6.4).
fn token_form(inputs: &ConnectInputs, grant: Grant) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", grant_type(grant));
    form.append_pair("client_id", inputs.client_id.as_deref().unwrap_or(""));
    if let Some(secret) = &inputs.client_secret {
        form.append_pair("client_secret", secret.expose_secret());
    }
    match grant {
        Grant::Password => {
            form.append_pair("username", inputs.integration_user.as_deref().unwrap_or(""));
            if let Some(password) = &inputs.integration_password {
                form.append_pair("password", password.expose_secret());
            }
        }
        Grant::RefreshToken => {
            if let Some(token) = &inputs.refresh_token {
                form.append_pair("refresh_token", token.expose_secret());
            }
        }
        Grant::ClientCredentials => {}
    }
    form.finish()
}

/// The documented way (`sys_user` with `gs.getUserName()`), the UI endpoint when the row is hidden.
pub async fn who_is(client: &Client, auth: &Auth) -> Result<ActingUser, ClientError> {
    let query = TableQuery::new("sys_user")
        .query("user_name=javascript:gs.getUserName()")
        .fields(["sys_id", "user_name"])
        .limit(1);
    let rows = client.table_list(auth, &query).await?;
    if let Some(row) = rows
        .rows
        .first()
        .filter(|r| !r.text("user_name").is_empty())
    {
        return Ok(acting_from_row(row));
    }
    let url = client.url("api/now/ui/user/current_user")?;
    let response = client.send(Request::get(url, auth)).await?;
    let result = json_result(&response, "GET current_user", "sys_user")?;
    let field = |k: &str| {
        result
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    Ok(ActingUser {
        user_name: field("user_name"),
        sys_id: field("user_sys_id"),
    })
}

fn acting_from_row(row: &Row) -> ActingUser {
    ActingUser {
        user_name: row.text("user_name").to_string(),
        sys_id: row.sys_id().to_string(),
    }
}
