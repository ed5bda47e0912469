//! `/1.0/instances/{name}/backups`: instance backups as LXD lays them out
//! (`backup/index.yaml`, `backup/container/`, `backup/snapshots/<name>/`; optimized ones on
//! btrfs see [`super::backup_optimized`]), kept under `$LXD_DIR/backups/instances/<instance>/`
//! with a small JSON record beside each tarball.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use lxd_api::instance::{InstanceBackup, InstanceBackupsPost};
use lxd_storage::VolumeType;
use tokio_util::io::ReaderStream;

use super::op_resources;
use super::store::{load, project_of, Loaded};
use crate::api::caller::Caller;
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

fn dir(state: &AppState, inst: &Loaded) -> std::path::PathBuf {
    state
        .paths
        .var
        .join("backups/instances")
        .join(inst.runtime_name())
}

/// The backup's own name: clients may send `instance/backup` (LXD's internal full name).
fn short(backup: &str) -> String {
    backup.rsplit('/').next().unwrap_or_default().to_string()
}

/// The instance's backups, oldest first.
pub(crate) fn records(state: &AppState, inst: &Loaded) -> Vec<InstanceBackup> {
    let mut out: Vec<InstanceBackup> = std::fs::read_dir(dir(state, inst))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    out
}

/// `GET /1.0/instances/{name}/backups`
pub async fn get_backups(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let list = records(&state, &inst);
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            list.iter()
                .map(|b| format!("/1.0/instances/{name}/backups/{}", b.name))
                .collect::<Vec<_>>(),
        ));
    }
    Ok(ApiResponse::sync(list))
}

/// `GET /1.0/instances/{name}/backups/{backup}`
pub async fn get_backup(
    State(state): State<AppState>,
    Path((name, backup)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let backup = short(&backup);
    let found = records(&state, &inst)
        .into_iter()
        .find(|b| b.name == backup)
        .ok_or_else(|| ApiError::not_found("Backup not found"))?;
    Ok(ApiResponse::sync(found))
}

/// The `index.yaml` of a backup (LXD's fields, with the instance and its snapshots as config)
/// and that config alone, which LXD keeps as `backup.yaml` in the instance volume.
fn index_yaml(
    state: &AppState,
    inst: &Loaded,
    pool: &str,
    driver: &str,
    snaps: &[String],
    optimized: bool,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let snapshots =
        super::snapshots::list(state, &inst.project, &inst.row.name).map_err(|e| e.to_string())?;
    let snapshots: Vec<_> = snapshots
        .into_iter()
        .filter(|s| snaps.contains(&s.name))
        .collect();
    let config = serde_json::json!({
        "container": inst.to_api(),
        "snapshots": snapshots,
        "pool": pool_object(state, pool)?,
        "profiles": profile_objects(state, inst)?,
        "volume": lxd_api::StorageVolume {
            name: inst.row.name.clone(),
            kind: "container".into(),
            used_by: Some(Vec::new()),
            location: "none".into(),
            content_type: "filesystem".into(),
            project: inst.project.clone(),
            created_at: lxd_api::image::ZERO_TIME.to_string(),
            ..Default::default()
        },
        "volume_snapshots": snaps.iter().map(|s| lxd_api::StorageVolumeSnapshot {
            name: s.clone(),
            expires_at: Some(lxd_api::image::ZERO_TIME.to_string()),
            content_type: "filesystem".into(),
            created_at: lxd_api::image::ZERO_TIME.to_string(),
            ..Default::default()
        }).collect::<Vec<_>>(),
    });
    let index = serde_json::json!({
        "name": inst.row.name,
        "backend": driver,
        "pool": pool,
        "snapshots": snaps,
        "optimized": optimized,
        // The btrfs driver, the only one with optimized backups here, writes a header.
        "optimized_header": optimized,
        "type": "container",
        "config": config,
    });
    let yaml = |v: &serde_json::Value| {
        yaml_serde::to_string(v)
            .map(String::into_bytes)
            .map_err(|e| e.to_string())
    };
    Ok((yaml(&index)?, yaml(&index["config"])?))
}

/// The root disk's pool as the backup records it (LXD leaves `used_by` empty there).
fn pool_object(state: &AppState, pool: &str) -> Result<lxd_api::StoragePool, String> {
    let row = state
        .db
        .read(|c| lxd_db::pools::get(c, pool))
        .map_err(|e| e.to_string())?;
    Ok(lxd_api::StoragePool {
        config: row.config,
        description: row.description,
        name: row.name,
        driver: row.driver,
        used_by: Vec::new(),
        status: row.status,
        locations: vec!["none".to_string()],
    })
}

/// The instance's profiles, in its order, as the backup records them.
fn profile_objects(state: &AppState, inst: &Loaded) -> Result<Vec<lxd_api::Profile>, String> {
    let project = state
        .db
        .read(|c| lxd_db::profiles::effective_project(c, &inst.project))
        .map_err(|e| e.to_string())?;
    inst.row
        .profiles
        .iter()
        .map(|name| {
            let row = state
                .db
                .read(|c| lxd_db::profiles::get(c, &project, name))
                .map_err(|e| e.to_string())?;
            Ok(lxd_api::Profile {
                config: row.config,
                description: row.description,
                devices: row.devices,
                name: row.name,
                used_by: Vec::new(),
            })
        })
        .collect()
}

/// Refresh `backup.yaml` in the instance volume, as LXD does before every backup (an import
/// into LXD reads and rewrites it; it is readable by root only).
fn write_backup_file(volume: &std::path::Path, yaml: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let path = volume.join("backup.yaml");
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, yaml)
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)))
        .map_err(|e| format!("Failed to write {}: {e}", path.display()))
}

