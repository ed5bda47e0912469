//! The `dir` driver: a pool is a directory tree; every instance gets its image unpacked into a
//! plain directory (ahead of time, see [`ready`]), snapshots and copies are full `rsync`
//! copies, quotas are not enforced.
//!
//! Pool operations live here, volume operations in [`volume`]. Tools run through the injected
//! [`CommandRunner`]; the driver never touches the database.

mod ready;
mod volume;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lxd_sys::command::{CommandRunner, RealCommandRunner};

use crate::config::{self, Rule};
use crate::driver::{DriverInfo, Filler, PoolConfig, StorageDriver, StorageError};
use crate::volume::{Pool, Volume, VolumeType};

/// Sub-directories of every pool, as LXD lays them out.
pub const POOL_DIRS: &[&str] = &[
    "buckets",
    "containers",
    "containers-snapshots",
    "custom",
    "custom-snapshots",
    "images",
    "virtual-machines",
    "virtual-machines-snapshots",
];

const RULES: &[(&str, Rule)] = &[];

/// The `dir` driver.
pub struct DirDriver {
    runner: Arc<dyn CommandRunner>,
}

impl DirDriver {
    /// A driver running its tools (`rsync`) through `runner`.
    pub fn new(runner: Arc<dyn CommandRunner>) -> Self {
        Self { runner }
    }
}

impl Default for DirDriver {
    fn default() -> Self {
        Self::new(Arc::new(RealCommandRunner))
    }
}

/// Create the pool's sub-directories below `root`.
pub(crate) fn create_pool_dirs(root: &Path) -> Result<(), StorageError> {
    for dir in POOL_DIRS {
        let p = root.join(dir);
        std::fs::create_dir_all(&p).map_err(StorageError::io("create", &p))?;
    }
    Ok(())
}

impl StorageDriver for DirDriver {
    fn info(&self) -> DriverInfo {
        DriverInfo {
            name: "dir",
            version: "1".to_string(),
        }
    }

    fn fill_pool_config(
        &self,
        config: &mut PoolConfig,
        default_mount: &Path,
    ) -> Result<(), StorageError> {
        config::validate(config, RULES)?;
        let source = config.get("source").filter(|s| !s.is_empty()).cloned();
        match source {
            Some(s) => {
                let p = PathBuf::from(&s);
                if !p.is_dir() {
                    return Err(StorageError::MissingSource(p));
                }
                let has_entries = std::fs::read_dir(&p)
                    .map_err(StorageError::io("read", &p))?
                    .any(|e| e.is_ok_and(|e| !POOL_DIRS.iter().any(|d| e.file_name() == *d)));
                if has_entries {
                    return Err(StorageError::SourceNotEmpty(p));
                }
            }
            None => {
                config.insert("source".into(), default_mount.display().to_string());
            }
        }
        Ok(())
    }

    fn validate_pool_update(&self, old: &PoolConfig, new: &PoolConfig) -> Result<(), StorageError> {
        if old.get("source") != new.get("source") {
            return Err(StorageError::SourceChanged);
        }
        config::validate(new, RULES)
    }

    fn create_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError> {
        let source = config
            .get("source")
            .map(PathBuf::from)
            .unwrap_or_else(|| mount.to_path_buf());
        std::fs::create_dir_all(mount).map_err(StorageError::io("create", mount))?;
        create_pool_dirs(&source)
    }

