//! Ready volumes of the `dir` driver: one instance volume per image, unpacked ahead of time at
//! `images/<fp>` (where other drivers keep their image volume), so that creating an instance
//! from that image is a rename instead of an unpack. The daemon prepares the next one in the
//! background after each take; deleting the image volume (when the image goes) removes it.
//!
//! The cost is the disk space of one unpacked copy per image in use on the pool, as LXD's
//! btrfs, ZFS and LVM drivers pay for their image volumes.

use std::path::{Path, PathBuf};

use crate::driver::{Filler, StorageDriver};
use crate::error::StorageError;
use crate::fsutil;
use crate::volume::{check_name, Pool, Volume, VolumeType};

use super::DirDriver;

/// Where a ready volume is unpacked before it is complete (a hidden name the image volume
/// listing never returns, removed before each new attempt).
fn staging_path(ready: &Path, fingerprint: &str) -> PathBuf {
    ready.with_file_name(format!(".{fingerprint}.filling"))
}

impl DirDriver {
    /// Move image `fingerprint`'s ready volume into place as `vol`; `Ok(None)` when there is
    /// none (or it cannot be moved there by a rename), so the caller unpacks instead.
    pub(super) fn take_ready(
        &self,
        pool: &Pool,
        vol: &Volume,
        fingerprint: &str,
    ) -> Result<Option<PathBuf>, StorageError> {
        check_name(&vol.name)?;
        check_name(fingerprint)?;
        let ready = self.mount_path(pool, VolumeType::Image, fingerprint);
        if !std::fs::symlink_metadata(&ready).is_ok_and(|m| m.is_dir()) {
            return Ok(None);
        }
        let path = self.mount_path(pool, vol.vol_type, &vol.name);
        fsutil::require_absent(&path)?;
        match std::fs::rename(&ready, &path) {
            Ok(()) => {}
            // Another filesystem below the pool, or taken meanwhile: unpack as usual.
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StorageError::io("rename", &ready)(e)),
        }
        fsutil::set_mode(&path, vol.vol_type.root_mode())?;
        Ok(Some(path))
    }

    /// Unpack image `fingerprint` through `fill` into its ready volume, unless one is there.
    pub(super) fn prepare_ready(
        &self,
        pool: &Pool,
        fingerprint: &str,
        fill: Filler<'_>,
    ) -> Result<(), StorageError> {
        check_name(fingerprint)?;
        let ready = self.mount_path(pool, VolumeType::Image, fingerprint);
        if std::fs::symlink_metadata(&ready).is_ok() {
            return Ok(());
        }
        let staging = staging_path(&ready, fingerprint);
        fsutil::remove_tree(&staging)?;
        fsutil::ensure_dir(&staging, VolumeType::Container.root_mode())?;
        if let Err(source) = fill(&staging) {
            let _ = fsutil::remove_tree(&staging);
            return Err(StorageError::Fill {
                path: staging,
                source,
            });
        }
        let moved = fsutil::set_mode(&staging, VolumeType::Container.root_mode())
            .and_then(|()| fsutil::rename_new(&staging, &ready));
        if moved.is_err() {
            let _ = fsutil::remove_tree(&staging);
        }
        moved
    }

    /// Remove image `fingerprint`'s ready volume and any unfinished one.
    pub(super) fn discard_ready(&self, pool: &Pool, fingerprint: &str) -> Result<(), StorageError> {
        check_name(fingerprint)?;
        let ready = self.mount_path(pool, VolumeType::Image, fingerprint);
        fsutil::remove_tree(&staging_path(&ready, fingerprint))?;
        fsutil::remove_tree(&ready)
    }
}

