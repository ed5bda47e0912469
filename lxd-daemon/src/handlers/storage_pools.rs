//! `/1.0/storage-pools`: create, list, show, edit and delete pools (drivers from `lxd-storage`).

use axum::extract::{Path, State};
use lxd_api::{StoragePool, StoragePoolPut, StoragePoolsPost};
use lxd_db::pools::{self, PoolRow};
use lxd_db::DbError;
use lxd_shared::names::validate_pool_name;

use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

fn url(name: &str) -> String {
    format!("/1.0/storage-pools/{name}")
}

/// What uses a pool: instances with their root disk on it, profiles with a disk device on it,
/// then its custom volumes and their snapshots (in LXD's order).
fn used_by(conn: &rusqlite::Connection, pool: &str) -> Result<Vec<String>, DbError> {
    let mut out = Vec::new();
    for project in lxd_db::projects::names(conn)? {
        for name in lxd_db::profiles::names(conn, &project)? {
            let profile = lxd_db::profiles::get(conn, &project, &name)?;
            let uses = profile.devices.values().any(|d| {
                d.get("type").map(String::as_str) == Some("disk")
                    && d.get("pool").map(String::as_str) == Some(pool)
            });
            if uses {
                let suffix = if project == "default" {
                    String::new()
                } else {
                    format!("?project={project}")
                };
                out.push(format!("/1.0/profiles/{name}{suffix}"));
            }
        }
    }
    // Instances whose root disk lives on the pool (LXD lists them first).
    let mut instances = Vec::new();
    for (project, name) in lxd_db::instances::all_names(conn)? {
        let row = lxd_db::instances::get(conn, &project, &name)?;
        let profile_project = lxd_db::profiles::effective_project(conn, &project)?;
        let profiles = row
            .profiles
            .iter()
            .map(|p| lxd_db::profiles::get(conn, &profile_project, p))
            .collect::<Result<Vec<_>, _>>()?;
        let (_, devices) = lxd_db::instances::expand(&profiles, &row.config, &row.devices);
        if crate::handlers::instances::store::root_pool(&devices).as_deref() == Some(pool) {
            instances.push(crate::handlers::instances::instance_url(
                &name, &project, false,
            ));
        }
    }
    instances.extend(out);
    instances.extend(crate::handlers::storage_volumes::used_by::pool_volume_urls(
        conn, pool,
    )?);
    Ok(instances)
}

/// Run a driver call (it may run tools for seconds) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, lxd_storage::StorageError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

fn load(state: &AppState, name: &str) -> Result<StoragePool, ApiError> {
    let (row, used) = state
        .db
        .read(|c| Ok((pools::get(c, name)?, used_by(c, name)?)))?;
    Ok(StoragePool {
        config: row.config,
        description: row.description,
        name: row.name,
        driver: row.driver,
        used_by: used,
        status: row.status,
        locations: vec!["none".to_string()],
    })
}

use crate::storage_backend::driver_of;

/// `GET /1.0/storage-pools`
pub async fn get_storage_pools(State(state): State<AppState>, params: Params) -> ApiResult {
    let names = state.db.read(pools::names)?;
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            names.iter().map(|n| url(n)).collect::<Vec<_>>(),
        ));
    }
    let list = names
        .iter()
        .map(|n| load(&state, n))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiResponse::sync(list))
}

/// `POST /1.0/storage-pools`
pub async fn post_storage_pools(
    State(state): State<AppState>,
    caller: Caller,
    LxdJson(req): LxdJson<StoragePoolsPost>,
) -> ApiResult {
    validate_pool_name(&req.name).map_err(ApiError::bad_request)?;
    let driver = driver_of(&req.driver)?;
    if state.db.read(|c| pools::get(c, &req.name)).is_ok() {
        return Err(ApiError::Conflict(
            "The storage pool already exists: The record already exists".into(),
        ));
    }
    let mount = state.paths.storage_pool(&req.name);
    let (driver, config) = blocking(move || {
        let mut config = req.config;
        driver.fill_pool_config(&mut config, &mount)?;
        driver.create_pool(&config, &mount)?;
        Ok((driver, config))
    })
    .await?;
    let mount = state.paths.storage_pool(&req.name);
    let row = PoolRow {
        name: req.name.clone(),
        driver: req.driver,
        description: req.description,
        status: "Created".into(),
        config: config.clone(),
    };
    if let Err(e) = state.db.write(move |c| pools::create(c, &row)).await {
        // Leave nothing behind when the record could not be written.
        let _ = driver.delete_pool(&config, &mount);
        return Err(e.into());
    }
    state.events.lifecycle(
        "default",
        "storage-pool-created",
        url(&req.name),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created {
        location: url(&req.name),
    })
}

