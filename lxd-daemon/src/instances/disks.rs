//! Non-root `disk` devices of containers: checked when an instance's devices change (with
//! LXD's texts) and turned into the runtime's mounts at start. `source` alone is a host path
//! (bound, `readonly` honoured); `pool` + `source` names a custom volume, mounted from the pool
//! through an idmapped mount so files keep their on-disk owners in every container.

use std::path::PathBuf;

use lxd_api::{ConfigMap, DevicesMap};
use lxd_runtime::container::VolumeBind;
use lxd_shared::config::values::parse_bool;
use lxd_storage::VolumeType;

use crate::state::AppState;

/// Why a disk device is refused or cannot be mounted.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("Failed add validation for device {0:?}: {1}")]
    Invalid(String, String),
    #[error("Failed to start device {0:?}: {1}")]
    Start(String, String),
}

fn is_true(dev: &ConfigMap, key: &str) -> bool {
    dev.get(key).and_then(|v| parse_bool(v)).unwrap_or(false)
}

/// The non-root disks among `devices`, by name.
fn disks(devices: &DevicesMap) -> impl Iterator<Item = (&String, &ConfigMap)> {
    devices.iter().filter(|(_, d)| is_extra_disk(d))
}

/// Where a disk's source is on the host: a custom volume's mount path, or the host path.
fn resolve(
    state: &AppState,
    project: &str,
    name: &str,
    dev: &ConfigMap,
) -> Result<Option<PathBuf>, String> {
    let source = dev.get("source").cloned().unwrap_or_default();
    let Some(pool_name) = dev.get("pool").filter(|p| !p.is_empty()) else {
        if source.is_empty() {
            return Err("Disk entry is missing the required \"source\" property".into());
        }
        let path = PathBuf::from(&source);
        if !path.exists() {
            if is_true(dev, "optional")
                || dev.get("required").and_then(|v| parse_bool(v)) == Some(false)
            {
                return Ok(None);
            }
            return Err(format!("Missing source path {source:?} for disk {name:?}"));
        }
        return Ok(Some(path));
    };
    let row = state
        .db
        .read(|c| lxd_db::pools::get(c, pool_name))
        .map_err(|_| format!("Failed to get storage pool {pool_name:?}: Storage pool not found"))?;
    let vol_project = crate::handlers::storage_volumes::volume_project(state, project)
        .map_err(|e| e.to_string())?;
    let key = lxd_db::volumes::VolumeKey {
        pool: pool_name,
        project: &vol_project,
        vol_type: "custom",
        name: &source,
    };
    let vol = state
        .db
        .read(|c| lxd_db::volumes::get(c, key))
        .map_err(|_| "Failed loading custom volume: Storage volume not found".to_string())?;
    if vol.content_type == "block" {
        return Err("Custom block volumes cannot be used on containers".into());
    }
    let (pool, driver) =
        crate::instances::rootfs::pool(&state.paths, &row).map_err(|e| e.to_string())?;
    let storage = lxd_storage::volume::custom_storage_name(&vol_project, &source);
    Ok(Some(driver.mount_path(&pool, VolumeType::Custom, &storage)))
}

/// Check the disks among `devices` of an instance in `project` as LXD does when devices are
/// added: the pool and the volume must exist, a host path must exist unless optional.
pub fn validate(state: &AppState, project: &str, devices: &DevicesMap) -> Result<(), DiskError> {
    for (name, dev) in disks(devices) {
        resolve(state, project, name, dev).map_err(|e| DiskError::Invalid(name.clone(), e))?;
    }
    Ok(())
}

/// The runtime mount of one disk device (`None` when its optional source is missing).
pub fn mount_one(
    state: &AppState,
    project: &str,
    name: &str,
    dev: &ConfigMap,
) -> Result<Option<VolumeBind>, DiskError> {
    let target = dev.get("path").filter(|p| !p.is_empty()).ok_or_else(|| {
        DiskError::Start(
            name.to_string(),
            "Disk entry is missing the required \"path\" property".into(),
        )
    })?;
    let Some(source) =
        resolve(state, project, name, dev).map_err(|e| DiskError::Start(name.to_string(), e))?
    else {
        return Ok(None);
    };
    Ok(Some(VolumeBind {
        source,
        target: PathBuf::from(target),
        readonly: is_true(dev, "readonly"),
        idmap: dev.get("pool").is_some_and(|p| !p.is_empty()),
        recursive: is_true(dev, "recursive"),
    }))
}

/// Whether a device is a disk other than the root disk.
pub fn is_extra_disk(dev: &ConfigMap) -> bool {
    dev.get("type").map(String::as_str) == Some("disk")
        && dev.get("path").map(String::as_str) != Some("/")
}

/// The runtime mounts of the disks among the expanded `devices`, sorted by path so parents
/// are mounted before what is inside them.
pub fn mounts(
    state: &AppState,
    project: &str,
    devices: &DevicesMap,
) -> Result<Vec<VolumeBind>, DiskError> {
    let mut out = Vec::new();
    for (name, dev) in disks(devices) {
        if let Some(bind) = mount_one(state, project, name, dev)? {
            out.push(bind);
        }
    }
    out.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(out)
}
