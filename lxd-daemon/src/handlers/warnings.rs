//! `/1.0/warnings`: warnings the daemon recorded (missing kernel features and the like).

use axum::extract::{Path, State};
use lxd_api::WarningPut;
use lxd_db::warnings;

use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

const STATUSES: &[&str] = &["new", "acknowledged"];

/// `GET /1.0/warnings`
pub async fn get_warnings(State(state): State<AppState>, params: Params) -> ApiResult {
    let mut list = state.db.read(warnings::list)?;
    if let Some(project) = params.get("project").filter(|p| !p.is_empty()) {
        super::require_project(&state, project)?;
        list.retain(|w| w.project.is_empty() || w.project == project);
    }
    if params.recursion() == 0 {
        let urls: Vec<String> = list
            .iter()
            .map(|w| format!("/1.0/warnings/{}", w.uuid))
            .collect();
        return Ok(ApiResponse::sync(urls));
    }
    Ok(ApiResponse::sync(list))
}

/// `GET /1.0/warnings/{uuid}`
pub async fn get_warning(State(state): State<AppState>, Path(uuid): Path<String>) -> ApiResult {
    let w = state.db.read(|c| warnings::get(c, &uuid))?;
    let etag = w.status.clone();
    Ok(ApiResponse::sync_etag(w, etag))
}

/// `PUT|PATCH /1.0/warnings/{uuid}`: acknowledge or reset.
pub async fn put_warning(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    if_match: IfMatch,
    LxdJson(req): LxdJson<WarningPut>,
) -> ApiResult {
    let current = state.db.read(|c| warnings::get(c, &uuid))?;
    if_match.check(&current.status)?;
    if !STATUSES.contains(&req.status.as_str()) {
        return Err(ApiError::bad_request(format!(
            "Invalid warning type {:?}",
            req.status
        )));
    }
    state
        .db
        .write(move |c| warnings::set_status(c, &uuid, &req.status))
        .await?;
    Ok(ApiResponse::empty())
}

/// `DELETE /1.0/warnings/{uuid}`
pub async fn delete_warning(State(state): State<AppState>, Path(uuid): Path<String>) -> ApiResult {
    state.db.write(move |c| warnings::delete(c, &uuid)).await?;
    Ok(ApiResponse::empty())
}
