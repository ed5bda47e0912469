//! Volume operations of the `dir` driver: directories, full `rsync` copies for snapshots,
//! restores and copies, sparse `root.img` files for block volumes.

use std::path::PathBuf;

use crate::driver::{Filler, StorageDriver};
use crate::error::StorageError;
use crate::fsutil;
use crate::generic;
use crate::rsync::{self, CopyMode};
use crate::volume::{
    check_name, snapshots_path, ContentType, Pool, Volume, VolumeType, BLOCK_FILE,
    DEFAULT_BLOCK_SIZE,
};

use super::DirDriver;

impl DirDriver {
    pub(super) fn vol_create(&self, pool: &Pool, vol: &Volume) -> Result<PathBuf, StorageError> {
        check_name(&vol.name)?;
        let path = self.mount_path(pool, vol.vol_type, &vol.name);
        fsutil::require_absent(&path)?;
        fsutil::ensure_dir(&path, vol.vol_type.root_mode())?;
        if vol.content_type == ContentType::Block {
            let size = vol.size.unwrap_or(DEFAULT_BLOCK_SIZE);
            if let Err(e) = fsutil::sparse_file(&path.join(BLOCK_FILE), size) {
                let _ = fsutil::remove_tree(&path);
                return Err(e);
            }
        }
        Ok(path)
    }

    pub(super) fn vol_create_filled(
        &self,
        pool: &Pool,
        vol: &Volume,
        fill: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        let path = self.vol_create(pool, vol)?;
        let filled = fill(&path).map_err(|source| StorageError::Fill {
            path: path.clone(),
            source,
        });
        let done = filled.and_then(|()| fsutil::set_mode(&path, vol.vol_type.root_mode()));
        if let Err(e) = done {
            let _ = fsutil::remove_tree(&path);
            return Err(e);
        }
        Ok(path)
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
        fsutil::remove_tree(&self.mount_path(pool, vol_type, name))?;
        fsutil::remove_dir_if_empty(&snapshots_path(&pool.mount, vol_type, name))
    }

