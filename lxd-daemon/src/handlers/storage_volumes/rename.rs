//! `POST /1.0/storage-pools/{pool}/volumes/custom/{vol}`: rename a custom volume (sync, 201
//! with its new URL), move it to another project on the same pool, or move it to another pool
//! (an operation copying then deleting). Disk devices of instances and profiles that attach the
//! volume follow it; volumes used by running instances stay where they are.

use axum::extract::{Path, State};
use lxd_api::StorageVolumePost;
use lxd_storage::VolumeType;

use super::create::{copy_volume, CopyPlan};
use super::used_by::{attaches, custom_volume_users, running_users};
use super::{
    blocking, check_volume_name, load_custom, parse_type, require_custom, target, target_in,
    volume_url,
};
use crate::api::caller::Caller;
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

/// Point disk devices attaching `(pool, old)` at `(new_pool, new)`, in instances and profiles.
fn repoint(
    conn: &rusqlite::Connection,
    (pool, old): (&str, &str),
    (new_pool, new): (&str, &str),
) -> Result<(), lxd_db::DbError> {
    let fix = |devices: &mut lxd_api::DevicesMap| {
        let mut changed = false;
        for d in devices.values_mut() {
            let one: lxd_api::DevicesMap = [(String::new(), d.clone())].into();
            if attaches(&one, pool, old) {
                d.insert("pool".into(), new_pool.to_string());
                d.insert("source".into(), new.to_string());
                changed = true;
            }
        }
        changed
    };
    for (project, name) in lxd_db::instances::all_names(conn)? {
        let mut row = lxd_db::instances::get(conn, &project, &name)?;
        if fix(&mut row.devices) {
            lxd_db::instances::update(conn, &project, &row)?;
        }
    }
    for project in lxd_db::projects::names(conn)? {
        for name in lxd_db::profiles::names(conn, &project)? {
            let mut row = lxd_db::profiles::get(conn, &project, &name)?;
            if fix(&mut row.devices) {
                lxd_db::profiles::update(conn, &project, &row)?;
            }
        }
    }
    Ok(())
}

/// `POST /1.0/storage-pools/{name}/volumes/{type}/{vol}`
pub async fn post_volume(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<StorageVolumePost>,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    if req.migration {
        return Err(ApiError::NotImplemented(
            "Volume migration is not implemented".into(),
        ));
    }
    check_volume_name(&req.name)?;
    require_custom(ty, "renamed")?;
    let src = target(&state, &pool, &params)?;
    load_custom(&state, &src, &name)?;
    let dst_pool = if req.pool.is_empty() {
        pool.clone()
    } else {
        req.pool.clone()
    };
    let dst_project = if req.project.is_empty() {
        src.project.clone()
    } else {
        super::volume_project(&state, &req.project)?
    };
    let dst = target_in(&state, &dst_pool, &dst_project)?;
    if load_custom(&state, &dst, &req.name).is_ok() {
        return Err(ApiError::Conflict(
            "Volume by that name already exists".into(),
        ));
    }
    let users = custom_volume_users(&state, &src.row.name, &src.project, &name)?;
    if !running_users(&state, &users).is_empty() {
        return Err(ApiError::bad_request(
            "Volume is still in use by running instances",
        ));
    }
    let requestor = caller.requestor();
    if dst_pool == pool {
        // A rename, possibly into another project: the data stays, its storage name changes.
        let (pool_obj, driver) = (src.pool.clone(), lxd_storage::driver(&src.row.driver));
        let driver = driver.ok_or_else(|| ApiError::internal("Unknown driver"))?;
        let (from, to) = (src.storage_name(&name), dst.storage_name(&req.name));
        blocking(move || driver.rename_volume(&pool_obj, VolumeType::Custom, &from, &to))
            .await
            .map_err(ApiError::internal)?;
        let (p, j, n, new_j, new_n) = (
            pool.clone(),
            src.project.clone(),
            name.clone(),
            dst.project.clone(),
            req.name.clone(),
        );
        state
            .db
            .write(move |c| {
                let key = lxd_db::volumes::VolumeKey {
                    pool: &p,
                    project: &j,
                    vol_type: "custom",
                    name: &n,
                };
                lxd_db::volumes::relocate(c, key, &p, &new_j, &new_n)?;
                repoint(c, (&p, &n), (&p, &new_n))
            })
            .await?;
        let url = volume_url(&pool, "custom", &req.name, &dst.project);
        state.events.lifecycle(
            &dst.project,
            "storage-volume-renamed",
            url.clone(),
            &requestor,
        );
        return Ok(ApiResponse::Created { location: url });
    }
    let spec = OpSpec::task("Moving storage volume", &src.project);
    let task_state = state.clone();
    let op = state.operations.start(spec, move |_| async move {
        let plan = CopyPlan {
            src: &src,
            src_name: &name,
            dst: &dst,
            dst_name: &req.name,
            volume_only: req.volume_only,
            description: None,
            extra_config: Default::default(),
        };
        copy_volume(&task_state, plan).await?;
        super::delete::remove(&task_state, &src, &name).await?;
        let (p, n, np, nn) = (
            pool.clone(),
            name.clone(),
            dst_pool.clone(),
            req.name.clone(),
        );
        task_state
            .db
            .write(move |c| repoint(c, (&p, &n), (&np, &nn)))
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &dst.project,
            "storage-volume-moved",
            volume_url(&dst_pool, "custom", &req.name, &dst.project),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
