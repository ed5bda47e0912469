//! Volumes of the btrfs driver: each one a subvolume; instance volumes are writable snapshots
//! of the pool's image subvolume `images/<fp>`, which is unpacked once and then kept read-only.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::BtrfsDriver;
use crate::driver::{Filler, StorageDriver};
use crate::error::StorageError;
use crate::fsutil;
use crate::generic;
use crate::volume::{
    check_name, snapshots_path, ContentType, Pool, Volume, VolumeType, BLOCK_FILE,
    DEFAULT_BLOCK_SIZE,
};

/// Serialises the one-time creation of image subvolumes within this process.
static IMAGE_LOCK: Mutex<()> = Mutex::new(());

impl BtrfsDriver {
    pub(super) fn vol_create(&self, pool: &Pool, vol: &Volume) -> Result<PathBuf, StorageError> {
        check_name(&vol.name)?;
        let path = self.mount_path(pool, vol.vol_type, &vol.name);
        fsutil::require_absent(&path)?;
        self.create_subvolume(&path)?;
        let result = (|| {
            fsutil::set_mode(&path, vol.vol_type.root_mode())?;
            match vol.content_type {
                ContentType::Block => fsutil::sparse_file(
                    &path.join(BLOCK_FILE),
                    vol.size.unwrap_or(DEFAULT_BLOCK_SIZE),
                ),
                ContentType::Filesystem if vol.size.is_some() => {
                    self.quota_set(pool, &path, vol.size)
                }
                ContentType::Filesystem => Ok(()),
            }
        })();
        if let Err(e) = result {
            let _ = self.delete_subvolume(&path);
            return Err(e);
        }
        Ok(path)
    }

    /// The pool's read-only image subvolume for `fingerprint`, unpacked with `fill` if missing.
    pub(super) fn image_subvolume(
        &self,
        pool: &Pool,
        fingerprint: &str,
        fill: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        check_name(fingerprint)?;
        let image = self.mount_path(pool, VolumeType::Image, fingerprint);
        let _guard = IMAGE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_subvolume(&image) {
            return Ok(image);
        }
        self.create_subvolume(&image)?;
        let result = fill(&image)
            .map_err(|source| StorageError::Fill {
                path: image.clone(),
                source,
            })
            .and_then(|()| fsutil::set_mode(&image, VolumeType::Image.root_mode()))
            .and_then(|()| self.set_readonly(&image, true));
        if let Err(e) = result {
            let _ = self.delete_subvolume(&image);
            return Err(e);
        }
        Ok(image)
    }

    pub(super) fn vol_create_from_image(
        &self,
        pool: &Pool,
        vol: &Volume,
        fingerprint: &str,
        fill: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        check_name(&vol.name)?;
        let path = self.mount_path(pool, vol.vol_type, &vol.name);
        fsutil::require_absent(&path)?;
        let image = self.image_subvolume(pool, fingerprint, fill)?;
        self.snapshot_subvolume(&image, &path, false)?;
        self.finish_new_volume(pool, &path, vol)?;
        Ok(path)
    }

    /// Root mode and quota of a volume made by snapshotting; removes it on failure.
    fn finish_new_volume(
        &self,
        pool: &Pool,
        path: &Path,
        vol: &Volume,
    ) -> Result<(), StorageError> {
        let result =
            fsutil::set_mode(path, vol.vol_type.root_mode()).and_then(|()| match vol.size {
                Some(_) if vol.content_type == ContentType::Filesystem => {
                    self.quota_set(pool, path, vol.size)
                }
                _ => Ok(()),
            });
        if let Err(e) = result {
            let _ = self.delete_subvolume(path);
            return Err(e);
        }
        Ok(())
    }

    pub(super) fn vol_delete(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<(), StorageError> {
        check_name(name)?;
        if !self.list_snapshots(pool, vol_type, name)?.is_empty() {
            return Err(StorageError::HasSnapshots);
        }
        let path = self.mount_path(pool, vol_type, name);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(());
        }
        self.delete_subvolume_tree(&path)?;
        fsutil::remove_dir_if_empty(&snapshots_path(&pool.mount, vol_type, name))
    }

    pub(super) fn vol_copy(
        &self,
        pool: &Pool,
        src_type: VolumeType,
        src: &str,
        dst: &Volume,
        with_snapshots: bool,
    ) -> Result<PathBuf, StorageError> {
        let generic::CopyPlan {
            src_path,
            dst_path,
            snapshots: snaps,
        } = generic::plan_copy(self, pool, src_type, src, dst, with_snapshots)?;
        self.snapshot_subvolume(&src_path, &dst_path, false)?;
        self.finish_new_volume(pool, &dst_path, dst)?;
        let copied = (|| {
            for snap in &snaps {
                generic::ensure_snapshots_dir(pool, dst.vol_type, &dst.name)?;
                let from = self.mount_path(pool, src_type, &format!("{src}/{snap}"));
                let to = self.mount_path(pool, dst.vol_type, &format!("{}/{snap}", dst.name));
                self.snapshot_subvolume(&from, &to, true)?;
            }
            Ok(())
        })();
        if let Err(e) = copied {
            let _ =
                self.delete_subvolume_tree(&snapshots_path(&pool.mount, dst.vol_type, &dst.name));
            let _ = self.delete_subvolume(&dst_path);
            return Err(e);
        }
        Ok(dst_path)
    }
}