/// `GET /1.0/storage-pools/{name}`
pub async fn get_storage_pool(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult {
    let pool = load(&state, &name)?;
    let etag = pool.writable();
    Ok(ApiResponse::sync_etag(
        &pool,
        (&etag.config, &etag.description),
    ))
}

/// `PUT /1.0/storage-pools/{name}`
pub async fn put_storage_pool(
    state: State<AppState>,
    name: Path<String>,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<StoragePoolPut>,
) -> ApiResult {
    update(state, name, if_match, caller, move |_| req).await
}

/// `PATCH /1.0/storage-pools/{name}`
pub async fn patch_storage_pool(
    state: State<AppState>,
    name: Path<String>,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<serde_json::Value>,
) -> ApiResult {
    let patch: StoragePoolPut = crate::api::extract::parse_json(req.to_string().as_bytes())?;
    let has_description = req.get("description").is_some();
    update(state, name, if_match, caller, move |old| {
        let mut next = old.clone();
        next.config.extend(patch.config);
        if has_description {
            next.description = patch.description;
        }
        next
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    if_match: IfMatch,
    caller: Caller,
    compute: impl FnOnce(&StoragePoolPut) -> StoragePoolPut + Send + 'static,
) -> ApiResult {
    let pool = load(&state, &name)?;
    let driver = driver_of(&pool.driver)?;
    let pool_driver = pool.driver.clone();
    let n = name.clone();
    let outcome = state
        .db
        .write(move |c| {
            let old = pools::get(c, &n)?;
            let old_put = StoragePoolPut {
                config: old.config.clone(),
                description: old.description.clone(),
            };
            if let Err(e) = if_match.check(&(&old_put.config, &old_put.description)) {
                return Ok(Err(e));
            }
            let mut next = compute(&old_put);
            next.config.retain(|_, v| !v.is_empty());
            if let Err(e) = driver.validate_pool_update(&old.config, &next.config) {
                return Ok(Err(ApiError::internal(e)));
            }
            let old_config = old.config.clone();
            let new_config = next.config.clone();
            let row = PoolRow {
                config: next.config,
                description: next.description,
                ..old
            };
            pools::update(c, &row)?;
            Ok(Ok((old_config, new_config)))
        })
        .await?;
    let (old_config, new_config) = outcome?;
    let changed: lxd_storage::PoolConfig = new_config
        .iter()
        .filter(|(k, v)| old_config.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        let pool = lxd_storage::Pool::new(&name, &state.paths.storage_pool(&name), new_config);
        let driver = driver_of(&pool_driver)?;
        blocking(move || driver.update_pool(&pool, &changed)).await?;
    }
    state.events.lifecycle(
        "default",
        "storage-pool-updated",
        url(&name),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

/// `DELETE /1.0/storage-pools/{name}`
pub async fn delete_storage_pool(
    State(state): State<AppState>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult {
    let pool = load(&state, &name)?;
    if !pool.used_by.is_empty() {
        return Err(ApiError::bad_request(
            "The storage pool is currently in use",
        ));
    }
    let driver = driver_of(&pool.driver)?;
    let mount = state.paths.storage_pool(&name);
    let config = pool.config.clone();
    blocking(move || driver.delete_pool(&config, &mount)).await?;
    let n = name.clone();
    state.db.write(move |c| pools::delete(c, &n)).await?;
    state.events.lifecycle(
        "default",
        "storage-pool-deleted",
        url(&name),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

/// `GET /1.0/storage-pools/{name}/resources`: space and inodes of the pool's filesystem.
pub async fn get_storage_pool_resources(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult {
    let pool = load(&state, &name)?;
    let source = match pool.config.get("source").filter(|s| !s.is_empty()) {
        Some(s) => std::path::PathBuf::from(s),
        None => state.paths.storage_pool(&name),
    };
    let res = lxd_sys::pool_resources(&source).map_err(ApiError::internal)?;
    Ok(ApiResponse::sync(res))
}
