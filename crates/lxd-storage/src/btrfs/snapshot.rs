//! Snapshots of the btrfs driver: read-only subvolume snapshots below
//! `<type>-snapshots/<volume>/<snap>`; a restore swaps in a writable snapshot of the snapshot.

use std::path::PathBuf;

use super::BtrfsDriver;
use crate::driver::StorageDriver;
use crate::error::StorageError;
use crate::fsutil;
use crate::generic;
use crate::volume::{check_name, snapshots_path, Pool, VolumeType, TMP_SUFFIX};

impl BtrfsDriver {
    pub(super) fn snap_create(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<PathBuf, StorageError> {
        let (src, dst) = generic::prepare_snapshot(self, pool, vol_type, name, snap)?;
        if let Err(e) = self.snapshot_subvolume(&src, &dst, true) {
            let _ = fsutil::remove_dir_if_empty(&snapshots_path(&pool.mount, vol_type, name));
            return Err(e);
        }
        Ok(dst)
    }

    pub(super) fn snap_delete(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<(), StorageError> {
        let snap_name = format!("{name}/{snap}");
        check_name(&snap_name)?;
        let path = self.mount_path(pool, vol_type, &snap_name);
        if std::fs::symlink_metadata(&path).is_ok() {
            self.delete_subvolume_tree(&path)?;
        }
        fsutil::remove_dir_if_empty(&snapshots_path(&pool.mount, vol_type, name))
    }

    pub(super) fn snap_restore(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<(), StorageError> {
        let snap_name = format!("{name}/{snap}");
        check_name(&snap_name)?;
        let src = self.mount_path(pool, vol_type, &snap_name);
        if !self.is_subvolume(&src) {
            return Err(StorageError::SnapshotNotFound);
        }
        let target = fsutil::require_present(&self.mount_path(pool, vol_type, name))?;
        let mut backup = target.clone().into_os_string();
        backup.push(TMP_SUFFIX);
        let backup = PathBuf::from(backup);
        fsutil::rename_new(&target, &backup)?;
        if let Err(e) = self.snapshot_subvolume(&src, &target, false) {
            let _ = std::fs::rename(&backup, &target);
            return Err(e);
        }
        self.delete_subvolume(&backup)
    }
}
