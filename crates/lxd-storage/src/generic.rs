//! Volume operations that are the same for every filesystem-backed driver (LXD's
//! `genericVFS*`): renames, snapshot-directory bookkeeping and the checks before a snapshot or
//! a copy.

use crate::driver::StorageDriver;
use crate::error::StorageError;
use crate::fsutil;
use std::path::PathBuf;

use crate::volume::{check_name, snapshots_path, split_snapshot, Pool, Volume, VolumeType};

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

/// Check that snapshot `snap` of volume `name` can be taken: the volume exists, the snapshot
/// does not, and the snapshots directory is there. Returns (volume path, snapshot path).
pub fn prepare_snapshot(
    driver: &dyn StorageDriver,
    pool: &Pool,
    vol_type: VolumeType,
    name: &str,
    snap: &str,
) -> Result<(PathBuf, PathBuf), StorageError> {
    let snap_name = format!("{name}/{snap}");
    check_name(&snap_name)?;
    let src = fsutil::require_present(&driver.mount_path(pool, vol_type, name))?;
    let dst = driver.mount_path(pool, vol_type, &snap_name);
    fsutil::require_absent(&dst)?;
    ensure_snapshots_dir(pool, vol_type, name)?;
    Ok((src, dst))
}

/// What a volume copy works from: the source and destination paths, checked (source present,
/// destination absent), and the source's snapshots to copy along (none when `src` is itself a
/// snapshot or `with_snapshots` is false).
pub struct CopyPlan {
    pub src_path: PathBuf,
    pub dst_path: PathBuf,
    pub snapshots: Vec<String>,
}

/// Check a copy of `src` into `dst` and list what it must copy.
pub fn plan_copy(
    driver: &dyn StorageDriver,
    pool: &Pool,
    src_type: VolumeType,
    src: &str,
    dst: &Volume,
    with_snapshots: bool,
) -> Result<CopyPlan, StorageError> {
    check_name(src)?;
    check_name(&dst.name)?;
    let src_path = fsutil::require_present(&driver.mount_path(pool, src_type, src))?;
    let dst_path = driver.mount_path(pool, dst.vol_type, &dst.name);
    fsutil::require_absent(&dst_path)?;
    let snapshots = if with_snapshots && split_snapshot(src).is_none() {
        driver.list_snapshots(pool, src_type, src)?
    } else {
        Vec::new()
    };
    Ok(CopyPlan {
        src_path,
        dst_path,
        snapshots,
    })
}
