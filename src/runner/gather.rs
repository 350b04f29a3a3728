//! The gatherer: fetches facts through the client, once per key, however many checks ask.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::facts::{Fact, FactError, FactKey, FactValue, Identity, Page};
use crate::config::{Credentials, Settings};
use crate::connector::entity::{client_id_for, connector_entity, entities_query};
use crate::connector::grant::{lockout_query, lockout_risk, lockout_threshold};
use crate::connector::user::{
    application_user_query, discovered, discovery_query, named, user_query,
};
use crate::model::WrittenRecord;
use crate::profile::WriteKind;
use crate::servicenow::oauth::Grant;
use crate::servicenow::oauth::{self, ConnectInputs, ConnectOutcome};
use crate::servicenow::roundtrip::mapping::FieldMapping;
use crate::servicenow::roundtrip::{self, RoundTripInputs, RoundTripOutcome, WriteLog};
use crate::servicenow::{Auth, Client, ClientError, RawResponse, Request, TableQuery};

/// Fetches and memoises facts for one run.
pub struct Gatherer {
    pub client: Client,
    /// The diagnosing account.
    pub auth: Auth,
    pub user: String,
    pub settings: Settings,
    pub credentials: Credentials,
    /// Cancelled on Ctrl-C: long facts (the round trip) clean up and return.
    pub cancel: CancellationToken,
    cells: Mutex<HashMap<FactKey, Arc<OnceCell<Arc<Fact>>>>>,
    /// Records written to the instance (the round trip) and what became of them.
    written: WriteLog,
    /// Background work that must finish before the report (the round trip and its cleanup).
    tasks: TaskTracker,
    /// The configuration wave: the diagnosing account's table reads, sent together.
    wave: Wave,
}

/// The diagnosing account's table reads every selected check will ask for, planned before the run so
/// they leave together — in one Batch API request when the instance answers it — as soon as the
/// account is known to authenticate (a wrong password then costs one failed login, not twenty).
#[derive(Default)]
struct Wave {
    planned: Mutex<Vec<TableQuery>>,
    /// The name-only `sys_properties` reads, answered by one merged read (see [`super::merge`]).
    merged: Mutex<Option<(TableQuery, Vec<TableQuery>)>>,
    /// The answer to the first page of each planned read.
    answers: OnceCell<HashMap<TableQuery, Result<RawResponse, ClientError>>>,
}

impl Gatherer {
    /// A gatherer for one run.
    pub fn new(
        client: Client,
        user: String,
        settings: Settings,
        credentials: Credentials,
        cancel: CancellationToken,
    ) -> Gatherer {
        let auth = match &credentials.password {
            Some(password) => Auth::basic(&user, password.clone(), client.secrets()),
            None => Auth::None,
        };
        Gatherer {
            client,
            auth,
            user,
            settings,
            credentials,
            cancel,
            cells: Mutex::new(HashMap::new()),
            written: WriteLog::default(),
            tasks: TaskTracker::new(),
            wave: Wave::default(),
        }
    }

    /// Plans the configuration wave: the [`FactKey::Table`] reads among `keys`, and the reads the
    /// connect makes before its token request when `keys` hold [`FactKey::Connect`].
    pub fn plan_wave(&self, keys: &[FactKey]) {
        let mut queries: Vec<TableQuery> = keys
            .iter()
            .filter_map(|key| match key {
                FactKey::Table(query) => Some(query.clone()),
                _ => None,
            })
            .collect();
        if keys.contains(&FactKey::Connect) {
            queries.extend(self.connect_reads());
        }
        queries.retain(|q| q.limit != Some(0));
        queries.sort();
        queries.dedup();
        if let Some((merged, members)) = super::merge::merged_properties(&queries) {
            queries.retain(|q| !members.contains(q));
            queries.push(merged.clone());
            queries.sort();
            *lock(&self.wave.merged) = Some((merged, members));
        }
        *lock(&self.wave.planned) = queries;
    }

    /// The table reads [`Gatherer::connect`] makes before it asks for a token.
    fn connect_reads(&self) -> Vec<TableQuery> {
        let profile = &self.settings.profile;
        let mut reads = vec![entities_query()];
        match named(profile) {
            Some(name) => reads.push(user_query(name)),
            None if !profile.app_scope.is_empty() => {
                reads.push(discovery_query(&profile.app_scope))
            }
            None => {}
        }
        if self.settings.grant == Grant::Password {
            reads.push(lockout_query());
        }
        reads
    }

