//! Optimized instance backups (`optimized_storage: true`): the tarball holds `index.yaml` and
//! then whatever the pool's driver writes (for btrfs: `optimized_header.yaml` and `btrfs send`
//! streams), and an import hands those files back to the same kind of driver.
//!
//! The streams carry the volume as it is on disk. An LXD that shifts ids on disk (no idmapped
//! storage) records that map in `volatile.last_state.idmap`; such a rootfs is shifted back to
//! the container's own ids here, which this daemon keeps on disk.
//!
//! Blocking code: callers run it on the blocking pool. No database access here.

use std::collections::HashSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use lxd_image::pack::PackError;
use lxd_shared::idmap::{IdKind, IdmapSet};
use lxd_storage::{Pool, StorageDriver, Volume, VolumeType};

/// `err` with its sources, `outer: inner: innermost`, skipping repeats.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

/// What the optimized backup of instance volume `storage_name` is made of.
pub struct OptimizedBackup<'a> {
    pub driver: &'a dyn StorageDriver,
    pub pool: &'a Pool,
    pub storage_name: &'a str,
    /// Snapshot names, oldest first.
    pub snapshots: &'a [String],
    pub index_yaml: &'a [u8],
    /// Where the driver's stream files are made before they go into the tarball.
    pub work: &'a Path,
}

/// Write the optimized backup tarball `output` with `compression`.
pub fn write(backup: &OptimizedBackup<'_>, output: &Path, compression: &str) -> Result<(), String> {
    std::fs::create_dir_all(backup.work).map_err(|e| e.to_string())?;
    lxd_image::pack::backup::pack_optimized_backup(backup.index_yaml, output, compression, |add| {
        let mut failed: Option<PackError> = None;
        let mut sink = |name: &str, path: &Path| -> Result<(), lxd_storage::FillError> {
            add(name, path).map_err(|e| {
                let text = chain(&e);
                failed = Some(e);
                text.into()
            })
        };
        let sent = backup.driver.backup_volume_optimized(
            backup.pool,
            VolumeType::Container,
            backup.storage_name,
            backup.snapshots,
            backup.work,
            &mut sink,
        );
        match (sent, failed) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(e)) => Err(e),
            (Err(e), None) => Err(PackError::Content(chain(&e))),
        }
    })
    .map(|_| ())
    .map_err(|e| format!("Backup create: {}", chain(&e)))
}

/// Shift the `rootfs/` of volume `root` back from the host ids of `disk_map` to container ids,
/// when its owner shows it is stored shifted (its root is owned by the map's host root).
/// The volume directory itself goes back to root. Hard-linked inodes are changed once; set-id
/// bits cleared by `chown` are put back.
pub fn unshift_volume(root: &Path, disk_map: &IdmapSet) -> Result<(), lxd_storage::FillError> {
    let rootfs = root.join("rootfs");
    let Ok(meta) = std::fs::symlink_metadata(&rootfs) else {
        return Ok(());
    };
    let host_root = disk_map.ns_to_host(IdKind::Uid, 0);
    if host_root.is_none_or(|h| h == 0 || i64::from(meta.uid()) != h) {
        return Ok(());
    }
    // LXD gives the volume itself to the container's host root too; ours belongs to root.
    if std::fs::symlink_metadata(root).is_ok_and(|m| i64::from(m.uid()) == i64::from(meta.uid())) {
        std::os::unix::fs::lchown(root, Some(0), None)?;
    }
    let mut seen = HashSet::new();
    let mut stack = vec![rootfs];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        let uid = disk_map.host_to_ns(IdKind::Uid, i64::from(meta.uid()));
        let gid = disk_map.host_to_ns(IdKind::Gid, i64::from(meta.gid()));
        let to_u32 = |id: Option<i64>| id.and_then(|v| u32::try_from(v).ok());
        let (uid, gid) = (to_u32(uid), to_u32(gid));
        if uid.is_some() || gid.is_some() {
            std::os::unix::fs::lchown(&path, uid, gid)?;
            if meta.is_file() && meta.mode() & 0o6000 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(meta.mode()))?;
            }
        }
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        }
    }
    Ok(())
}

/// Create instance volume `storage_name` with its `snapshots` on `pool` from the unpacked
/// optimized backup in `tree` (holding `backup/...`); a rootfs stored shifted by `disk_map`
/// (the backup's `volatile.last_state.idmap`) is shifted back. Returns the volume's path.
pub fn restore(
    driver: &dyn StorageDriver,
    pool: &Pool,
    storage_name: &str,
    snapshots: &[String],
    with_header: bool,
    tree: &Path,
    disk_map: Option<&IdmapSet>,
) -> Result<PathBuf, String> {
    let header = if with_header {
        let path = tree.join("backup/optimized_header.yaml");
        Some(std::fs::read(&path).map_err(|_| "Optimized backup header file not found")?)
    } else {
        None
    };
    let mut open = |name: &str| -> Result<Box<dyn std::io::Read + Send>, lxd_storage::FillError> {
        // Names come from the driver (`backup/<prefix>.bin`), never from the archive.
        let file = std::fs::File::open(tree.join(name))?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, file)))
    };
    driver
        .create_volume_from_optimized_backup(
            pool,
            &Volume::filesystem(VolumeType::Container, storage_name),
            snapshots,
            header.as_deref(),
            &mut open,
            &mut |root| match disk_map {
                Some(map) => unshift_volume(root, map),
                None => Ok(()),
            },
        )
        .map_err(|e| format!("Create instance from backup: {}", chain(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_joins_sources_without_repeats() {
        let inner = std::io::Error::other("exit status 1");
        let err = lxd_storage::StorageError::Io {
            action: "send",
            path: PathBuf::from("/p"),
            source: inner,
        };
        assert_eq!(chain(&err), "Failed to send /p: exit status 1");
    }

    #[test]
    fn unshift_volume_only_when_root_owned_by_host_root() {
        // Not root in unit tests: only the "leave alone" decisions are checked here (the
        // system test covers a real shifted rootfs).
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("rootfs")).unwrap();
        let map = IdmapSet::from_json(
            r#"[{"Isuid":true,"Isgid":true,"Hostid":100000,"Nsid":0,"Maprange":65536}]"#,
        )
        .unwrap()
        .unwrap();
        unshift_volume(tmp.path(), &map).unwrap();
        unshift_volume(&tmp.path().join("missing"), &map).unwrap();
    }
}
