//! `/1.0/images/aliases`: names pointing at images.

use axum::extract::{Path, State};
use lxd_api::image::{ImageAliasesEntryPost, ImageAliasesEntryPut, ImageAliasesPost};

use super::image_project;
use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

fn url(name: &str, project: &str) -> String {
    if project == "default" {
        format!("/1.0/images/aliases/{name}")
    } else {
        format!("/1.0/images/aliases/{name}?project={project}")
    }
}

fn not_found(e: lxd_db::DbError) -> ApiError {
    match e {
        lxd_db::DbError::NotFound("Image") => ApiError::not_found("Image not found"),
        lxd_db::DbError::NotFound(_) => ApiError::not_found("Image alias not found"),
        other => other.into(),
    }
}

/// Resolve a target (fingerprint or unique prefix) to the full fingerprint.
fn full_fingerprint(state: &AppState, project: &str, target: &str) -> Result<String, ApiError> {
    if target.is_empty() {
        return Err(ApiError::bad_request("Alias target is required"));
    }
    Ok(state
        .db
        .read(|c| lxd_db::images::get(c, project, target))
        .map_err(not_found)?
        .fingerprint)
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("Alias name missing"));
    }
    if name.contains('/') {
        return Err(ApiError::bad_request("Alias names may not contain slashes"));
    }
    Ok(())
}

/// `GET /1.0/images/aliases`
pub async fn get_aliases(State(state): State<AppState>, params: Params) -> ApiResult {
    let project = image_project(&state, &params)?;
    let list = state.db.read(|c| lxd_db::images::aliases(c, &project))?;
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            list.iter()
                .map(|a| url(&a.name, &project))
                .collect::<Vec<_>>(),
        ));
    }
    Ok(ApiResponse::sync(list))
}

/// `POST /1.0/images/aliases`
pub async fn post_aliases(
    State(state): State<AppState>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<ImageAliasesPost>,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    check_name(&req.name)?;
    let target = full_fingerprint(&state, &project, &req.target)?;
    let (p, n, d) = (project.clone(), req.name.clone(), req.description.clone());
    state
        .db
        .write(move |c| lxd_db::images::create_alias(c, &p, &n, &target, &d))
        .await
        .map_err(|e| match e {
            lxd_db::DbError::AlreadyExists(_) => {
                ApiError::Conflict(format!("Alias {:?} already exists", req.name))
            }
            other => not_found(other),
        })?;
    let location = url(&req.name, &project);
    state.events.lifecycle(
        &project,
        "image-alias-created",
        location.clone(),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created { location })
}

/// `GET /1.0/images/aliases/{name}`
pub async fn get_alias(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let alias = state
        .db
        .read(|c| lxd_db::images::alias(c, &project, &name))
        .map_err(not_found)?;
    if !caller.can_view(params.project()) {
        // Untrusted callers only see aliases of public images.
        let target = state
            .db
            .read(|c| lxd_db::images::get(c, &project, &alias.target))
            .map_err(not_found)?;
        if !target.public {
            return Err(not_found(lxd_db::DbError::NotFound("Image alias")));
        }
    }
    let etag = (
        alias.name.clone(),
        alias.description.clone(),
        alias.target.clone(),
    );
    Ok(ApiResponse::sync_etag(alias, etag))
}

/// `PUT /1.0/images/aliases/{name}`
pub async fn put_alias(
    state: State<AppState>,
    name: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<ImageAliasesEntryPut>,
) -> ApiResult {
    update(state, name, params, if_match, caller, req, false).await
}

/// `PATCH /1.0/images/aliases/{name}`
pub async fn patch_alias(
    state: State<AppState>,
    name: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<ImageAliasesEntryPut>,
) -> ApiResult {
    update(state, name, params, if_match, caller, req, true).await
}

async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    req: ImageAliasesEntryPut,
    patch: bool,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let old = state
        .db
        .read(|c| lxd_db::images::alias(c, &project, &name))
        .map_err(not_found)?;
    if_match.check(&(
        old.name.clone(),
        old.description.clone(),
        old.target.clone(),
    ))?;
    let target = match (patch, req.target.is_empty()) {
        (true, true) => old.target.clone(),
        _ => full_fingerprint(&state, &project, &req.target)?,
    };
    let description = if patch && req.description.is_empty() {
        old.description
    } else {
        req.description
    };
    let (p, n) = (project.clone(), name.clone());
    state
        .db
        .write(move |c| lxd_db::images::update_alias(c, &p, &n, &target, &description))
        .await
        .map_err(not_found)?;
    state.events.lifecycle(
        &project,
        "image-alias-updated",
        url(&name, &project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

/// `POST /1.0/images/aliases/{name}`: rename.
pub async fn post_alias(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<ImageAliasesEntryPost>,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    check_name(&req.name)?;
    let (p, old, new) = (project.clone(), name.clone(), req.name.clone());
    state
        .db
        .write(move |c| lxd_db::images::rename_alias(c, &p, &old, &new))
        .await
        .map_err(|e| match e {
            lxd_db::DbError::AlreadyExists(_) => {
                ApiError::Conflict(format!("Alias {:?} already exists", req.name))
            }
            other => not_found(other),
        })?;
    let location = url(&req.name, &project);
    state.events.lifecycle(
        &project,
        "image-alias-renamed",
        location.clone(),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created { location })
}

/// `DELETE /1.0/images/aliases/{name}`
pub async fn delete_alias(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = image_project(&state, &params)?;
    let (p, n) = (project.clone(), name.clone());
    state
        .db
        .write(move |c| lxd_db::images::delete_alias(c, &p, &n))
        .await
        .map_err(not_found)?;
    state.events.lifecycle(
        &project,
        "image-alias-deleted",
        url(&name, &project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}
