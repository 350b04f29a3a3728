//! Scripted REST APIs that store apps add to an instance. Azure Pipelines' app (`x_mioms_azpipeline`)
//! answers `GET /api/x_mioms_azpipeline/app_version?app_major_version=4`, which Azure DevOps' "Verify
//! connection" calls (microsoft/azure-pipelines-extensions, Extensions/ServiceNow). The response shape
//! (`{"result": {"version": …}}`) is the emulator's assumption: the extension's source shows the call, not
//! the body. Without the app (or with it inactive) the platform answers 400 "Requested URI does not
//! represent any resource"; a caller without the app's role or admin gets 403.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use super::auth;
use super::reply;
use super::state::{App, lock};
use super::store::text;

/// The Azure Pipelines app's scope and the role its API requires.
const PIPELINES_SCOPE: &str = "x_mioms_azpipeline";
const PIPELINES_ROLE: &str = "x_mioms_azpipeline.pipelinesExecution";

/// Routes of this module.
pub fn routes() -> Router<App> {
    Router::new().route("/api/x_mioms_azpipeline/app_version", get(app_version))
}

async fn app_version(State(app): State<App>, headers: HeaderMap) -> Response {
    let caller = match auth::authenticate(&app, &headers) {
        Ok(caller) => caller,
        Err(res) => return res,
    };
    let store = lock(&app.db);
    let version = store.tables.get("sys_store_app").and_then(|t| {
        t.rows
            .iter()
            .find(|r| text(r, "scope") == PIPELINES_SCOPE && text(r, "active") == "true")
            .map(|r| text(r, "version").to_string())
    });
    let Some(version) = version else {
        return reply::error(
            StatusCode::BAD_REQUEST,
            "Requested URI does not represent any resource",
            None,
        );
    };
    if !caller.is_admin() && !caller.roles.iter().any(|r| r == PIPELINES_ROLE) {
        return auth::forbidden_read();
    }
    reply::json_with(
        StatusCode::OK,
        &json!({"result": {"version": version, "scope": PIPELINES_SCOPE}}),
    )
}
