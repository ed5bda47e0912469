//! `/1.0/projects`: the `default` project and user projects (config and profiles so far).

use axum::extract::{Path, State};
use lxd_api::project::{Project, ProjectPost, ProjectPut, ProjectsPost};
use lxd_db::projects::{self, ProjectRow};
use lxd_shared::names::validate_project_name;

use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// Project config keys accepted besides `user.*`.
const KEYS: &[&str] = &[
    "features.images",
    "features.networks",
    "features.profiles",
    "features.storage.volumes",
    "images.auto_update_cached",
    "images.auto_update_interval",
    "images.compression_algorithm",
    "images.default_architecture",
    "images.remote_cache_expiry",
    "limits.containers",
    "limits.cpu",
    "limits.disk",
    "limits.instances",
    "limits.memory",
    "limits.networks",
    "limits.processes",
    "limits.virtual-machines",
    "restricted",
];

fn url(name: &str) -> String {
    format!("/1.0/projects/{name}")
}

fn validate_config(config: &lxd_api::ConfigMap) -> Result<(), ApiError> {
    for key in config.keys() {
        if !key.starts_with("user.")
            && !key.starts_with("restricted.")
            && !KEYS.contains(&key.as_str())
        {
            return Err(ApiError::bad_request(format!(
                "Invalid project configuration key {key:?}"
            )));
        }
    }
    Ok(())
}

fn used_by(conn: &rusqlite::Connection, name: &str) -> Result<Vec<String>, lxd_db::DbError> {
    let suffix = if name == "default" {
        String::new()
    } else {
        format!("?project={name}")
    };
    Ok(lxd_db::profiles::names(conn, name)?
        .into_iter()
        .map(|p| format!("/1.0/profiles/{p}{suffix}"))
        .collect())
}

fn load(state: &AppState, name: &str) -> Result<Project, ApiError> {
    let (row, used) = state
        .db
        .read(|c| Ok((projects::get(c, name)?, used_by(c, name)?)))?;
    Ok(Project {
        config: row.config,
        description: row.description,
        name: row.name,
        used_by: used,
    })
}

/// `GET /1.0/projects`
pub async fn get_projects(State(state): State<AppState>, params: Params) -> ApiResult {
    let names = state.db.read(projects::names)?;
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            names.iter().map(|n| url(n)).collect::<Vec<_>>(),
        ));
    }
    Ok(ApiResponse::sync(
        names
            .iter()
            .map(|n| load(&state, n))
            .collect::<Result<Vec<_>, _>>()?,
    ))
}

/// `POST /1.0/projects`
pub async fn post_projects(
    State(state): State<AppState>,
    caller: Caller,
    LxdJson(req): LxdJson<ProjectsPost>,
) -> ApiResult {
    validate_project_name(&req.name).map_err(ApiError::bad_request)?;
    validate_config(&req.config)?;
    let mut config = req.config;
    for feature in [
        "features.images",
        "features.profiles",
        "features.storage.volumes",
    ] {
        config
            .entry(feature.to_string())
            .or_insert_with(|| "true".to_string());
    }
    let row = ProjectRow {
        name: req.name.clone(),
        description: req.description,
        config,
    };
    state
        .db
        .write(move |c| projects::create(c, &row))
        .await
        .map_err(|e| match e {
            lxd_db::DbError::AlreadyExists(_) => {
                ApiError::Conflict(format!("Project {:?} already exists", req.name))
            }
            other => other.into(),
        })?;
    state.events.lifecycle(
        &req.name,
        "project-created",
        url(&req.name),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created {
        location: url(&req.name),
    })
}

/// `GET /1.0/projects/{name}`
pub async fn get_project(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult {
    let project = load(&state, &name)?;
    let etag = (project.config.clone(), project.description.clone());
    Ok(ApiResponse::sync_etag(project, etag))
}

/// `PUT /1.0/projects/{name}`
pub async fn put_project(
    state: State<AppState>,
    name: Path<String>,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<ProjectPut>,
) -> ApiResult {
    update(state, name, if_match, caller, req, false).await
}

/// `PATCH /1.0/projects/{name}`
pub async fn patch_project(
    state: State<AppState>,
    name: Path<String>,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<ProjectPut>,
) -> ApiResult {
    update(state, name, if_match, caller, req, true).await
}

async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    if_match: IfMatch,
    caller: Caller,
    req: ProjectPut,
    patch: bool,
) -> ApiResult {
    let old = load(&state, &name)?;
    if_match.check(&(old.config.clone(), old.description.clone()))?;
    let mut config = if patch {
        old.config.clone()
    } else {
        Default::default()
    };
    config.extend(req.config);
    config.retain(|_, v| !v.is_empty());
    validate_config(&config)?;
    let description = if patch && req.description.is_empty() {
        old.description
    } else {
        req.description
    };
    let row = ProjectRow {
        name: name.clone(),
        description,
        config,
    };
    state.db.write(move |c| projects::update(c, &row)).await?;
    state
        .events
        .lifecycle(&name, "project-updated", url(&name), &caller.requestor());
    Ok(ApiResponse::empty())
}

/// `POST /1.0/projects/{name}`: rename.
pub async fn post_project(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
    LxdJson(req): LxdJson<ProjectPost>,
) -> ApiResult {
    if name == "default" {
        return Err(ApiError::Forbidden(
            "The 'default' project cannot be renamed".into(),
        ));
    }
    validate_project_name(&req.name).map_err(ApiError::bad_request)?;
    let (old, new) = (name.clone(), req.name.clone());
    state
        .db
        .write(move |c| projects::rename(c, &old, &new))
        .await?;
    state.events.lifecycle(
        &req.name,
        "project-renamed",
        url(&req.name),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created {
        location: url(&req.name),
    })
}

/// `DELETE /1.0/projects/{name}`
pub async fn delete_project(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult {
    if name == "default" {
        return Err(ApiError::Forbidden(
            "The 'default' project cannot be deleted".into(),
        ));
    }
    let project = load(&state, &name)?;
    let only_default_profile = project
        .used_by
        .iter()
        .all(|u| u.starts_with("/1.0/profiles/default"));
    if !only_default_profile {
        return Err(ApiError::bad_request("Only empty projects can be removed"));
    }
    let n = name.clone();
    state.db.write(move |c| projects::delete(c, &n)).await?;
    state
        .events
        .lifecycle(&name, "project-deleted", url(&name), &caller.requestor());
    Ok(ApiResponse::empty())
}
