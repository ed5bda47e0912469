//! `POST /1.0/instances` with `Content-Type: application/octet-stream`: import an instance
//! backup (LXD's layout). The tarball is unpacked with the confined extractor, snapshots are
//! rebuilt oldest first through the pool's driver, and the instance content goes in last. An
//! optimized backup goes back through the driver that made it (`btrfs receive`).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::HeaderMap;
use futures_util::StreamExt;
use lxd_db::instances::snapshots::SnapshotRow;
use lxd_db::instances::InstanceRow;
use lxd_storage::{ContentType, Volume, VolumeType};
use tokio::io::AsyncWriteExt;

use super::instance_url;
use super::store::runtime_name;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::events::Requestor;
use crate::operations::OpSpec;
use crate::state::AppState;

/// Copy a backup's tree into the instance volume at `dst`, which keeps its own owner and mode.
fn sync_into_volume(src: &Path, dst: &Path) -> Result<(), String> {
    crate::instances::rootfs::keeping_volume_mode(dst, || sync_tree(src, dst))
}

/// Mirror `src` into `dst` (owners, modes, links, xattrs), deleting what `src` lacks.
fn sync_tree(src: &Path, dst: &Path) -> Result<(), String> {
    let out = std::process::Command::new("rsync")
        .args(["-aHAX", "--numeric-ids", "--delete"])
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", dst.display()))
        .output()
        .map_err(|e| format!("Failed to run rsync: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "Failed to copy the backup content: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// Start the import of the tarball in `body`.
pub async fn import(
    state: AppState,
    project: String,
    headers: &HeaderMap,
    body: Body,
    requestor: Requestor,
) -> ApiResult {
    let header = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .filter(|v| !v.is_empty())
    };
    let (pool_header, name_header) = (header("X-LXD-pool"), header("X-LXD-name"));
    let work = state
        .paths
        .var
        .join("backups")
        .join(format!("import_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).map_err(ApiError::internal)?;
    let archive = work.join("backup.tar");
    let mut file = tokio::fs::File::create(&archive)
        .await
        .map_err(ApiError::internal)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(format!("Failed to receive the backup: {e}")))?;
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.sync_all().await.map_err(ApiError::internal)?;
    let spec = OpSpec::task("Restoring backup", &project);
    let task_state = state.clone();
    let op = state.operations.start(spec, move |_| async move {
        let result = restore(
            &task_state,
            &project,
            &work,
            &archive,
            pool_header,
            name_header,
            &requestor,
        )
        .await;
        let _ = std::fs::remove_dir_all(&work);
        result
    });
    Ok(ApiResponse::operation(&op))
}

async fn restore(
    state: &AppState,
    project: &str,
    work: &Path,
    archive: &Path,
    pool_header: Option<String>,
    name_header: Option<String>,
    requestor: &Requestor,
) -> Result<(), String> {
    let tree = work.join("tree");
    let (a, t) = (archive.to_path_buf(), tree.clone());
    tokio::task::spawn_blocking(move || {
        let options = lxd_image::unpack::UnpackOptions {
            devices: lxd_image::unpack::DevicePolicy::Skip,
            ..Default::default()
        };
        lxd_image::unpack::unpack_file(&a, &t, &options, None)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("Failed to unpack the backup: {e}"))?;
    let index: serde_json::Value = yaml_serde::from_slice(
        &std::fs::read(tree.join("backup/index.yaml"))
            .map_err(|_| "Backup is missing backup/index.yaml")?,
    )
    .map_err(|e| format!("Bad backup/index.yaml: {e}"))?;
    let name = name_header
        .or_else(|| index["name"].as_str().map(str::to_string))
        .ok_or("Backup has no instance name")?;
    if state
        .db
        .read(|c| lxd_db::instances::get(c, project, &name))
        .is_ok()
    {
        return Err(format!("Instance {name:?} already exists"));
    }
    let pool_name = pool_header
        .or_else(|| index["pool"].as_str().map(str::to_string))
        .ok_or("Backup names no storage pool")?;
    let pool_row = state
        .db
        .read(|c| lxd_db::pools::get(c, &pool_name))
        .map_err(|_| format!("Storage pool {pool_name:?} not found"))?;
    let container: lxd_api::instance::Instance =
        serde_json::from_value(index["config"]["container"].clone())
            .map_err(|e| format!("Bad instance in the backup: {e}"))?;
    let snapshots: Vec<lxd_api::instance::InstanceSnapshot> =
        serde_json::from_value(index["config"]["snapshots"].clone()).unwrap_or_default();
    // Backups older than the `optimized` field are optimized when they hold container.bin.
    let optimized = index["optimized"]
        .as_bool()
        .unwrap_or_else(|| tree.join("backup/container.bin").is_file());
    let backend = index["backend"].as_str().unwrap_or_default().to_string();
    if optimized && pool_row.driver != backend {
        return Err(format!(
            "Optimized backup storage driver {backend:?} differs from the target storage pool driver {:?}",
            pool_row.driver
        ));
    }
    let with_header = index["optimized_header"].as_bool().unwrap_or(false);
    let storage_name = runtime_name(project, &name);
    let (paths, tree2) = (state.paths.clone(), tree.clone());
    let snap_names: Vec<String> = snapshots.iter().map(|s| s.name.clone()).collect();
    // The storage side follows the index's list, as LXD does.
    let stored_snaps: Vec<String> = match index["snapshots"].as_array() {
        Some(list) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        None => snap_names.clone(),
    };
    let disk_map = container
        .config
        .get("volatile.last_state.idmap")
        .and_then(|m| lxd_shared::idmap::IdmapSet::from_json(m).ok().flatten());
    let sname = storage_name.clone();
    tokio::task::spawn_blocking(move || -> Result<(), String> {
        let (pool, driver) =
            crate::instances::rootfs::pool(&paths, &pool_row).map_err(|e| e.to_string())?;
        if optimized {
            let path = super::backup_optimized::restore(
                driver.as_ref(),
                &pool,
                &sname,
                &stored_snaps,
                with_header,
                &tree2,
                disk_map.as_ref(),
            )?;
            crate::instances::rootfs::link_volume(&paths, &sname, &path);
            return Ok(());
        }
        let vol = Volume {
            vol_type: VolumeType::Container,
            content_type: ContentType::Filesystem,
            name: sname.clone(),
            size: None,
        };
        let path: PathBuf = driver
            .create_volume(&pool, &vol)
            .map_err(|e| e.to_string())?;
        for snap in &snap_names {
            sync_into_volume(&tree2.join("backup/snapshots").join(snap), &path)?;
            driver
                .create_snapshot(&pool, VolumeType::Container, &sname, snap)
                .map_err(|e| e.to_string())?;
        }
        sync_into_volume(&tree2.join("backup/container"), &path)?;
        crate::instances::rootfs::link_volume(&paths, &sname, &path);
        Ok(())
    })
    .await
    .map_err(|e| e.to_string())??;
    let mut devices = container.devices.clone();
    if let Some(root) = devices.values_mut().find(|d| lxd_api::is_root_disk(d)) {
        root.insert("pool".into(), pool_name.clone());
    }
    let row = InstanceRow {
        name: name.clone(),
        kind: "container".into(),
        architecture: container.architecture.clone(),
        ephemeral: container.ephemeral,
        stateful: false,
        description: container.description.clone(),
        created_at: container.created_at.clone(),
        last_used_at: lxd_api::image::ZERO_TIME.to_string(),
        config: container.config.clone(),
        devices,
        profiles: container.profiles.clone(),
    };
    let snap_rows: Vec<SnapshotRow> = snapshots
        .into_iter()
        .map(|s| SnapshotRow {
            name: s.name,
            created_at: s.created_at,
            expires_at: s.expires_at,
            stateful: false,
            description: String::new(),
            architecture: s.architecture,
            ephemeral: s.ephemeral,
            config: s.config,
            devices: s.devices,
            profiles: s.profiles,
        })
        .collect();
    let (p, n) = (project.to_string(), name.clone());
    state
        .db
        .write(move |c| {
            lxd_db::instances::create(c, &p, &row)?;
            for s in &snap_rows {
                lxd_db::instances::snapshots::create(c, &p, &n, s)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?;
    state.events.lifecycle(
        project,
        "instance-created",
        instance_url(&name, project, false),
        requestor,
    );
    Ok(())
}