    /// The merged read that answers `query`, when `query` is one of the merged `sys_properties` reads.
    fn merged_read_of(&self, query: &TableQuery) -> Option<TableQuery> {
        lock(&self.wave.merged)
            .as_ref()
            .filter(|(_, members)| members.contains(query))
            .map(|(merged, _)| merged.clone())
    }

    /// The answer to the first page of `query` as the configuration wave read it, when `query` was
    /// planned for the wave.
    async fn wave_answer(&self, query: &TableQuery) -> Option<Result<RawResponse, ClientError>> {
        if !lock(&self.wave.planned).contains(query) {
            return None;
        }
        let answers = self.wave.answers.get_or_init(|| self.send_wave()).await;
        answers.get(query).cloned()
    }

    /// Sends the first page of every planned read at once, when the account authenticates: in one
    /// batch, and what the batch did not serve (or every read, when it is refused or off) on its own,
    /// all in parallel. Empty (each read then goes when its check asks) when the account does not
    /// authenticate.
    async fn send_wave(&self) -> HashMap<TableQuery, Result<RawResponse, ClientError>> {
        // Boxed: the identity is a fact, and `get` is recursive.
        let identity = Box::pin(self.get(&FactKey::WhoAmI)).await;
        if !matches!(identity.as_ref(), Ok(FactValue::Identity(i)) if !i.sys_id.is_empty()) {
            return HashMap::new();
        }
        let queries = lock(&self.wave.planned).clone();
        let Ok(urls) = queries
            .iter()
            .map(|q| self.client.table_first_page_url(q))
            .collect::<Result<Vec<_>, _>>()
        else {
            return HashMap::new();
        };
        let mut answers: Vec<Option<Result<RawResponse, ClientError>>> = vec![None; urls.len()];
        // A batch of one saves nothing.
        if self.settings.batch && urls.len() >= 2 {
            match self.client.batch_get(&self.auth, &urls).await {
                Ok(served) => {
                    for (slot, answer) in answers.iter_mut().zip(served) {
                        *slot = answer.map(Ok);
                    }
                }
                Err(refused) => {
                    tracing::info!("{refused}; sending the configuration reads one by one");
                }
            }
        }
        let alone = answers
            .iter()
            .zip(&urls)
            .enumerate()
            .filter(|(_, (answer, _))| answer.is_none())
            .map(|(index, (_, url))| async move {
                let answer = self
                    .client
                    .send(Request::get(url.clone(), &self.auth))
                    .await;
                (index, answer)
            });
        for (index, answer) in futures::future::join_all(alone).await {
            answers[index] = Some(answer);
        }
        queries
            .into_iter()
            .zip(answers)
            .filter_map(|(query, answer)| Some((query, answer?)))
            .collect()
    }

    /// Records written so far.
    pub fn written_records(&self) -> Vec<WrittenRecord> {
        self.written.snapshot()
    }

