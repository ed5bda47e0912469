//! The `btrfs` driver: a pool is a btrfs filesystem (a loop file, a block device, or a
//! subvolume of an existing btrfs); every volume is a subvolume. Images are unpacked once per
//! pool into `images/<fp>` and instances are writable snapshots of it; snapshots are read-only
//! subvolume snapshots; quotas are qgroup limits.
//!
//! Split by concern: [`pool`] (config, create, delete), [`mount`], [`subvol`] (subvolume primitives),
//! [`volume`], [`snapshot`], [`quota`], [`send`] (send/receive streams), [`backup`]
//! (optimized backups) and [`migrate`] (migration to another btrfs pool). Every tool runs through the injected [`CommandRunner`];
//! the driver never touches the database.

mod backup;
mod migrate;
mod mount;
mod pool;
pub mod send;

pub use pool::default_loop_size_gib;
mod quota;
mod snapshot;
mod subvol;
mod volume;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use lxd_sys::command::{CommandRunner, RealCommandRunner};

use crate::driver::{BackupSink, BackupSource, DriverInfo, Filler, PoolConfig, StorageDriver};
use crate::error::StorageError;
use crate::migration::{MigrationArgs, StreamChannel};
use crate::volume::{Pool, Volume, VolumeType};

/// The `btrfs` driver.
pub struct BtrfsDriver {
    runner: Arc<dyn CommandRunner>,
    mountinfo: PathBuf,
    disks_dir: Option<PathBuf>,
    version: OnceLock<String>,
}

impl BtrfsDriver {
    /// A driver running its tools through `runner`, reading mounts from `/proc/self/mountinfo`
    /// and keeping loop files in `$LXD_DIR/disks` (`$LXD_DIR` = two levels above a pool mount).
    pub fn new(runner: Arc<dyn CommandRunner>) -> Self {
        Self {
            runner,
            mountinfo: PathBuf::from("/proc/self/mountinfo"),
            disks_dir: None,
            version: OnceLock::new(),
        }
    }

    /// Read the mount table from `path` instead (tests).
    pub fn with_mountinfo(mut self, path: &Path) -> Self {
        self.mountinfo = path.to_path_buf();
        self
    }

    /// Keep loop files in `dir` instead of `$LXD_DIR/disks`.
    pub fn with_disks_dir(mut self, dir: &Path) -> Self {
        self.disks_dir = Some(dir.to_path_buf());
        self
    }

    /// The driver's info when `btrfs` works on this host.
    pub fn probe(&self) -> Option<DriverInfo> {
        let out = self.runner.run("btrfs", &["--version"]).ok()?;
        let version = parse_version(&out)?;
        let _ = self.version.set(version);
        Some(self.info())
    }

    fn run(
        &self,
        action: &'static str,
        path: &Path,
        args: &[&str],
    ) -> Result<String, StorageError> {
        tracing::debug!(action, path = %path.display(), ?args, "btrfs driver command");
        let (program, rest) = args.split_first().unwrap_or((&"true", &[]));
        self.runner
            .run(program, rest)
            .map_err(StorageError::cmd(action, path))
    }
}

impl Default for BtrfsDriver {
    fn default() -> Self {
        Self::new(Arc::new(RealCommandRunner))
    }
}

/// `btrfs-progs v6.2` → `6.2`.
fn parse_version(out: &str) -> Option<String> {
    out.split_whitespace()
        .find_map(|w| w.strip_prefix('v'))
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
}

/// Render a path as a command argument.
fn arg(path: &Path) -> String {
    path.display().to_string()
}

impl StorageDriver for BtrfsDriver {
    fn info(&self) -> DriverInfo {
        DriverInfo {
            name: "btrfs",
            version: self.version.get().cloned().unwrap_or_default(),
        }
    }

    fn fill_pool_config(
        &self,
        config: &mut PoolConfig,
        default_mount: &Path,
    ) -> Result<(), StorageError> {
        self.pool_fill_config(config, default_mount)
    }

    fn validate_pool_update(&self, old: &PoolConfig, new: &PoolConfig) -> Result<(), StorageError> {
        self.pool_validate_update(old, new)
    }

    fn create_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError> {
        self.pool_create(config, mount)
    }

    fn delete_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError> {
        self.pool_delete(config, mount)
    }

    fn update_pool(&self, pool: &Pool, changed: &PoolConfig) -> Result<(), StorageError> {
        self.pool_update(pool, changed)
    }

    fn mount_pool(&self, pool: &Pool) -> Result<bool, StorageError> {
        self.pool_mount(pool)
    }

    fn unmount_pool(&self, pool: &Pool) -> Result<bool, StorageError> {
        self.pool_unmount(pool)
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
        self.vol_create_from_image(pool, vol, fingerprint, fill)
    }

    fn delete_volume(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<(), StorageError> {
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
        self.snap_delete(pool, vol_type, name, snap)
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
        crate::volume::check_name(name)?;
        let path = crate::fsutil::require_present(&self.mount_path(pool, vol_type, name))?;
        self.quota_set(pool, &path, size)
    }

    fn volume_usage(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<u64, StorageError> {
        crate::volume::check_name(name)?;
        let path = crate::fsutil::require_present(&self.mount_path(pool, vol_type, name))?;
        self.quota_usage(&path)
    }

    fn optimized_backups(&self) -> bool {
        true
    }

    fn send_volume(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        parent: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<(), StorageError> {
        self.send_volume_stream(pool, vol_type, name, parent, out)
    }

    fn backup_volume_optimized(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snapshots: &[String],
        work: &Path,
        sink: BackupSink<'_>,
    ) -> Result<(), StorageError> {
        self.backup_optimized(pool, vol_type, name, snapshots, work, sink)
    }

    fn create_volume_from_optimized_backup(
        &self,
        pool: &Pool,
        vol: &Volume,
        snapshots: &[String],
        header: Option<&[u8]>,
        open: BackupSource<'_>,
        prepare: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        self.restore_optimized(pool, vol, snapshots, header, open, prepare)
    }

    fn migration_streams(&self) -> bool {
        true
    }

    fn send_volume_migration(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        args: &MigrationArgs,
        channel: &mut dyn StreamChannel,
    ) -> Result<(), StorageError> {
        self.send_migration(pool, vol_type, name, args, channel)
    }

    fn create_volume_from_migration(
        &self,
        pool: &Pool,
        vol: &Volume,
        args: &MigrationArgs,
        channel: &mut dyn StreamChannel,
        prepare: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        self.receive_migration(pool, vol, args, channel, prepare)
    }
}
