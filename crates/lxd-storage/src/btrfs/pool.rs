//! Pool lifecycle of the btrfs driver: config defaults, `mkfs.btrfs` on a loop file or block
//! device (or a subvolume on an existing btrfs), mounting with `losetup`/`mount`, teardown.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::{arg, BtrfsDriver};
use crate::config::{self, Rule};
use crate::dir::{create_pool_dirs, POOL_DIRS};
use crate::driver::PoolConfig;
use crate::error::StorageError;
use crate::fsutil;
use crate::volume::Pool;

const RULES: &[(&str, Rule)] = &[("size", Rule::Size), ("btrfs.mount_options", Rule::Any)];

/// Mount options when `btrfs.mount_options` is unset.
pub const DEFAULT_MOUNT_OPTIONS: &str = "user_subvol_rm_allowed";

const GIB: u64 = 1 << 30;

/// LXD's default loop file size: 20% of the filesystem holding `LXD_DIR`, 5 to 30 GiB.
pub fn default_loop_size_gib(fs_total_bytes: u64) -> u64 {
    (fs_total_bytes / GIB / 5).clamp(5, 30)
}

/// Where a source is: the pool's own loop file, a block device, or a path on btrfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    Loop(PathBuf),
    Device(PathBuf),
    Path(PathBuf),
    Uuid(String),
}

fn is_block_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_block_device())
}

