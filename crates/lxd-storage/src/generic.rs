//! Volume operations that are the same for every filesystem-backed driver (LXD's
//! `genericVFS*`): renames and snapshot-directory bookkeeping.

use crate::driver::StorageDriver;
use crate::error::StorageError;
use crate::fsutil;
use crate::volume::{check_name, snapshots_path, Pool, VolumeType};

/// Rename volume `old` to `new`, with its snapshots directory.
pub fn rename_volume(
    driver: &dyn StorageDriver,
    pool: &Pool,
    vol_type: VolumeType,
    old: &str,
    new: &str,
) -> Result<(), StorageError> {
    check_name(old)?;
    check_name(new)?;
    let from = fsutil::require_present(&driver.mount_path(pool, vol_type, old))?;
    let to = driver.mount_path(pool, vol_type, new);
    let snaps_from = snapshots_path(&pool.mount, vol_type, old);
    let snaps_to = snapshots_path(&pool.mount, vol_type, new);
    fsutil::require_absent(&snaps_to)?;
    fsutil::rename_new(&from, &to)?;
    if snaps_from.exists() {
        if let Err(e) = fsutil::rename_new(&snaps_from, &snaps_to) {
            let _ = std::fs::rename(&to, &from);
            return Err(e);
        }
    }
    Ok(())
}

/// Create the snapshots directory of volume `name` (mode 0700) if missing.
pub fn ensure_snapshots_dir(
    pool: &Pool,
    vol_type: VolumeType,
    name: &str,
) -> Result<std::path::PathBuf, StorageError> {
    let dir = snapshots_path(&pool.mount, vol_type, name);
    if !dir.is_dir() {
        fsutil::ensure_dir(&dir, 0o700)?;
    }
    Ok(dir)
}

/// Remove a plain-directory snapshot and, when it was the last, its parent directory.
pub fn delete_snapshot_tree(
    pool: &Pool,
    vol_type: VolumeType,
    name: &str,
    snap: &str,
) -> Result<(), StorageError> {
    check_name(&format!("{name}/{snap}"))?;
    let dir = snapshots_path(&pool.mount, vol_type, name);
    fsutil::remove_tree(&dir.join(snap))?;
    fsutil::remove_dir_if_empty(&dir)
}