    pub(super) fn snap_create(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<PathBuf, StorageError> {
        let (src, dst) = generic::prepare_snapshot(self, pool, vol_type, name, snap)?;
        self.copy_tree(pool, &src, &dst, vol_type)?;
        Ok(dst)
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
        if !src.is_dir() {
            return Err(StorageError::SnapshotNotFound);
        }
        let dst = fsutil::require_present(&self.mount_path(pool, vol_type, name))?;
        rsync::local_copy(&*self.runner, &src, &dst, &pool.config, CopyMode::Sync)
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
        let result = (|| {
            self.copy_tree(pool, &src_path, &dst_path, dst.vol_type)?;
            for snap in &snaps {
                generic::ensure_snapshots_dir(pool, dst.vol_type, &dst.name)?;
                let from = self.mount_path(pool, src_type, &format!("{src}/{snap}"));
                let to = self.mount_path(pool, dst.vol_type, &format!("{}/{snap}", dst.name));
                self.copy_tree(pool, &from, &to, dst.vol_type)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = fsutil::remove_tree(&snapshots_path(&pool.mount, dst.vol_type, &dst.name));
            let _ = fsutil::remove_tree(&dst_path);
            return Err(e);
        }
        Ok(dst_path)
    }

    pub(super) fn vol_set_quota(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        size: Option<u64>,
    ) -> Result<(), StorageError> {
        check_name(name)?;
        let path = fsutil::require_present(&self.mount_path(pool, vol_type, name))?;
        let block = path.join(BLOCK_FILE);
        match size {
            Some(size) if block.is_file() => {
                let current = std::fs::metadata(&block)
                    .map_err(StorageError::io("stat", &block))?
                    .len();
                if size < current {
                    return Err(StorageError::NotSupported("Shrinking a block volume"));
                }
                fsutil::sparse_file(&block, size)
            }
            Some(size) => {
                tracing::warn!(
                    path = %path.display(),
                    size,
                    "The backing filesystem doesn't support quotas, skipping set quota"
                );
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Copy `src` into the new directory `dst` (created with the volume type's root mode).
    fn copy_tree(
        &self,
        pool: &Pool,
        src: &std::path::Path,
        dst: &std::path::Path,
        vol_type: VolumeType,
    ) -> Result<(), StorageError> {
        fsutil::ensure_dir(dst, vol_type.root_mode())?;
        if let Err(e) = rsync::local_copy(&*self.runner, src, dst, &pool.config, CopyMode::Fresh) {
            let _ = fsutil::remove_tree(dst);
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lxd_sys::command::RecordingCommandRunner;

    use super::*;
    use crate::driver::PoolConfig;

    fn setup(
        answers: usize,
    ) -> (
        tempfile::TempDir,
        Arc<RecordingCommandRunner>,
        DirDriver,
        Pool,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mount = tmp.path().join("d");
        crate::dir::create_pool_dirs(&mount).unwrap();
        let fake = Arc::new(RecordingCommandRunner::new(vec![
            Ok(String::new());
            answers
        ]));
        let config = PoolConfig::from([("rsync.bwlimit".to_string(), "5MB".to_string())]);
        let pool = Pool::new("d", &mount, config);
        (tmp, fake.clone(), DirDriver::new(fake), pool)
    }

    fn calls(fake: &RecordingCommandRunner, pool: &Pool) -> Vec<String> {
        let m = pool.mount.display().to_string();
        fake.calls()
            .iter()
            .map(|c| c.join(" ").replace(&m, "$P"))
            .collect()
    }

    #[test]
    fn dir_snapshot_rsync_full_copy_command() {
        let (_t, fake, d, pool) = setup(1);
        d.create_volume(&pool, &Volume::filesystem(VolumeType::Container, "c1"))
            .unwrap();
        d.create_snapshot(&pool, VolumeType::Container, "c1", "s")
            .unwrap();
        assert_eq!(
            calls(&fake, &pool),
            [
                "rsync -a -HAX --sparse --devices --numeric-ids --filter=-x security.selinux \
              --bwlimit 5MB -q $P/containers/c1/ $P/containers-snapshots/c1/s"
            ]
        );
    }

    #[test]
    fn dir_restore_rsync_delete_checksum_command() {
        let (_t, fake, d, pool) = setup(1);
        std::fs::create_dir(pool.mount.join("containers/c1")).unwrap();
        std::fs::create_dir_all(pool.mount.join("containers-snapshots/c1/s")).unwrap();
        d.restore_snapshot(&pool, VolumeType::Container, "c1", "s")
            .unwrap();
        assert_eq!(
            calls(&fake, &pool),
            [
                "rsync -a -HAX --sparse --devices --numeric-ids --filter=-x security.selinux \
              --delete --checksum --bwlimit 5MB -q $P/containers-snapshots/c1/s/ $P/containers/c1"
            ]
        );
    }

    #[test]
    fn dir_snapshot_rsync_failure_leaves_no_snapshot() {
        let (_t, _fake, d, pool) = setup(0);
        d.create_volume(&pool, &Volume::filesystem(VolumeType::Container, "c1"))
            .unwrap();
        assert!(d
            .create_snapshot(&pool, VolumeType::Container, "c1", "s")
            .is_err());
        assert!(!pool.mount.join("containers-snapshots/c1/s").exists());
    }

    #[test]
    fn dir_copy_with_snapshots_copies_each() {
        let (_t, fake, d, pool) = setup(2);
        std::fs::create_dir(pool.mount.join("custom/default_a")).unwrap();
        std::fs::create_dir_all(pool.mount.join("custom-snapshots/default_a/s1")).unwrap();
        let dst = Volume::filesystem(VolumeType::Custom, "default_b");
        d.copy_volume(&pool, VolumeType::Custom, "default_a", &dst, true)
            .unwrap();
        let c = calls(&fake, &pool);
        assert!(
            c[0].ends_with("$P/custom/default_a/ $P/custom/default_b"),
            "{c:?}"
        );
        assert!(
            c[1].ends_with("$P/custom-snapshots/default_a/s1/ $P/custom-snapshots/default_b/s1"),
            "{c:?}"
        );
    }

    #[test]
    fn dir_block_volume_sparse_file_and_grow_only() {
        let (_t, fake, d, pool) = setup(0);
        let mut vol = Volume::filesystem(VolumeType::Custom, "default_blk");
        vol.content_type = ContentType::Block;
        let path = d.create_volume(&pool, &vol).unwrap();
        let len = |p: &std::path::Path| std::fs::metadata(p.join(BLOCK_FILE)).unwrap().len();
        assert_eq!(len(&path), DEFAULT_BLOCK_SIZE);
        d.set_quota(
            &pool,
            VolumeType::Custom,
            "default_blk",
            Some(DEFAULT_BLOCK_SIZE * 2),
        )
        .unwrap();
        assert_eq!(len(&path), DEFAULT_BLOCK_SIZE * 2);
        assert!(d
            .set_quota(&pool, VolumeType::Custom, "default_blk", Some(1))
            .is_err());
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn dir_create_from_image_fill_failure_removes_volume() {
        let (_t, _fake, d, pool) = setup(0);
        let vol = Volume::filesystem(VolumeType::Container, "c1");
        let mut fill = |_: &std::path::Path| -> Result<(), crate::FillError> { Err("bad".into()) };
        assert!(d
            .create_volume_from_image(&pool, &vol, "fp", &mut fill)
            .is_err());
        assert!(!pool.mount.join("containers/c1").exists());
    }

    #[test]
    fn dir_volume_name_traversal_refused() {
        let (_t, _fake, d, pool) = setup(0);
        let vol = Volume::filesystem(VolumeType::Custom, "../../etc");
        assert!(matches!(
            d.create_volume(&pool, &vol),
            Err(StorageError::InvalidVolumeName(_))
        ));
    }
}
