//! The `dir` driver: a pool is a directory tree; instances are unpacked into it.

use std::path::{Path, PathBuf};

use crate::driver::{DriverInfo, PoolConfig, StorageDriver, StorageError};

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

const KEYS: &[&str] = &[
    "source",
    "rsync.bwlimit",
    "rsync.compression",
    "volatile.initial_source",
];

/// The `dir` driver.
pub struct DirDriver;

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
        for key in config.keys() {
            let volume_key = key.starts_with("volume.");
            if !KEYS.contains(&key.as_str()) && !volume_key && !key.starts_with("user.") {
                return Err(StorageError::UnknownOption(key.clone()));
            }
        }
        if let Some(v) = config.get("rsync.compression") {
            if lxd_shared::config::values::parse_bool(v).is_none() {
                return Err(StorageError::InvalidValue {
                    key: "rsync.compression".into(),
                    reason: format!("Invalid value for a boolean {v:?}"),
                });
            }
        }
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
        let mut probe = new.clone();
        probe.remove("source");
        self.fill_pool_config(&mut probe, Path::new("/"))
    }

    fn create_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError> {
        let source = config
            .get("source")
            .map(PathBuf::from)
            .unwrap_or_else(|| mount.to_path_buf());
        std::fs::create_dir_all(mount).map_err(StorageError::io("create", mount))?;
        for dir in POOL_DIRS {
            let p = source.join(dir);
            std::fs::create_dir_all(&p).map_err(StorageError::io("create", &p))?;
        }
        Ok(())
    }

    fn delete_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError> {
        let source = config
            .get("source")
            .map(PathBuf::from)
            .unwrap_or_else(|| mount.to_path_buf());
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_pool_default_source_created_and_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let mount = tmp.path().join("storage-pools/default");
        let mut cfg = PoolConfig::new();
        DirDriver.fill_pool_config(&mut cfg, &mount).unwrap();
        assert_eq!(cfg.get("source").unwrap(), &mount.display().to_string());
        DirDriver.create_pool(&cfg, &mount).unwrap();
        assert!(mount.join("containers").is_dir());
        DirDriver.delete_pool(&cfg, &mount).unwrap();
        assert!(!mount.exists());
    }

    #[test]
    fn dir_pool_bad_option_and_missing_source_refused() {
        let mut cfg = PoolConfig::from([("nope".to_string(), "1".to_string())]);
        let err = DirDriver
            .fill_pool_config(&mut cfg, Path::new("/x"))
            .unwrap_err();
        assert_eq!(err.to_string(), "Invalid option \"nope\"");
        let mut cfg = PoolConfig::from([("source".to_string(), "/nonexist/x".to_string())]);
        let err = DirDriver
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
        DirDriver.fill_pool_config(&mut cfg, &mount).unwrap();
        DirDriver.create_pool(&cfg, &mount).unwrap();
        assert!(src.join("images").is_dir());
        DirDriver.delete_pool(&cfg, &mount).unwrap();
        assert!(src.is_dir() && !src.join("images").exists());
    }
}
