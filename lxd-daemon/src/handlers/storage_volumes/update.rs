//! `PUT`/`PATCH /1.0/storage-pools/{pool}/volumes/custom/{vol}`: replace or merge a custom
//! volume's config and description (ETag checked, config validated, `size` applied as a quota),
//! or, with `{"restore": "snap"}`, put a snapshot's content back into the volume.

use axum::extract::{Path, State};
use lxd_api::StorageVolumePut;
use lxd_storage::VolumeType;

use super::{blocking, load_custom, parse_type, require_custom, target, volume_url};
use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// `PUT /1.0/storage-pools/{name}/volumes/{type}/{vol}`
pub async fn put_volume(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<StorageVolumePut>,
) -> ApiResult {
    if !req.restore.is_empty() {
        return restore(
            &state,
            &pool,
            &vol_type,
            &name,
            &params,
            &caller,
            &req.restore,
        )
        .await;
    }
    update(
        &state,
        (&pool, &vol_type, &name),
        &params,
        if_match,
        &caller,
        move |old| {
            let mut next = old.clone();
            next.config = req.config;
            next.description = req.description;
            next
        },
    )
    .await
}

/// `PATCH /1.0/storage-pools/{name}/volumes/{type}/{vol}`
pub async fn patch_volume(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<serde_json::Value>,
) -> ApiResult {
    let patch: StorageVolumePut = crate::api::extract::parse_json(req.to_string().as_bytes())?;
    let has_description = req.get("description").is_some();
    update(
        &state,
        (&pool, &vol_type, &name),
        &params,
        if_match,
        &caller,
        move |old| {
            let mut next = old.clone();
            next.config.extend(patch.config);
            if has_description {
                next.description = patch.description;
            }
            next
        },
    )
    .await
}

async fn update(
    state: &AppState,
    (pool, vol_type, name): (&str, &str, &str),
    params: &Params,
    if_match: IfMatch,
    caller: &Caller,
    compute: impl FnOnce(&lxd_db::volumes::VolumeRow) -> lxd_db::volumes::VolumeRow,
) -> ApiResult {
    let ty = parse_type(vol_type)?;
    require_custom(ty, "modified")?;
    let t = target(state, pool, params)?;
    let old = load_custom(state, &t, name)?;
    if_match.check(&(&old.name, &old.vol_type, &old.config))?;
    let mut next = compute(&old);
    next.config.retain(|_, v| !v.is_empty());
    super::config::validate(&t.storage_name(name), &next.config)?;
    let (old_size, new_size) = (
        super::config::size_of(&old.config),
        super::config::size_of(&next.config),
    );
    if old_size != new_size && old.content_type == "filesystem" {
        let (pool_obj, storage) = (t.pool.clone(), t.storage_name(name));
        let driver = t.driver;
        blocking(move || driver.set_quota(&pool_obj, VolumeType::Custom, &storage, new_size))
            .await
            .map_err(ApiError::internal)?;
    } else if old_size != new_size {
        return Err(ApiError::bad_request(
            "Resizing block volumes is not supported by this server",
        ));
    }
    let (p, j, n) = (t.row.name.clone(), t.project.clone(), name.to_string());
    state
        .db
        .write(move |c| {
            let key = lxd_db::volumes::VolumeKey {
                pool: &p,
                project: &j,
                vol_type: "custom",
                name: &n,
            };
            lxd_db::volumes::update(c, key, &next.description, &next.config)
        })
        .await?;
    state.events.lifecycle(
        &t.project,
        "storage-volume-updated",
        volume_url(&t.row.name, "custom", name, &t.project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

async fn restore(
    state: &AppState,
    pool: &str,
    vol_type: &str,
    name: &str,
    params: &Params,
    caller: &Caller,
    snap: &str,
) -> ApiResult {
    let ty = parse_type(vol_type)?;
    require_custom(ty, "restored")?;
    let t = target(state, pool, params)?;
    load_custom(state, &t, name)?;
    state
        .db
        .read(|c| lxd_db::volumes::snapshot(c, t.key(name), snap))
        .map_err(|_| ApiError::internal("Snapshot not found"))?;
    let users = super::used_by::custom_volume_users(state, &t.row.name, &t.project, name)?;
    if !super::used_by::running_users(state, &users).is_empty() {
        return Err(ApiError::bad_request(
            "Cannot restore custom volume used by running instances",
        ));
    }
    let (pool_obj, storage, s) = (t.pool.clone(), t.storage_name(name), snap.to_string());
    let driver =
        lxd_storage::driver(&t.row.driver).ok_or_else(|| ApiError::internal("Unknown driver"))?;
    blocking(move || driver.restore_snapshot(&pool_obj, VolumeType::Custom, &storage, &s))
        .await
        .map_err(ApiError::internal)?;
    state.events.lifecycle(
        &t.project,
        "storage-volume-restored",
        volume_url(&t.row.name, "custom", name, &t.project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}
