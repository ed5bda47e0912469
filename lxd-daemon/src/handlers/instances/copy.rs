//! Local copies (`POST /1.0/instances` with `source.type: copy`): an instance or one of its
//! snapshots becomes a new instance on the same pool, with its config (volatile keys dropped
//! except the base image and how the rootfs is stored, as LXD does for local copies; its id
//! map allocated anew) and, unless `instance_only`, its snapshots.

use lxd_api::instance::InstancesPost;
use lxd_db::instances::InstanceRow;
use lxd_storage::{ContentType, Volume, VolumeType};

use super::store::{load, runtime_name};
use crate::api::ApiError;
use crate::events::Requestor;
use crate::state::AppState;

/// The `volatile.*` keys a local copy keeps (LXD's `InstanceIncludeWhenCopying`): the base
/// image, and the map the copied rootfs is stored with, so it is not remapped needlessly.
const COPIED_VOLATILE: &[&str] = &["volatile.base_image", "volatile.last_state.idmap"];

/// What a copy starts from.
pub struct CopySource {
    pub inst: super::store::Loaded,
    /// The snapshot name when copying from `c1/snap0`.
    pub snapshot: Option<String>,
}

/// Resolve `source.source` (`c1` or `c1/snap0`).
pub fn resolve(
    state: &AppState,
    project: &str,
    req: &InstancesPost,
) -> Result<CopySource, ApiError> {
    let source = &req.source.source;
    if source.is_empty() {
        return Err(ApiError::bad_request("Must specify a source instance"));
    }
    let (parent, snap) = match source.split_once('/') {
        Some((p, s)) => (p, Some(s.to_string())),
        None => (source.as_str(), None),
    };
    let inst = load(state, project, parent)?;
    if let Some(s) = &snap {
        state
            .db
            .read(|c| lxd_db::instances::snapshots::get(c, project, parent, s))
            .map_err(|_| ApiError::not_found("Snapshot not found"))?;
    }
    Ok(CopySource {
        inst,
        snapshot: snap,
    })
}

/// Copy the volume and write the new record (and snapshot records).
pub async fn run(
    state: &AppState,
    project: &str,
    req: &InstancesPost,
    src: CopySource,
    _requestor: &Requestor,
) -> Result<(), String> {
    let pool_name = src
        .inst
        .root_pool()
        .ok_or("Failed getting root disk: No root device could be found")?;
    let pool_row = state
        .db
        .read(|c| lxd_db::pools::get(c, &pool_name))
        .map_err(|e| e.to_string())?;
    let (pool, driver) =
        crate::instances::rootfs::pool(&state.paths, &pool_row).map_err(|e| e.to_string())?;
    let with_snapshots = src.snapshot.is_none() && !req.source.instance_only;
    let from = match &src.snapshot {
        Some(s) => format!("{}/{s}", src.inst.runtime_name()),
        None => src.inst.runtime_name(),
    };
    let to = runtime_name(project, &req.name);
    let dst = Volume {
        vol_type: VolumeType::Container,
        content_type: ContentType::Filesystem,
        name: to.clone(),
        size: None,
    };
    let path = tokio::task::spawn_blocking(move || {
        driver.copy_volume(&pool, VolumeType::Container, &from, &dst, with_snapshots)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    crate::instances::rootfs::link_volume(&state.paths, &to, &path);

    let (config, devices, profiles, architecture, ephemeral) = match &src.snapshot {
        Some(s) => {
            let row = state
                .db
                .read(|c| lxd_db::instances::snapshots::get(c, project, &src.inst.row.name, s))
                .map_err(|e| e.to_string())?;
            (
                row.config,
                row.devices,
                row.profiles,
                row.architecture,
                row.ephemeral,
            )
        }
        None => (
            src.inst.row.config.clone(),
            src.inst.row.devices.clone(),
            src.inst.row.profiles.clone(),
            src.inst.row.architecture.clone(),
            src.inst.row.ephemeral,
        ),
    };
    let mut config: lxd_api::ConfigMap = config
        .into_iter()
        .filter(|(k, _)| !k.starts_with("volatile.") || COPIED_VOLATILE.contains(&k.as_str()))
        .collect();
    config.extend(req.config.clone());
    config.insert("volatile.apply_template".into(), "copy".into());
    config.insert("volatile.uuid".into(), uuid::Uuid::new_v4().to_string());
    config
        .entry("volatile.cloud-init.instance-id".into())
        .or_insert_with(|| uuid::Uuid::new_v4().to_string());
    let mut devices = devices;
    devices.extend(req.devices.clone());
    let row = InstanceRow {
        name: req.name.clone(),
        kind: "container".into(),
        architecture,
        ephemeral: req.ephemeral || ephemeral,
        stateful: false,
        description: req.description.clone(),
        created_at: crate::time::now_rfc3339(),
        last_used_at: lxd_api::image::ZERO_TIME.to_string(),
        config,
        devices,
        profiles: req.profiles.clone().unwrap_or(profiles),
    };
    let _allocating = crate::instances::idmap::allocation_lock().await;
    let (expanded, _) = super::store::expand(state, project, &row).map_err(|e| e.to_string())?;
    let keys = match crate::instances::idmap::create_keys(state, project, &req.name, &expanded) {
        Ok(keys) => keys,
        Err(e) => {
            let _ = crate::instances::rootfs::delete(&state.paths, &pool_row, &to);
            return Err(format!(
                "Failed creating instance record: Failed initialising instance: {e}"
            ));
        }
    };
    let mut row = row;
    row.config.extend(keys);
    let snaps = if with_snapshots {
        state
            .db
            .read(|c| lxd_db::instances::snapshots::list(c, project, &src.inst.row.name))
            .map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    let (p, n) = (project.to_string(), req.name.clone());
    state
        .db
        .write(move |c| {
            lxd_db::instances::create(c, &p, &row)?;
            for snap in &snaps {
                lxd_db::instances::snapshots::create(c, &p, &n, snap)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())
}