    /// Waits for background work (a round trip whose check timed out, and its cleanup) to finish.
    /// Call before reading [`Gatherer::written_records`] for the report.
    pub async fn settle(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// The fact for `key`, fetched on first use.
    pub async fn get(&self, key: &FactKey) -> Arc<Fact> {
        let cell = {
            let mut cells = match self.cells.lock() {
                Ok(cells) => cells,
                Err(poisoned) => poisoned.into_inner(),
            };
            cells.entry(key.clone()).or_default().clone()
        };
        cell.get_or_init(|| async { Arc::new(self.fetch(key).await) })
            .await
            .clone()
    }

    async fn fetch(&self, key: &FactKey) -> Fact {
        match key {
            FactKey::Reachability => {
                let url = self.client.url("api/now/table/sys_user?sysparm_limit=1")?;
                let response = self.client.send(Request::get(url, &Auth::None)).await?;
                Ok(FactValue::Response(response))
            }
            FactKey::WhoAmI => self.who_am_i().await.map(FactValue::Identity),
            FactKey::Table(query) => {
                if let Some(merged) = self.merged_read_of(query) {
                    // Boxed: a fact that reads another fact makes `get` recursive.
                    let answer = Box::pin(self.get(&FactKey::Table(merged))).await;
                    return match answer.as_ref() {
                        Ok(FactValue::Rows(rows)) => {
                            Ok(FactValue::Rows(super::merge::rows_for(query, rows)))
                        }
                        Ok(_) => Err(FactError::Unavailable(
                            "internal: the merged sys_properties read gave no rows".into(),
                        )),
                        Err(error) => Err(error.clone()),
                    };
                }
                let first_page = match self.wave_answer(query).await {
                    Some(Ok(answer)) => Some(answer),
                    Some(Err(error)) => return Err(error.into()),
                    None => None,
                };
                let rows = self
                    .client
                    .table_list_from(&self.auth, query, first_page)
                    .await?;
                Ok(FactValue::Rows(rows))
            }
            FactKey::Page(page) => {
                let path = match page {
                    Page::Stats => "stats.do",
                    Page::XmlStats => "xmlstats.do",
                };
                let url = self.client.url(path)?;
                let response = self
                    .client
                    .send(
                        Request::get(url, &self.auth)
                            .accept("text/html,application/xml,text/xml,*/*"),
                    )
                    .await?;
                Ok(FactValue::Response(response))
            }
            FactKey::AuthorizeProbe => self.authorize_probe().await,
            FactKey::ServiceTags => self.service_tags().await,
            FactKey::Connect => Ok(FactValue::Connect(Arc::new(self.connect().await))),
            FactKey::RoundTrip => self.round_trip().await,
            FactKey::TableAsIntegration(query) => {
                let auth = self.integration_auth()?;
                let rows = self.client.table_list(&auth, query).await?;
                Ok(FactValue::Rows(rows))
            }
            FactKey::EndpointAsIntegration(path) => {
                let auth = self.integration_auth()?;
                let url = self.client.url(path)?;
                let response = self.client.send(Request::get(url, &auth)).await?;
                Ok(FactValue::Response(response))
            }
        }
    }

    /// Basic auth as the integration user, for the reads that must see what the integration sees.
    fn integration_auth(&self) -> Result<Auth, FactError> {
        let user = self.settings.profile.integration_user.as_deref();
        match (user, &self.credentials.integration_password) {
            (Some(user), Some(password)) => Ok(Auth::basic(user, password.clone(), self.client.secrets())),
            (None, _) => Err(FactError::Unavailable(
                "no integration user was named (--integration-user NAME, or integration_user in the profile)".into(),
            )),
            (Some(user), None) => Err(FactError::Unavailable(format!(
                "reading as the integration user {user} needs its password (SNOWDOCTOR_INTEGRATION_PASSWORD or --integration-password-file)"
            ))),
        }
    }

    /// One request first: the account's active role rows, dot-walked to the account itself, say who it
    /// is and what it holds. When it sees no role row (no role, or an ACL hides them), the documented
    /// way (`sys_user` with `gs.getUserName()`), then the UI endpoint; the roles are then unknown.
    async fn who_am_i(&self) -> Result<Identity, FactError> {
        let with_roles = TableQuery::new("sys_user_has_role")
            .query("user=javascript:gs.getUserID()^state=active")
            .fields(["user.sys_id", "user.user_name", "role.name", "role"]);
        let mut identity = Identity {
            user_name: self.user.clone(),
            ..Identity::default()
        };
        // Role rows without the dot-walked user (a server that ignores dot-walked fields) still name the
        // account's roles: the query asked for its own.
        let mut roles = None;
        match self.client.table_list(&self.auth, &with_roles).await {
            Ok(rows) => {
                // None when no role is visible: non-admins often see no role rows (ACL-filtered),
                // which is unknown, not "none"
                let mut names = crate::connector::user::role_names(&rows.rows);
                names.sort();
                names.dedup();
                roles = Some(names).filter(|n| !n.is_empty());
                let own = rows
                    .rows
                    .iter()
                    .find(|r| r.value("user.sys_id").is_some_and(|id| !id.is_empty()));
                if let Some(row) = own {
                    identity.sys_id = row.value("user.sys_id").unwrap_or("").to_string();
                    if let Some(name) = row.value("user.user_name").filter(|n| !n.is_empty()) {
                        identity.user_name = name.to_string();
                    }
                    identity.roles = roles;
                    return Ok(identity);
                }
            }
            // The identity read is the run's first authenticated request, sent before the probe has
            // said what answers: whatever is not an instance's JSON (a login page, a redirect, a
            // refusal) ends it here, so the credential goes out once and nothing follows it.
            Err(
                e @ (ClientError::Unauthorized { .. }
                | ClientError::IpBlocked
                | ClientError::Redirect { .. }
                | ClientError::CrossHostRedirect { .. }
                | ClientError::RateLimited { .. }),
            ) => {
                return Err(e.into());
            }
            Err(e) if e.is_unreachable() => return Err(e.into()),
            Err(_) => {}
        }
        let query = TableQuery::new("sys_user")
            .query("user_name=javascript:gs.getUserName()")
            .fields(["sys_id", "user_name", "name", "email"])
            .limit(1);
        let mut identity = Identity {
            user_name: self.user.clone(),
            ..Identity::default()
        };
        match self.client.table_list(&self.auth, &query).await {
            Ok(rows) => {
                if let Some(row) = rows.rows.first() {
                    identity.sys_id = row.sys_id().to_string();
                    identity.user_name = row.text("user_name").to_string();
                }
            }
            Err(e @ (ClientError::Unauthorized { .. } | ClientError::IpBlocked)) => {
                return Err(e.into());
            }
            Err(e) if e.is_unreachable() => return Err(e.into()),
            Err(_) => {}
        }
        if identity.sys_id.is_empty() {
            let url = self.client.url("api/now/ui/user/current_user")?;
            let response = self.client.send(Request::get(url, &self.auth)).await?;
            let result =
                crate::servicenow::table::json_result(&response, "GET current_user", "sys_user")?;
            identity.sys_id = result
                .get("user_sys_id")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
        }
        if !identity.sys_id.is_empty() {
            identity.roles = roles;
        }
        Ok(identity)
    }

    /// The `--service-tags` file; without the flag, the embedded snapshot of `--cloud` (Public by default).
    /// Parsed once per process: a fleet's targets share the parse (the Public file is 4 MB of JSON,
    /// tens of milliseconds of CPU and megabytes of memory each).
    async fn service_tags(&self) -> Fact {
        let default = std::path::Path::new(self.settings.cloud.builtin_service_tags());
        let given = self.settings.service_tags.as_deref();
        let source = crate::azure::TagSource::from_arg(Some(given.unwrap_or(default)))
            .map_err(|e| FactError::Input(e.to_string()))?;
        let key = match &source {
            crate::azure::TagSource::Builtin(snapshot) => format!("builtin:{}", snapshot.file_name),
            crate::azure::TagSource::Sample => "builtin:sample".into(),
            crate::azure::TagSource::File(path) => format!("file:{}", path.display()),
        };
        let cell = lock(parsed_service_tags()).entry(key).or_default().clone();
        let file = cell
            .get_or_init(|| async move {
                // decompressing and parsing 4 MB is CPU work: off the async workers, so requests and
                // Ctrl-C handling carry on meanwhile
                tokio::task::spawn_blocking(move || source.load())
                    .await
                    .map_err(|e| format!("loading the service-tag file stopped: {e}"))?
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .await
            .clone()
            .map_err(FactError::Input)?;
        Ok(FactValue::ServiceTags(file))
    }

    async fn authorize_probe(&self) -> Fact {
        let client_id = match &self.settings.client_id {
            Some(id) => id.clone(),
            None => self.entity_client_id().await.unwrap_or_default(),
        };
        let mut url = self.client.url("oauth_auth.do")?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("state", "snowdoctor-probe");
        let response = self
            .client
            .send(Request::get(url, &Auth::None).accept("text/html,*/*"))
            .await?;
        Ok(FactValue::Response(response))
    }

    /// Without `--client-id`, the client id of the entity the `oauth-entity` check selects (same
    /// query, so the read is shared with that check).
    async fn entity_client_id(&self) -> Option<String> {
        let rows = self.rows_of(entities_query()).await?;
        client_id_for(&self.settings.profile, &rows)
    }
}

/// A parsed service-tag file, or why it could not be loaded, per source.
type ParsedTags = OnceCell<Result<Arc<crate::azure::ServiceTagFile>, String>>;

/// The service-tag files parsed in this process (see [`Gatherer::service_tags`]).
fn parsed_service_tags() -> &'static Mutex<HashMap<String, Arc<ParsedTags>>> {
    static PARSED: std::sync::OnceLock<Mutex<HashMap<String, Arc<ParsedTags>>>> =
        std::sync::OnceLock::new();
    PARSED.get_or_init(Mutex::default)
}

/// Locks a mutex, recovering the data from a poisoned one (the data stays usable).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The connect and the round trip: the only facts that act as the integration user.
impl Gatherer {
    /// Rows of a table fact (shared with the checks that read the same query), if it could be read.
    async fn rows_of(&self, query: TableQuery) -> Option<Vec<crate::servicenow::Row>> {
        // Boxed: a fact that reads another fact makes `get` recursive.
        match Box::pin(self.get(&FactKey::Table(query))).await.as_ref() {
            Ok(FactValue::Rows(rows)) => Some(rows.rows.clone()),
            _ => None,
        }
    }

    /// The integration user: named (`--integration-user`, the profile), else the one holding a role of
    /// the app's scope — the same read and the same choice as the `integration-user` check, so what
    /// one check discovers the connect uses. Its record comes along when it could be read.
    async fn integration_user(&self) -> (Option<String>, Option<crate::servicenow::Row>) {
        let profile = &self.settings.profile;
        match named(profile) {
            Some(name) => {
                let row = self
                    .rows_of(user_query(name))
                    .await
                    .and_then(|rows| rows.into_iter().next());
                (Some(name.to_string()), row)
            }
            None if !profile.app_scope.is_empty() => {
                let row = self
                    .rows_of(discovery_query(&profile.app_scope))
                    .await
                    .and_then(|rows| discovered(&rows));
                (row.as_ref().map(|r| r.text("user_name").to_string()), row)
            }
            None => (None, None),
        }
    }

    async fn connect(&self) -> ConnectOutcome {
        let settings = &self.settings;
        let entity = self.rows_of(entities_query()).await.and_then(|rows| {
            connector_entity(settings.client_id.as_deref(), &settings.profile, &rows)
                .ok()
                .cloned()
        });
        let (client_id, client_id_source) = match (&settings.client_id, &entity) {
            (Some(id), _) => (Some(id.clone()), "--client-id".to_string()),
            (None, Some(row)) if !row.text("client_id").is_empty() => (
                Some(row.text("client_id").to_string()),
                format!("oauth_entity {:?}", row.text("name")),
            ),
            _ => (None, String::new()),
        };
        let application_user = match (settings.grant, &entity) {
            (Grant::ClientCredentials, Some(row)) if !row.text("user").is_empty() => self
                .rows_of(application_user_query(row.text("user")))
                .await
                .and_then(|rows| rows.into_iter().next()),
            _ => None,
        };
        let (integration_user, user_row) = self.integration_user().await;
        let withheld = match (settings.grant, &user_row) {
            (Grant::Password, Some(user)) => {
                let threshold = self.rows_of(lockout_query()).await.map_or(
                    crate::connector::grant::DEFAULT_MAX_UNLOCK_ATTEMPTS,
                    |rows| lockout_threshold(&rows),
                );
                lockout_risk(user, threshold)
            }
            _ => None,
        };
        let expected_user = match settings.grant {
            Grant::ClientCredentials => application_user
                .as_ref()
                .map(|row| row.text("user_name").to_string()),
            Grant::Password | Grant::RefreshToken => integration_user.clone(),
        };
        let inputs = ConnectInputs {
            grant: settings.grant,
            client_id,
            client_id_source,
            integration_user,
            integration_password: self.credentials.integration_password.clone(),
            client_secret: self.credentials.client_secret.clone(),
            refresh_token: self.credentials.refresh_token.clone(),
            expected_user,
            withheld,
        };
        let mut outcome = oauth::connect(&self.client, &inputs).await;
        outcome.application_user = application_user;
        outcome
    }

    async fn round_trip(&self) -> Fact {
        let table = self.settings.profile.ticket_table.clone();
        if self.settings.read_only {
            return Err(FactError::Unavailable(
                "read-only run (--read-only): no write was made".into(),
            ));
        }
        let connect = Box::pin(self.get(&FactKey::Connect)).await;
        let bearer = match connect.as_ref() {
            Ok(FactValue::Connect(outcome)) => outcome.bearer(),
            _ => None,
        };
        let Some(bearer) = bearer else {
            return Ok(FactValue::RoundTrip(Arc::new(RoundTripOutcome {
                table,
                not_started: Some(
                    "no working token for the integration user (see oauth-connect)".into(),
                ),
                ..RoundTripOutcome::default()
            })));
        };
        let write = &self.settings.profile.write;
        let import = match (write.kind, &write.staging_table) {
            (WriteKind::ImportSet, Some(staging)) => Some(roundtrip::ImportPath {
                staging_table: staging.clone(),
                transform_map: write.transform_map.clone().unwrap_or_default(),
            }),
            (WriteKind::ImportSet, None) => {
                return Ok(FactValue::RoundTrip(Arc::new(RoundTripOutcome {
                    table,
                    not_started: Some(format!(
                        "the {} profile writes through an import set but names no write.staging_table",
                        self.settings.profile.name
                    )),
                    ..RoundTripOutcome::default()
                })));
            }
            _ => None,
        };
        let inputs = RoundTripInputs {
            import,
            client: self.client.clone(),
            mapping: FieldMapping::for_profile(&table, &self.settings.profile.field_mapping),
            table,
            bearer,
            fallback: self.auth.clone(),
            close_if_delete_denied: self.settings.close_if_delete_denied,
            cancel: self.cancel.clone(),
            writes: self.written.clone(),
            now: chrono::Utc::now(),
        };
        let outcome = roundtrip::spawn(&self.tasks, inputs).await;
        Ok(FactValue::RoundTrip(Arc::new(outcome)))
    }
}
