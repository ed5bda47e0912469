//! `POST /1.0/storage-pools/{pool}/volumes[/custom]`: create an empty custom volume
//! (filesystem or block, synchronously as LXD does) or copy one (`source.type = copy`, same or
//! another pool, with or without its snapshots) in an operation.

use axum::extract::{Path, State};
use lxd_api::StorageVolumesPost;
use lxd_db::volumes::{VolumeRow, VolumeSnapshotRow};
use lxd_storage::{ContentType, Volume, VolumeType};

use super::{blocking, check_volume_name, target, volume_url, Target};
use crate::api::caller::Caller;
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

/// `POST /1.0/storage-pools/{name}/volumes`
pub async fn post_volumes(
    state: State<AppState>,
    Path(pool): Path<String>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<StorageVolumesPost>,
) -> ApiResult {
    create(state, pool, params, caller, req).await
}

/// `POST /1.0/storage-pools/{name}/volumes/{type}`
pub async fn post_volumes_of_type(
    state: State<AppState>,
    Path((pool, vol_type)): Path<(String, String)>,
    params: Params,
    caller: Caller,
    LxdJson(mut req): LxdJson<StorageVolumesPost>,
) -> ApiResult {
    req.kind = vol_type;
    create(state, pool, params, caller, req).await
}

fn content_type(name: &str) -> Result<ContentType, ApiError> {
    match name {
        "" | "filesystem" => Ok(ContentType::Filesystem),
        "block" => Ok(ContentType::Block),
        _ => Err(ApiError::bad_request("Invalid volume content type name")),
    }
}

