//! The on-disk side of a container's id map at start (LXD's `handleIdmappedStorage`): the
//! rootfs is handed over through an idmapped mount where the kernel and filesystem allow it,
//! and stays stored with the container's own ids (`volatile.last_state.idmap` is `[]`);
//! elsewhere (or with `LXD_IDMAPPED_MOUNTS_DISABLE=true`) it is shifted on disk once, the map
//! it is stored with recorded in `volatile.last_state.idmap`, and shifted back or again only
//! when the map changes.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

use lxd_runtime::shift::{shift_tree, ShiftDirection};
use lxd_shared::idmap::{IdKind, IdmapSet};

use crate::facts::HostFacts;

/// Whether each filesystem (by device) took an idmapped mount when probed; probed once per
/// daemon, as LXD caches it per filesystem.
static IDMAPPABLE: Mutex<BTreeMap<u64, bool>> = Mutex::new(BTreeMap::new());

/// How the rootfs is stored once [`prepare_rootfs`] is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskState {
    /// The rootfs is stored shifted by the container's map: bind it, no idmapped mount.
    pub shifted: bool,
    /// The new `volatile.last_state.idmap` to record, when it changed.
    pub last_state: Option<String>,
}

/// Whether a rootfs at `path` can reach a container whose root is host `root` through an
/// idmapped mount: the kernel knows them (`idmapped_mounts` in the host facts, which
/// `LXD_IDMAPPED_MOUNTS_DISABLE=true` turns off) and the filesystem takes one.
pub async fn idmapped_storage(facts: &HostFacts, path: &Path, root: (u32, u32)) -> bool {
    if facts
        .kernel_features
        .get("idmapped_mounts")
        .map(String::as_str)
        != Some("true")
    {
        return false;
    }
    let Ok(device) = std::fs::metadata(path).map(|m| m.dev()) else {
        return false;
    };
    if let Some(known) = IDMAPPABLE.lock().ok().and_then(|m| m.get(&device).copied()) {
        return known;
    }
    let status = tokio::process::Command::new(crate::runtime::helper_binary())
        .arg("forkidmapprobe")
        .arg(path)
        .arg(root.0.to_string())
        .arg(root.1.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await;
    let able = status.is_ok_and(|s| s.success());
    if !able {
        tracing::info!(path = %path.display(), "Idmapped mounts unavailable, shifting on disk");
    }
    if let Ok(mut known) = IDMAPPABLE.lock() {
        known.insert(device, able);
    }
    able
}

/// The host uid and gid of the container's root under `map`.
pub fn host_root(map: &IdmapSet) -> Option<(u32, u32)> {
    let id = |kind| map.ns_to_host(kind, 0).and_then(|v| u32::try_from(v).ok());
    Some((id(IdKind::Uid)?, id(IdKind::Gid)?))
}

/// Whether the rootfs looks stored with `disk`: its top directory belongs to the map's root
/// (or cannot be read). A record that names a map the tree does not hold, as daemons before
/// the shifting fallback wrote for idmapped roots, is taken for the container's own ids.
fn stored_with(rootfs: &Path, disk: &IdmapSet) -> bool {
    match (std::fs::symlink_metadata(rootfs), host_root(disk)) {
        (Ok(meta), Some((uid, _))) => meta.uid() == uid,
        _ => true,
    }
}

/// The map the stopped container's rootfs at `rootfs` is stored shifted with, per its
/// `volatile.last_state.idmap` in `config` (`None`: it holds the container's own ids).
pub fn stored_map(rootfs: &Path, config: &lxd_api::ConfigMap) -> Option<IdmapSet> {
    let json = config.get("volatile.last_state.idmap")?;
    IdmapSet::from_json(json)
        .ok()
        .flatten()
        .filter(|map| stored_with(rootfs, map))
}

fn same_map(a: Option<&IdmapSet>, b: Option<&IdmapSet>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.equivalent(b),
        _ => false,
    }
}

/// Bring the rootfs at `rootfs`, stored with map `disk` (`None`: the container's own ids),
/// to what a container with map `next` (`None`: privileged) needs. `protected` is
/// `security.protection.shift`.
pub async fn prepare_rootfs(
    facts: &HostFacts,
    rootfs: &Path,
    next: Option<&IdmapSet>,
    disk: Option<&IdmapSet>,
    protected: bool,
) -> Result<DiskState, String> {
    let disk = disk.filter(|d| stored_with(rootfs, d));
    if same_map(next, disk) {
        return Ok(DiskState {
            shifted: disk.is_some(),
            last_state: None,
        });
    }
    let idmapped = match next.and_then(host_root) {
        Some(root) => idmapped_storage(facts, rootfs, root).await,
        None => false,
    };
    if disk.is_none() && idmapped {
        return Ok(DiskState {
            shifted: false,
            last_state: None,
        });
    }
    if protected {
        return Err("Container is protected against filesystem shifting".into());
    }
    let (path, disk, next) = (rootfs.to_path_buf(), disk.cloned(), next.cloned());
    tokio::task::spawn_blocking(move || -> Result<DiskState, String> {
        if let Some(disk) = &disk {
            shift_tree(&path, disk, ShiftDirection::ToContainer).map_err(|e| chain(&e))?;
        }
        match next.filter(|_| !idmapped) {
            Some(next) => {
                shift_tree(&path, &next, ShiftDirection::ToHost).map_err(|e| chain(&e))?;
                Ok(DiskState {
                    shifted: true,
                    last_state: Some(next.to_json()),
                })
            }
            None => Ok(DiskState {
                shifted: false,
                last_state: Some("[]".into()),
            }),
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    crate::handlers::instances::backup_optimized::chain(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lxd_shared::idmap::IdmapEntry;

    fn map(base: i64) -> IdmapSet {
        IdmapSet::new(vec![
            IdmapEntry::uid(base, 0, 65_536),
            IdmapEntry::gid(base + 7, 0, 65_536),
        ])
    }

    #[test]
    fn host_root_from_first_entries() {
        assert_eq!(host_root(&map(1_000_000)), Some((1_000_000, 1_000_007)));
        assert_eq!(host_root(&IdmapSet::default()), None);
    }

    #[tokio::test]
    async fn prepare_rootfs_same_map_nothing_to_do() {
        let facts = HostFacts::default();
        let missing = Path::new("/nonexistent/rootfs");
        let m = map(1_000_000);
        let got = prepare_rootfs(&facts, missing, Some(&m), Some(&m), true).await;
        assert_eq!(
            got,
            Ok(DiskState {
                shifted: true,
                last_state: None
            })
        );
        let got = prepare_rootfs(&facts, missing, None, None, true).await;
        assert_eq!(
            got,
            Ok(DiskState {
                shifted: false,
                last_state: None
            })
        );
    }

    #[tokio::test]
    async fn prepare_rootfs_change_needed_but_protected_refused() {
        // No idmapped mounts in default facts: a new map must be shifted on disk.
        let facts = HostFacts::default();
        let m = map(1_000_000);
        let err = prepare_rootfs(&facts, Path::new("/nonexistent"), Some(&m), None, true).await;
        assert_eq!(
            err.unwrap_err(),
            "Container is protected against filesystem shifting"
        );
    }
}