    fn delete_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError> {
        let source = config
            .get("source")
            .map(PathBuf::from)
            .unwrap_or_else(|| mount.to_path_buf());
        ready::discard_all(&source.join("images"))?;
        for dir in POOL_DIRS {
            let p = source.join(dir);
            match std::fs::remove_dir(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io("remove", &p)(e)),
            }
        }
        match std::fs::remove_dir(mount) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::io("remove", mount)(e)),
        }
    }

    fn create_volume(&self, pool: &Pool, vol: &Volume) -> Result<PathBuf, StorageError> {
        self.vol_create(pool, vol)
    }

    fn create_volume_from_image(
        &self,
        pool: &Pool,
        vol: &Volume,
        fingerprint: &str,
        fill: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        match self.take_ready(pool, vol, fingerprint)? {
            Some(path) => Ok(path),
            None => self.vol_create_filled(pool, vol, fill),
        }
    }

    fn has_ready_volumes(&self) -> bool {
        true
    }

    fn prepare_image_volume(
        &self,
        pool: &Pool,
        fingerprint: &str,
        fill: Filler<'_>,
    ) -> Result<(), StorageError> {
        self.prepare_ready(pool, fingerprint, fill)
    }

    fn delete_volume(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<(), StorageError> {
        if vol_type == VolumeType::Image {
            return self.discard_ready(pool, name);
        }
        self.vol_delete(pool, vol_type, name)
    }

    fn rename_volume(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        old: &str,
        new: &str,
    ) -> Result<(), StorageError> {
        crate::generic::rename_volume(self, pool, vol_type, old, new)
    }

    fn create_snapshot(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<PathBuf, StorageError> {
        self.snap_create(pool, vol_type, name, snap)
    }

    fn delete_snapshot(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<(), StorageError> {
        crate::generic::delete_snapshot_tree(pool, vol_type, name, snap)
    }

    fn restore_snapshot(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<(), StorageError> {
        self.snap_restore(pool, vol_type, name, snap)
    }

    fn copy_volume(
        &self,
        pool: &Pool,
        src_type: VolumeType,
        src: &str,
        dst: &Volume,
        with_snapshots: bool,
    ) -> Result<PathBuf, StorageError> {
        self.vol_copy(pool, src_type, src, dst, with_snapshots)
    }

    fn set_quota(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        size: Option<u64>,
    ) -> Result<(), StorageError> {
        self.vol_set_quota(pool, vol_type, name, size)
    }

    fn volume_usage(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<u64, StorageError> {
        crate::fsutil::disk_usage(&crate::fsutil::require_present(
            &self.mount_path(pool, vol_type, name),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_pool_default_source_created_and_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let mount = tmp.path().join("storage-pools/default");
        let mut cfg = PoolConfig::new();
        DirDriver::default()
            .fill_pool_config(&mut cfg, &mount)
            .unwrap();
        assert_eq!(cfg.get("source").unwrap(), &mount.display().to_string());
        DirDriver::default().create_pool(&cfg, &mount).unwrap();
        assert!(mount.join("containers").is_dir());
        DirDriver::default().delete_pool(&cfg, &mount).unwrap();
        assert!(!mount.exists());
    }

    #[test]
    fn dir_send_and_optimized_backup_not_supported() {
        let d = DirDriver::default();
        assert!(!d.optimized_backups());
        let pool = Pool::new("d", Path::new("/nonexistent"), PoolConfig::new());
        let err = d
            .send_volume(&pool, VolumeType::Container, "c1", None, &mut Vec::new())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Sending a volume is not supported by this driver"
        );
        let mut sink = |_: &str, _: &Path| Ok(());
        let err = d
            .backup_volume_optimized(
                &pool,
                VolumeType::Container,
                "c1",
                &[],
                Path::new("/x"),
                &mut sink,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Optimized backup is not supported by this driver"
        );
        let mut open = |_: &str| Err("none".into());
        let vol = Volume::filesystem(VolumeType::Container, "c1");
        let err = d
            .create_volume_from_optimized_backup(&pool, &vol, &[], None, &mut open, &mut |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, StorageError::NotSupported(_)));
    }

    #[test]
    fn dir_pool_bad_option_and_missing_source_refused() {
        let mut cfg = PoolConfig::from([("nope".to_string(), "1".to_string())]);
        let err = DirDriver::default()
            .fill_pool_config(&mut cfg, Path::new("/x"))
            .unwrap_err();
        assert_eq!(err.to_string(), "Invalid option \"nope\"");
        let mut cfg = PoolConfig::from([("source".to_string(), "/nonexist/x".to_string())]);
        let err = DirDriver::default()
            .fill_pool_config(&mut cfg, Path::new("/x"))
            .unwrap_err();
        assert_eq!(err.to_string(), "Source path '/nonexist/x' doesn't exist");
    }

    #[test]
    fn dir_pool_user_source_keeps_directory_on_delete() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir(&src).unwrap();
        let mount = tmp.path().join("mnt");
        let mut cfg = PoolConfig::from([("source".to_string(), src.display().to_string())]);
        DirDriver::default()
            .fill_pool_config(&mut cfg, &mount)
            .unwrap();
        DirDriver::default().create_pool(&cfg, &mount).unwrap();
        assert!(src.join("images").is_dir());
        DirDriver::default().delete_pool(&cfg, &mount).unwrap();
        assert!(src.is_dir() && !src.join("images").exists());
    }
}
