//! `DELETE /1.0/storage-pools/{pool}/volumes/custom/{vol}`: refused while an instance or
//! profile uses the volume; otherwise its snapshots, data and records go.

use axum::extract::{Path, State};
use lxd_storage::VolumeType;

use super::{blocking, load_custom, parse_type, require_custom, target, volume_url, Target};
use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// Remove custom volume `name` of `t` with its snapshots, on disk then in the database.
pub async fn remove(state: &AppState, t: &Target, name: &str) -> Result<(), String> {
    let snaps: Vec<String> = state
        .db
        .read(|c| lxd_db::volumes::snapshots(c, t.key(name)))
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let driver = lxd_storage::driver(&t.row.driver).ok_or("Unknown driver")?;
    let (pool, storage) = (t.pool.clone(), t.storage_name(name));
    blocking(move || {
        for s in &snaps {
            driver.delete_snapshot(&pool, VolumeType::Custom, &storage, s)?;
        }
        driver.delete_volume(&pool, VolumeType::Custom, &storage)
    })
    .await?;
    let (p, j, n) = (t.row.name.clone(), t.project.clone(), name.to_string());
    state
        .db
        .write(move |c| {
            lxd_db::volumes::delete(
                c,
                lxd_db::volumes::VolumeKey {
                    pool: &p,
                    project: &j,
                    vol_type: "custom",
                    name: &n,
                },
            )
        })
        .await
        .map_err(|e| e.to_string())
}

/// `DELETE /1.0/storage-pools/{name}/volumes/{type}/{vol}`
pub async fn delete_volume(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    require_custom(ty, "deleted")?;
    let t = target(&state, &pool, &params)?;
    load_custom(&state, &t, &name)?;
    let users = super::used_by::custom_volume_users(&state, &t.row.name, &t.project, &name)?;
    if !users.is_empty() {
        return Err(ApiError::bad_request("The storage volume is still in use"));
    }
    remove(&state, &t, &name)
        .await
        .map_err(ApiError::internal)?;
    state.events.lifecycle(
        &t.project,
        "storage-volume-deleted",
        volume_url(&t.row.name, "custom", &name, &t.project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}
