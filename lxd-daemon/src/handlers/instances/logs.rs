//! `/1.0/instances/{name}/logs` and `/console` (the log): the files the monitor and exec
//! helpers keep in the instance's log directory.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;

use super::store::{load, project_of};
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// Files a client may read: the runtime's logs and recorded exec output.
fn listable(name: &str) -> bool {
    name.ends_with(".log")
        || name == "lxc.conf"
        || (name.starts_with("exec_") && (name.ends_with(".stdout") || name.ends_with(".stderr")))
}

fn raw_file(path: &std::path::Path) -> Result<ApiResponse, ApiError> {
    let bytes = std::fs::read(path).map_err(|_| ApiError::not_found("not found"))?;
    let mut resp = Response::new(Body::from(bytes));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(ApiResponse::Raw(resp))
}

/// `GET /1.0/instances/{name}/logs`
pub async fn get_instance_logs(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let dir = crate::runtime::state_dir(&state.paths, &inst.runtime_name());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| listable(n))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    Ok(ApiResponse::sync(
        files
            .iter()
            .map(|f| format!("/1.0/instances/{name}/logs/{f}"))
            .collect::<Vec<_>>(),
    ))
}

/// `GET /1.0/instances/{name}/logs/{file}`
pub async fn get_instance_log(
    State(state): State<AppState>,
    Path((name, file)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    if !listable(&file) || file.contains('/') {
        return Err(ApiError::bad_request(format!(
            "Invalid log file name {file:?}"
        )));
    }
    raw_file(&crate::runtime::state_dir(&state.paths, &inst.runtime_name()).join(file))
}

/// `DELETE /1.0/instances/{name}/logs/{file}`: only recorded exec output may go.
pub async fn delete_instance_log(
    State(state): State<AppState>,
    Path((name, file)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    if !(file.starts_with("exec_") && listable(&file)) || file.contains('/') {
        return Err(ApiError::bad_request(
            "Only log files excluding qemu.log, lxc.log and lxc.conf may be deleted",
        ));
    }
    let path = crate::runtime::state_dir(&state.paths, &inst.runtime_name()).join(file);
    std::fs::remove_file(path).map_err(|_| ApiError::not_found("not found"))?;
    Ok(ApiResponse::empty())
}

/// `GET /1.0/instances/{name}/console`: the console log.
pub async fn get_instance_console(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let path = crate::runtime::state_dir(&state.paths, &inst.runtime_name()).join("console.log");
    if !path.exists() {
        return Ok(ApiResponse::Raw(Response::new(Body::empty())));
    }
    raw_file(&path)
}