/// Remove every ready volume below a pool's `images` directory (before the pool goes).
pub(super) fn discard_all(images: &Path) -> Result<(), StorageError> {
    let entries = match std::fs::read_dir(images) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StorageError::io("list", images)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(StorageError::io("list", images))?;
        fsutil::remove_tree(&entry.path())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;

    use lxd_sys::command::RecordingCommandRunner;

    use super::*;
    use crate::driver::PoolConfig;

    fn setup() -> (tempfile::TempDir, DirDriver, Pool) {
        let tmp = tempfile::tempdir().unwrap();
        let mount = tmp.path().join("d");
        crate::dir::create_pool_dirs(&mount).unwrap();
        let driver = DirDriver::new(Arc::new(RecordingCommandRunner::new(vec![])));
        let pool = Pool::new("d", &mount, PoolConfig::new());
        (tmp, driver, pool)
    }

    /// A filler writing `rootfs/marker` with `text`, counting its calls.
    fn filler<'a>(
        calls: &'a Cell<u32>,
        text: &'a str,
    ) -> impl FnMut(&Path) -> Result<(), crate::FillError> + 'a {
        move |target: &Path| {
            calls.set(calls.get() + 1);
            std::fs::create_dir_all(target.join("rootfs")).unwrap();
            std::fs::write(target.join("rootfs/marker"), text).unwrap();
            Ok(())
        }
    }

    #[test]
    fn instance_takes_the_ready_volume_instead_of_unpacking() {
        let (_t, d, pool) = setup();
        let calls = Cell::new(0);
        d.prepare_image_volume(&pool, "fp1", &mut filler(&calls, "ready"))
            .unwrap();
        assert_eq!(calls.get(), 1);
        assert!(pool.mount.join("images/fp1/rootfs/marker").exists());
        // A second prepare finds it there and unpacks nothing.
        d.prepare_image_volume(&pool, "fp1", &mut filler(&calls, "again"))
            .unwrap();
        assert_eq!(calls.get(), 1);

        let vol = Volume::filesystem(VolumeType::Container, "c1");
        let path = d
            .create_volume_from_image(&pool, &vol, "fp1", &mut filler(&calls, "unpacked"))
            .unwrap();
        assert_eq!(calls.get(), 1, "the ready volume was taken, not unpacked");
        assert_eq!(
            std::fs::read_to_string(path.join("rootfs/marker")).unwrap(),
            "ready"
        );
        assert!(!pool.mount.join("images/fp1").exists());

        // With none ready, the next instance is unpacked in place.
        let vol = Volume::filesystem(VolumeType::Container, "c2");
        let path = d
            .create_volume_from_image(&pool, &vol, "fp1", &mut filler(&calls, "unpacked"))
            .unwrap();
        assert_eq!(calls.get(), 2);
        assert_eq!(
            std::fs::read_to_string(path.join("rootfs/marker")).unwrap(),
            "unpacked"
        );
    }

    #[test]
    fn failed_prepare_leaves_nothing_and_a_stale_attempt_is_replaced() {
        let (_t, d, pool) = setup();
        let staging = pool.mount.join("images/.fp1.filling");
        std::fs::create_dir_all(staging.join("rootfs")).unwrap();
        std::fs::write(staging.join("rootfs/stale"), "x").unwrap();
        let mut bad = |_: &Path| -> Result<(), crate::FillError> { Err("bad".into()) };
        assert!(d.prepare_image_volume(&pool, "fp1", &mut bad).is_err());
        assert!(!staging.exists() && !pool.mount.join("images/fp1").exists());

        std::fs::create_dir_all(staging.join("rootfs")).unwrap();
        std::fs::write(staging.join("rootfs/stale"), "x").unwrap();
        let calls = Cell::new(0);
        d.prepare_image_volume(&pool, "fp1", &mut filler(&calls, "ready"))
            .unwrap();
        assert!(pool.mount.join("images/fp1/rootfs/marker").exists());
        assert!(!pool.mount.join("images/fp1/rootfs/stale").exists());
        assert!(!staging.exists());
    }

    #[test]
    fn image_volume_delete_and_pool_delete_remove_ready_volumes() {
        let (_t, d, pool) = setup();
        let calls = Cell::new(0);
        d.prepare_image_volume(&pool, "fp1", &mut filler(&calls, "a"))
            .unwrap();
        d.prepare_image_volume(&pool, "fp2", &mut filler(&calls, "b"))
            .unwrap();
        d.delete_volume(&pool, VolumeType::Image, "fp1").unwrap();
        assert!(!pool.mount.join("images/fp1").exists());
        assert!(pool.mount.join("images/fp2").exists());
        d.delete_pool(&PoolConfig::new(), &pool.mount).unwrap();
        assert!(!pool.mount.exists());
    }

    #[test]
    fn ready_volume_names_are_checked() {
        let (_t, d, pool) = setup();
        let calls = Cell::new(0);
        assert!(d
            .prepare_image_volume(&pool, "../x", &mut filler(&calls, "a"))
            .is_err());
        assert_eq!(calls.get(), 0);
    }
}