fn pool_name(mount: &Path) -> String {
    mount
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(super) fn mount_options(config: &PoolConfig) -> &str {
    config
        .get("btrfs.mount_options")
        .map(String::as_str)
        .filter(|o| !o.is_empty())
        .unwrap_or(DEFAULT_MOUNT_OPTIONS)
}

impl BtrfsDriver {
    /// The loop file of the pool mounted at `mount`: `$LXD_DIR/disks/<pool>.img`.
    pub fn loop_file(&self, mount: &Path) -> PathBuf {
        let disks = self.disks_dir.clone().unwrap_or_else(|| {
            let lxd_dir = mount.parent().and_then(Path::parent).unwrap_or(mount);
            lxd_dir.join("disks")
        });
        disks.join(format!("{}.img", pool_name(mount)))
    }

    pub(super) fn source(&self, config: &PoolConfig, mount: &Path) -> Source {
        let loop_file = self.loop_file(mount);
        match config.get("source").map(String::as_str).unwrap_or("") {
            "" => Source::Loop(loop_file),
            s if Path::new(s) == loop_file => Source::Loop(loop_file),
            s if s.starts_with('/') && is_block_device(Path::new(s)) => {
                Source::Device(PathBuf::from(s))
            }
            s if s.starts_with('/') => Source::Path(PathBuf::from(s)),
            s => Source::Uuid(s.to_string()),
        }
    }

    /// Filesystem type of the filesystem holding `path` (`stat -f -c %T`).
    fn fs_type(&self, path: &Path) -> Result<String, StorageError> {
        let out = self.run(
            "detect filesystem of",
            path,
            &["stat", "-f", "-c", "%T", &arg(path)],
        )?;
        Ok(out.trim().to_string())
    }

    pub(super) fn pool_fill_config(
        &self,
        config: &mut PoolConfig,
        default_mount: &Path,
    ) -> Result<(), StorageError> {
        config::validate(config, RULES)?;
        let given = config.get("source").cloned().unwrap_or_default();
        if !given.is_empty() {
            config.insert("volatile.initial_source".into(), given.clone());
        }
        match self.source(config, default_mount) {
            Source::Loop(file) => {
                config.insert("source".into(), arg(&file));
                if config.get("size").is_none_or(|s| s.is_empty()) {
                    let lxd_dir = file.parent().and_then(Path::parent).unwrap_or(&file);
                    let total = lxd_sys::pool::pool_resources(lxd_dir)
                        .map(|r| r.space.total)
                        .unwrap_or(0);
                    let size = format!("{}GiB", default_loop_size_gib(total));
                    config.insert("size".into(), size);
                }
            }
            Source::Device(_) | Source::Uuid(_) => {
                config.remove("size");
            }
            Source::Path(path) => {
                config.remove("size");
                let lxd_dir = default_mount.parent().and_then(Path::parent);
                if let Some(lxd_dir) = lxd_dir.filter(|d| path.starts_with(d)) {
                    if path != default_mount {
                        return Err(StorageError::SourceUnderLxdDir {
                            lxd_dir: lxd_dir.to_path_buf(),
                            mount: default_mount.to_path_buf(),
                        });
                    }
                }
                let probe = if path.exists() {
                    path.clone()
                } else {
                    path.parent().map(Path::to_path_buf).unwrap_or_default()
                };
                if self.fs_type(&probe)? != "btrfs" {
                    return Err(StorageError::NotBtrfs(path));
                }
            }
        }
        Ok(())
    }

    pub(super) fn pool_validate_update(
        &self,
        old: &PoolConfig,
        new: &PoolConfig,
    ) -> Result<(), StorageError> {
        if old.get("source") != new.get("source") {
            return Err(StorageError::SourceChanged);
        }
        config::validate(new, RULES)
    }

    pub(super) fn pool_create(
        &self,
        config: &PoolConfig,
        mount: &Path,
    ) -> Result<(), StorageError> {
        let name = pool_name(mount);
        let pool = Pool::new(&name, mount, config.clone());
        let mut created_file = None;
        match self.source(config, mount) {
            Source::Loop(file) => {
                let size = config::size_of(config, "size")?.unwrap_or(5 * GIB);
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir).map_err(StorageError::io("create", dir))?;
                }
                fsutil::require_absent(&file)?;
                fsutil::sparse_file(&file, size)?;
                created_file = Some(file.clone());
                let made = self.run("format", &file, &["mkfs.btrfs", "-L", &name, &arg(&file)]);
                if let Err(e) = made {
                    let _ = std::fs::remove_file(&file);
                    return Err(e);
                }
            }
            Source::Device(dev) => {
                self.run("format", &dev, &["mkfs.btrfs", "-L", &name, &arg(&dev)])?;
            }
            Source::Path(path) => {
                if self.is_subvolume(&path) {
                    if !self.nested_subvolumes(&path)?.is_empty() {
                        return Err(StorageError::SubvolumeNotEmpty(path));
                    }
                } else {
                    if path == mount {
                        let _ = std::fs::remove_dir(&path);
                    }
                    self.run(
                        "create subvolume",
                        &path,
                        &["btrfs", "subvolume", "create", &arg(&path)],
                    )?;
                }
            }
            Source::Uuid(_) => {}
        }
        let result = self.pool_mount(&pool).and_then(|_| create_pool_dirs(mount));
        if let Err(e) = result {
            let _ = self.pool_unmount(&pool);
            if let Some(file) = created_file {
                let _ = std::fs::remove_file(file);
            }
            return Err(e);
        }
        Ok(())
    }

    pub(super) fn pool_delete(
        &self,
        config: &PoolConfig,
        mount: &Path,
    ) -> Result<(), StorageError> {
        let pool = Pool::new(&pool_name(mount), mount, config.clone());
        let source = self.source(config, mount);
        if !matches!(source, Source::Loop(_))
            && (self.is_mounted(mount)? || source_is_mount(&source, mount))
        {
            // The filesystem outlives the pool: remove what the pool put on it.
            for dir in POOL_DIRS {
                let path = mount.join(dir);
                for entry in fsutil::list_dir(&path)? {
                    self.delete_subvolume_tree(&path.join(entry))?;
                }
                fsutil::remove_dir_if_empty(&path)?;
            }
        }
        self.pool_unmount(&pool)?;
        if let Source::Loop(file) = &source {
            match std::fs::remove_file(file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io("remove", file)(e)),
            }
        }
        if source_is_mount(&source, mount) && self.is_subvolume(mount) {
            self.delete_subvolume(mount)?;
        }
        fsutil::remove_dir_if_empty(mount)
    }
}

fn source_is_mount(source: &Source, mount: &Path) -> bool {
    matches!(source, Source::Path(p) if p == mount)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn default_loop_size_twenty_percent_clamped() {
        assert_eq!(default_loop_size_gib(10 * GIB), 5);
        assert_eq!(default_loop_size_gib(100 * GIB), 20);
        assert_eq!(default_loop_size_gib(1000 * GIB), 30);
    }
}
