//! `/1.0/resources`: the host's hardware as LXD describes it (gathered by `lxd-sys`).

use axum::extract::State;

use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// `GET /1.0/resources`
pub async fn get_resources(State(_state): State<AppState>) -> ApiResult {
    let paths = lxd_sys::paths::HostPaths::real();
    let resources = tokio::task::spawn_blocking(move || lxd_sys::resources::collect(&paths))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(ApiResponse::sync(resources))
}
