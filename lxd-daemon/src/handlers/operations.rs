//! `/1.0/operations`: list by status, show, wait, cancel, and connect websockets by secret.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::response::IntoResponse;

use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::Op;
use crate::state::AppState;

fn find(state: &AppState, id: &str) -> Result<std::sync::Arc<Op>, ApiError> {
    state
        .operations
        .get(id)
        .ok_or_else(|| ApiError::not_found("Operation not found"))
}

/// `GET /1.0/operations`: a map from lower-cased status to URLs (or objects with recursion).
pub async fn get_operations(State(state): State<AppState>, params: Params) -> ApiResult {
    let all = params.get("all-projects") == Some("true");
    if !all {
        super::require_project(&state, params.project())?;
    }
    let project = (!all).then(|| params.project().to_string());
    let mut by_status: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for op in state.operations.list(project.as_deref()) {
        let key = op.status().text().to_lowercase();
        let entry = if params.recursion() > 0 {
            serde_json::to_value(op.to_api()).unwrap_or_default()
        } else {
            serde_json::Value::String(op.url())
        };
        by_status.entry(key).or_default().push(entry);
    }
    Ok(ApiResponse::sync(by_status))
}

/// `GET /1.0/operations/{id}`
pub async fn get_operation(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    Ok(ApiResponse::sync(find(&state, &id)?.to_api()))
}

/// `DELETE /1.0/operations/{id}`: cancel.
pub async fn delete_operation(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let op = find(&state, &id)?;
    op.cancel().map_err(ApiError::bad_request)?;
    Ok(ApiResponse::empty())
}

/// `GET /1.0/operations/{id}/wait?timeout=N` (−1 or absent waits until the end).
pub async fn get_operation_wait(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    // Untrusted callers wait on an operation by the secret in its metadata.
    let secret = params.get("secret").unwrap_or("");
    if !caller.is_trusted() && secret.is_empty() {
        return Err(ApiError::Forbidden("not authorized".into()));
    }
    let op = find(&state, &id)?;
    if !secret.is_empty() {
        let meta = op.to_api().metadata.unwrap_or_default();
        if meta.get("secret").and_then(|s| s.as_str()) != Some(secret) {
            return Err(ApiError::Forbidden("not authorized".into()));
        }
    }
    let timeout = params
        .get("timeout")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| *t >= 0.0)
        .map(Duration::from_secs_f64);
    op.wait(timeout).await;
    Ok(ApiResponse::sync(op.to_api()))
}

/// `GET /1.0/operations/{id}/websocket?secret=S`: hand the socket to the operation.
pub async fn get_operation_websocket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult {
    let op = find(&state, &id)?;
    let secret = params.get("secret").unwrap_or("");
    let fd = op
        .fd_for_secret(secret)
        .ok_or_else(|| ApiError::Forbidden("not authorized".into()))?;
    let upgrade = upgrade.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let upgrade = upgrade.read_buffer_size(lxd_shared::WEBSOCKET_READ_BUFFER_SIZE);
    let response = upgrade.on_upgrade(move |socket| async move {
        if let Err(e) = op.connect(fd, socket) {
            tracing::warn!(operation = %op.id, error = e, "Websocket refused");
        }
    });
    Ok(ApiResponse::Raw(response.into_response()))
}