async fn create(
    State(state): State<AppState>,
    pool: String,
    params: Params,
    caller: Caller,
    mut req: StorageVolumesPost,
) -> ApiResult {
    if req.kind.is_empty() {
        req.kind = "custom".into();
    }
    let ty = super::parse_type(&req.kind)?;
    if ty != VolumeType::Custom {
        return Err(ApiError::bad_request(format!(
            "Currently not allowed to create storage volumes of type {:?}",
            req.kind
        )));
    }
    check_volume_name(&req.name)?;
    let content = content_type(&req.content_type)?;
    let t = target(&state, &pool, &params)?;
    if super::load_custom(&state, &t, &req.name).is_ok() {
        return Err(ApiError::Conflict(
            "Volume by that name already exists".into(),
        ));
    }
    match req.source.kind.as_str() {
        "" if req.source.name.is_empty() => {}
        "copy" => return copy(state, t, caller, req).await,
        "migration" => {
            return Err(ApiError::NotImplemented(
                "Volume migration is not implemented".into(),
            ))
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Unknown source type {other:?}"
            )))
        }
    }
    super::config::validate(&t.storage_name(&req.name), &req.config)?;
    let vol = Volume {
        vol_type: VolumeType::Custom,
        content_type: content,
        name: t.storage_name(&req.name),
        size: super::config::size_of(&req.config),
    };
    let (pool_obj, driver) = (t.pool.clone(), t.driver);
    let created = vol.clone();
    let driver = blocking(move || {
        driver.create_volume(&pool_obj, &created)?;
        Ok(driver)
    })
    .await
    .map_err(ApiError::internal)?;
    let row = VolumeRow {
        name: req.name.clone(),
        vol_type: "custom".into(),
        description: req.description,
        content_type: content.as_str().into(),
        created_at: crate::time::now_rfc3339(),
        config: req.config,
    };
    let (pool_name, project) = (t.row.name.clone(), t.project.clone());
    let (p, j) = (pool_name.clone(), project.clone());
    if let Err(e) = state
        .db
        .write(move |c| lxd_db::volumes::create(c, &p, &j, &row))
        .await
    {
        let _ = driver.delete_volume(&t.pool, VolumeType::Custom, &vol.name);
        return Err(e.into());
    }
    state.events.lifecycle(
        &project,
        "storage-volume-created",
        volume_url(&pool_name, "custom", &req.name, &project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

/// What [`copy_volume`] copies where.
pub struct CopyPlan<'a> {
    pub src: &'a Target,
    pub src_name: &'a str,
    pub dst: &'a Target,
    pub dst_name: &'a str,
    pub volume_only: bool,
    /// Replaces the source's description when given.
    pub description: Option<String>,
    /// Config keys set on the copy over the source's.
    pub extra_config: lxd_api::ConfigMap,
}

/// Copy custom volume `src_name` of `src` into the new `dst_name` on `dst` (data, snapshots
/// unless `volume_only`, and records). Blocking parts run off the async workers.
pub async fn copy_volume(state: &AppState, plan: CopyPlan<'_>) -> Result<(), String> {
    let CopyPlan {
        src,
        src_name,
        dst,
        dst_name,
        volume_only,
        description,
        extra_config,
    } = plan;
    let source = state
        .db
        .read(|c| lxd_db::volumes::get(c, src.key(src_name)))
        .map_err(|_| {
            format!(
                "Failed generating volume copy config: Storage volume {src_name:?} in project {:?} of type \"custom\" does not exist on pool {:?}: Storage volume not found",
                src.project, src.row.name
            )
        })?;
    let snaps = if volume_only {
        Vec::new()
    } else {
        state
            .db
            .read(|c| lxd_db::volumes::snapshots(c, src.key(src_name)))
            .map_err(|e| e.to_string())?
    };
    let mut config = source.config.clone();
    config.extend(extra_config);
    config.retain(|k, _| !k.starts_with("volatile."));
    let content = content_type(&source.content_type).map_err(|e| e.to_string())?;
    let vol = Volume {
        vol_type: VolumeType::Custom,
        content_type: content,
        name: dst.storage_name(dst_name),
        size: super::config::size_of(&config),
    };
    let same_pool = src.row.name == dst.row.name;
    let (src_pool, dst_pool) = (src.pool.clone(), dst.pool.clone());
    let (src_driver, dst_driver) = (
        lxd_storage::driver(&src.row.driver).ok_or("Unknown driver")?,
        lxd_storage::driver(&dst.row.driver).ok_or("Unknown driver")?,
    );
    let src_storage = src.storage_name(src_name);
    let snap_names: Vec<String> = snaps.iter().map(|s| s.name.clone()).collect();
    let v = vol.clone();
    blocking(move || {
        if same_pool {
            dst_driver.copy_volume(
                &dst_pool,
                VolumeType::Custom,
                &src_storage,
                &v,
                !volume_only,
            )?;
            return Ok(());
        }
        transfer(
            src_driver.as_ref(),
            &src_pool,
            &src_storage,
            dst_driver.as_ref(),
            &dst_pool,
            &v,
            &snap_names,
        )
    })
    .await?;
    let row = VolumeRow {
        name: dst_name.to_string(),
        vol_type: "custom".into(),
        description: description.unwrap_or(source.description),
        content_type: source.content_type,
        created_at: crate::time::now_rfc3339(),
        config,
    };
    let (p, j, n) = (
        dst.row.name.clone(),
        dst.project.clone(),
        dst_name.to_string(),
    );
    let written = state
        .db
        .write(move |c| {
            lxd_db::volumes::create(c, &p, &j, &row)?;
            let key = lxd_db::volumes::VolumeKey {
                pool: &p,
                project: &j,
                vol_type: "custom",
                name: &n,
            };
            for s in &snaps {
                let snap = VolumeSnapshotRow {
                    created_at: crate::time::now_rfc3339(),
                    ..s.clone()
                };
                lxd_db::volumes::create_snapshot(c, key, &snap)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = written {
        let driver = lxd_storage::driver(&dst.row.driver).ok_or("Unknown driver")?;
        let (pool, name, snaps) = (
            dst.pool.clone(),
            vol.name.clone(),
            snap_names_of(&dst.pool, &vol.name),
        );
        let _ = blocking(move || {
            for s in snaps {
                driver.delete_snapshot(&pool, VolumeType::Custom, &name, &s)?;
            }
            driver.delete_volume(&pool, VolumeType::Custom, &name)
        })
        .await;
        return Err(e.to_string());
    }
    Ok(())
}

fn snap_names_of(pool: &lxd_storage::Pool, name: &str) -> Vec<String> {
    lxd_storage::fsutil::list_dir(&lxd_storage::volume::snapshots_path(
        &pool.mount,
        VolumeType::Custom,
        name,
    ))
    .unwrap_or_default()
}

/// Copy a volume between pools of possibly different drivers: each snapshot's content is
/// synced into the new volume and snapshotted there (oldest first), then the volume itself.
fn transfer(
    src_driver: &dyn lxd_storage::StorageDriver,
    src_pool: &lxd_storage::Pool,
    src_name: &str,
    dst_driver: &dyn lxd_storage::StorageDriver,
    dst_pool: &lxd_storage::Pool,
    vol: &Volume,
    snaps: &[String],
) -> Result<(), lxd_storage::StorageError> {
    use lxd_storage::rsync::{local_copy, CopyMode};
    let runner = lxd_sys::command::RealCommandRunner;
    let dst_path = dst_driver.create_volume(dst_pool, vol)?;
    let result = (|| {
        for snap in snaps {
            let from =
                src_driver.mount_path(src_pool, VolumeType::Custom, &format!("{src_name}/{snap}"));
            local_copy(&runner, &from, &dst_path, &dst_pool.config, CopyMode::Sync)?;
            dst_driver.create_snapshot(dst_pool, VolumeType::Custom, &vol.name, snap)?;
        }
        let from = src_driver.mount_path(src_pool, VolumeType::Custom, src_name);
        local_copy(&runner, &from, &dst_path, &dst_pool.config, CopyMode::Sync)
    })();
    if result.is_err() {
        for snap in snaps {
            let _ = dst_driver.delete_snapshot(dst_pool, VolumeType::Custom, &vol.name, snap);
        }
        let _ = dst_driver.delete_volume(dst_pool, VolumeType::Custom, &vol.name);
    }
    result
}

async fn copy(state: AppState, t: Target, caller: Caller, req: StorageVolumesPost) -> ApiResult {
    super::config::validate(&t.storage_name(&req.name), &req.config)?;
    let src_pool = if req.source.pool.is_empty() {
        t.row.name.clone()
    } else {
        req.source.pool.clone()
    };
    let src_project = if req.source.project.is_empty() {
        t.project.clone()
    } else {
        super::volume_project(&state, &req.source.project)?
    };
    let src = super::target_in(&state, &src_pool, &src_project)?;
    let spec = OpSpec::task("Copying storage volume", &t.project);
    let requestor = caller.requestor();
    let task_state = state.clone();
    let op = state.operations.start(spec, move |_| async move {
        let description = (!req.description.is_empty()).then(|| req.description.clone());
        let plan = CopyPlan {
            src: &src,
            src_name: &req.source.name,
            dst: &t,
            dst_name: &req.name,
            volume_only: req.source.volume_only,
            description,
            extra_config: req.config.clone(),
        };
        copy_volume(&task_state, plan).await?;
        task_state.events.lifecycle(
            &t.project,
            "storage-volume-created",
            volume_url(&t.row.name, "custom", &req.name, &t.project),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