/// `POST /1.0/instances/{name}/backups`
pub async fn post_backups(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    _caller: Caller,
    LxdJson(req): LxdJson<InstanceBackupsPost>,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let existing = records(&state, &inst);
    let backup = if req.name.is_empty() {
        (0..)
            .map(|i| format!("backup{i}"))
            .find(|n| !existing.iter().any(|b| b.name == *n))
            .unwrap_or_default()
    } else {
        req.name.clone()
    };
    if backup.contains('/') {
        return Err(ApiError::bad_request(
            "Backup names may not contain slashes",
        ));
    }
    if existing.iter().any(|b| b.name == backup) {
        return Err(ApiError::Conflict(format!(
            "Backup {backup:?} already exists"
        )));
    }
    let mut spec = OpSpec::task("Backing up instance", &project);
    let mut resources = op_resources(&name, &project);
    // Clients find the new backup's name here.
    resources.insert(
        "backups".into(),
        vec![format!("/1.0/backups/{name}/{backup}")],
    );
    spec.resources = Some(resources);
    let task_state = state.clone();
    let op = state.operations.start(spec, move |_| async move {
        let pool_name = inst
            .root_pool()
            .ok_or("Failed getting root disk: No root device could be found")?;
        let pool_row = task_state
            .db
            .read(|c| lxd_db::pools::get(c, &pool_name))
            .map_err(|e| e.to_string())?;
        let (pool, driver) = crate::instances::rootfs::pool(&task_state.paths, &pool_row)
            .map_err(|e| e.to_string())?;
        let volume = driver.mount_path(&pool, VolumeType::Container, &inst.runtime_name());
        let snaps: Vec<String> = if req.instance_only || req.container_only {
            Vec::new()
        } else {
            task_state
                .db
                .read(|c| lxd_db::instances::snapshots::names(c, &inst.project, &inst.row.name))
                .map_err(|e| e.to_string())?
        };
        let snap_dirs: Vec<(String, std::path::PathBuf)> = snaps
            .iter()
            .map(|s| {
                (
                    s.clone(),
                    driver.mount_path(
                        &pool,
                        VolumeType::Container,
                        &format!("{}/{s}", inst.runtime_name()),
                    ),
                )
            })
            .collect();
        // As LXD, a driver without an optimized format makes a plain backup instead.
        let optimized = req.optimized_storage && driver.optimized_backups();
        let (index, backup_file) = index_yaml(
            &task_state,
            &inst,
            &pool_name,
            &pool_row.driver,
            &snaps,
            optimized,
        )?;
        write_backup_file(&volume, &backup_file)?;
        let out_dir = dir(&task_state, &inst);
        std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
        let file = out_dir.join(&backup);
        let server = task_state
            .db
            .read(lxd_db::server_config::get_all)
            .map_err(|e| e.to_string())?;
        let compression = if req.compression_algorithm.is_empty() {
            server
                .get("backups.compression_algorithm")
                .cloned()
                .unwrap_or_else(|| "gzip".into())
        } else {
            req.compression_algorithm.clone()
        };
        let f = file.clone();
        let work = task_state.paths.var.join("backups");
        let storage_name = inst.runtime_name();
        tokio::task::spawn_blocking(move || {
            if optimized {
                let backup = super::backup_optimized::OptimizedBackup {
                    driver: driver.as_ref(),
                    pool: &pool,
                    storage_name: &storage_name,
                    snapshots: &snaps,
                    index_yaml: &index,
                    work: &work,
                };
                return super::backup_optimized::write(&backup, &f, &compression);
            }
            let content = lxd_image::pack::backup::BackupContent {
                index_yaml: &index,
                volume: &volume,
                snapshots: &snap_dirs,
            };
            lxd_image::pack::backup::pack_backup(&content, &f, &compression)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        let record = InstanceBackup {
            name: backup.clone(),
            created_at: crate::time::now_rfc3339(),
            expires_at: if req.expires_at.is_empty() {
                lxd_api::image::ZERO_TIME.into()
            } else {
                req.expires_at.clone()
            },
            instance_only: req.instance_only,
            container_only: req.container_only,
            optimized_storage: optimized,
        };
        std::fs::write(
            file.with_extension("json"),
            serde_json::to_vec(&record).unwrap_or_default(),
        )
        .map_err(|e| e.to_string())?;
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// `DELETE /1.0/instances/{name}/backups/{backup}`
pub async fn delete_backup(
    State(state): State<AppState>,
    Path((name, backup)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let backup = short(&backup);
    let file = dir(&state, &inst).join(&backup);
    if !file.with_extension("json").exists() || backup.contains('/') {
        return Err(ApiError::not_found("Backup not found"));
    }
    let spec = OpSpec::task("Deleting backup", &project);
    let op = state.operations.start(spec, move |_| async move {
        let _ = std::fs::remove_file(file.with_extension("json"));
        std::fs::remove_file(&file).map_err(|e| e.to_string())
    });
    Ok(ApiResponse::operation(&op))
}

/// `GET /1.0/instances/{name}/backups/{backup}/export`
pub async fn get_backup_export(
    State(state): State<AppState>,
    Path((name, backup)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let backup = short(&backup);
    let file = dir(&state, &inst).join(&backup);
    if backup.contains('/') || !file.with_extension("json").exists() {
        return Err(ApiError::not_found("Backup not found"));
    }
    let handle = tokio::fs::File::open(&file)
        .await
        .map_err(|_| ApiError::not_found("Backup not found"))?;
    let len = handle.metadata().await.map_err(ApiError::internal)?.len();
    let mut resp = Response::new(Body::from_stream(ReaderStream::new(handle)));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&format!("inline;filename={backup}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(ApiResponse::Raw(resp))
}
