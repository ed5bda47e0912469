//! `/internal/*`: endpoints used by the daemon's own sub-commands (`waitready`, `shutdown`)
//! and container monitors (`onstop`).

use axum::extract::{Path, Query, State};

use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// `GET /internal/ready`: 200 once start-up has finished.
pub async fn get_ready(State(state): State<AppState>) -> ApiResult {
    if *state.ready.borrow() {
        Ok(ApiResponse::empty())
    } else {
        Err(ApiError::Unavailable("LXD daemon not ready yet".into()))
    }
}

/// `PUT /internal/shutdown`: start a clean shutdown; answers once it has been requested.
pub async fn put_shutdown(State(state): State<AppState>) -> ApiResult {
    state.shutdown.send_replace(true);
    Ok(ApiResponse::empty())
}

/// Query of `POST /internal/containers/{name}/onstop`.
#[derive(Debug, serde::Deserialize)]
pub struct OnStopQuery {
    /// `reboot` or `stop`.
    pub target: String,
    /// The reporting monitor's pid.
    #[serde(default)]
    pub monitor: i32,
}

/// `POST /internal/containers/{name}/onstop`: a monitor reports that init ended without the
/// daemon asking (`name` is the runtime name, `<project>_<name>` outside `default`).
pub async fn post_container_onstop(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<OnStopQuery>,
) -> ApiResult {
    if query.target != "reboot" && query.target != "stop" {
        return Err(ApiError::bad_request(format!(
            "Invalid target {:?}",
            query.target
        )));
    }
    crate::handlers::instances::own_stop::report(&state, &name, &query.target, query.monitor);
    Ok(ApiResponse::empty())
}
