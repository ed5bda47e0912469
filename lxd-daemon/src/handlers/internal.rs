//! `/internal/*`: endpoints used by the daemon's own sub-commands (`waitready`, `shutdown`).

use axum::extract::State;

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
