//! The `StorageDriver` trait: what every driver (dir, btrfs; later zfs, lvm) does on the host.
//!
//! Drivers act on the filesystem and external tools only; they never touch the database and
//! never decide names (the daemon's storage backend passes storage names, see [`crate::volume`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub use crate::error::{FillError, StorageError};
use crate::migration::{MigrationArgs, StreamChannel};
use crate::volume::{self, Pool, Volume, VolumeType, ALL_VOLUME_TYPES};

/// A pool's config keys.
pub type PoolConfig = BTreeMap<String, String>;

/// A driver's name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    pub name: &'static str,
    pub version: String,
}

/// Fills a freshly created, empty volume directory (unpacks an image into it).
pub type Filler<'a> = &'a mut dyn FnMut(&Path) -> Result<(), FillError>;

/// Receives one file of an optimized backup: its name in the tarball (`backup/container.bin`)
/// and where it was written; the file is removed once the callback returns.
pub type BackupSink<'a> = &'a mut dyn FnMut(&str, &Path) -> Result<(), FillError>;

/// Opens one file of an optimized backup by its name in the tarball.
pub type BackupSource<'a> = &'a mut dyn FnMut(&str) -> Result<Box<dyn Read + Send>, FillError>;

/// A storage driver: pools, volumes, snapshots and quotas on the host.
///
/// Volume names are storage names; `parent/snap` names a snapshot wherever a method says it
/// accepts one. Every method is synchronous and may run external tools.
pub trait StorageDriver: Send + Sync {
    /// Name and version.
    fn info(&self) -> DriverInfo;

    /// Check a pool config and fill in defaults (such as `source` = `default_mount`).
    fn fill_pool_config(
        &self,
        config: &mut PoolConfig,
        default_mount: &Path,
    ) -> Result<(), StorageError>;

    /// Check an edit of an existing pool's config.
    fn validate_pool_update(&self, old: &PoolConfig, new: &PoolConfig) -> Result<(), StorageError>;

    /// Create the pool at `mount` from its filled config; it is left mounted.
    fn create_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError>;

    /// Remove the pool's structure; the data of a user-given `source` is left alone.
    fn delete_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError>;

    /// Apply an accepted config change (`changed` holds the new values of changed keys).
    fn update_pool(&self, _pool: &Pool, _changed: &PoolConfig) -> Result<(), StorageError> {
        Ok(())
    }

    /// Make the pool available at its mount path; `Ok(true)` when this call mounted it.
    fn mount_pool(&self, _pool: &Pool) -> Result<bool, StorageError> {
        Ok(false)
    }

    /// Release the pool's mount (and loop device); `Ok(true)` when this call unmounted it.
    fn unmount_pool(&self, _pool: &Pool) -> Result<bool, StorageError> {
        Ok(false)
    }

    /// Volume types the driver stores.
    fn volume_types(&self) -> &'static [VolumeType] {
        ALL_VOLUME_TYPES
    }

    /// Where volume (or snapshot `parent/snap`) `name` of `vol_type` is mounted.
    fn mount_path(&self, pool: &Pool, vol_type: VolumeType, name: &str) -> PathBuf {
        volume::volume_path(&pool.mount, vol_type, name)
    }

    /// Create an empty volume (a block volume gets a sparse `root.img`); returns its path.
    fn create_volume(&self, pool: &Pool, vol: &Volume) -> Result<PathBuf, StorageError>;

    /// Create an instance volume from image `fingerprint`. `fill` unpacks the image into an
    /// empty directory: btrfs calls it once per pool for `images/<fp>` and snapshots that; dir
    /// moves the ready volume into place when there is one, else calls it on the new volume.
    fn create_volume_from_image(
        &self,
        pool: &Pool,
        vol: &Volume,
        fingerprint: &str,
        fill: Filler<'_>,
    ) -> Result<PathBuf, StorageError>;

    /// Whether the driver keeps a ready instance volume per image (dir), which the daemon
    /// refills with [`StorageDriver::prepare_image_volume`] after each instance takes it.
    fn has_ready_volumes(&self) -> bool {
        false
    }

    /// Unpack image `fingerprint` through `fill` into the volume the next instance created
    /// from it takes (nothing when one is there, or the driver keeps none).
    fn prepare_image_volume(
        &self,
        _pool: &Pool,
        _fingerprint: &str,
        _fill: Filler<'_>,
    ) -> Result<(), StorageError> {
        Ok(())
    }

    /// Delete a volume; refused while it has snapshots. A missing volume is not an error.
    fn delete_volume(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<(), StorageError>;

    /// Rename a volume and its snapshots directory.
    fn rename_volume(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        old: &str,
        new: &str,
    ) -> Result<(), StorageError>;

    /// Names of the snapshots of a volume, sorted.
    fn list_snapshots(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<Vec<String>, StorageError> {
        crate::fsutil::list_dir(&volume::snapshots_path(&pool.mount, vol_type, name))
    }

    /// Take snapshot `snap` of volume `name` (read-only where the driver can); returns its path.
    fn create_snapshot(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<PathBuf, StorageError>;

    /// Delete snapshot `snap` of volume `name`.
    fn delete_snapshot(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<(), StorageError>;

    /// Replace the content of volume `name` by its snapshot `snap`.
    fn restore_snapshot(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        snap: &str,
    ) -> Result<(), StorageError>;

    /// Copy volume (or snapshot `parent/snap`) `src` of `src_type` into the new volume `dst`,
    /// with the source's snapshots when `with_snapshots`; returns the new volume's path.
    fn copy_volume(
        &self,
        pool: &Pool,
        src_type: VolumeType,
        src: &str,
        dst: &Volume,
        with_snapshots: bool,
    ) -> Result<PathBuf, StorageError>;

    /// Limit a filesystem volume to `size` bytes (`None` removes the limit). Drivers that cannot
    /// enforce quotas on the backing filesystem accept and ignore it, as LXD's dir driver does.
    fn set_quota(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
        size: Option<u64>,
    ) -> Result<(), StorageError>;

    /// Bytes used by a volume.
    fn volume_usage(
        &self,
        pool: &Pool,
        vol_type: VolumeType,
        name: &str,
    ) -> Result<u64, StorageError>;

    /// Whether the driver writes its own optimized backup format (LXD's `OptimizedBackups`);
    /// when not, LXD silently makes a plain backup instead.
    fn optimized_backups(&self) -> bool {
        false
    }

    /// Write volume (or snapshot `parent/snap`) `name` to `out` in the driver's stream format
    /// (`btrfs send`); with `parent` (a snapshot of the same volume, `volume/snap`) only the
    /// difference from it. The stream is copied as it is produced, never held in memory.
    fn send_volume(
        &self,
        _pool: &Pool,
        _vol_type: VolumeType,
        _name: &str,
        _parent: Option<&str>,
        _out: &mut dyn Write,
    ) -> Result<(), StorageError> {
        Err(StorageError::NotSupported("Sending a volume"))
    }

    /// Write the optimized backup files of volume `name` and its `snapshots` (oldest first):
    /// each is made in `work` and handed to `sink` with its tarball name, in LXD's order.
    fn backup_volume_optimized(
        &self,
        _pool: &Pool,
        _vol_type: VolumeType,
        _name: &str,
        _snapshots: &[String],
        _work: &Path,
        _sink: BackupSink<'_>,
    ) -> Result<(), StorageError> {
        Err(StorageError::NotSupported("Optimized backup"))
    }

    /// Create volume `vol` and its `snapshots` (oldest first) by receiving the streams of an
    /// optimized backup that `open` reads; `header` is `backup/optimized_header.yaml` when the
    /// backup has one. `prepare` sees each restored volume (snapshots first) while it is still
    /// writable. Returns the new volume's path; nothing is left behind on failure.
    fn create_volume_from_optimized_backup(
        &self,
        _pool: &Pool,
        _vol: &Volume,
        _snapshots: &[String],
        _header: Option<&[u8]>,
        _open: BackupSource<'_>,
        _prepare: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        Err(StorageError::NotSupported("Restoring an optimized backup"))
    }

    /// Whether the driver moves volumes to a pool of its own kind in its own stream format
    /// (LXD offers `BTRFS` before `RSYNC` for such pools).
    fn migration_streams(&self) -> bool {
        false
    }

    /// Send volume (or snapshot `parent/snap`) `name` and `args.snapshots` over `channel` in
    /// the driver's stream format, as the migration target's driver expects them.
    fn send_volume_migration(
        &self,
        _pool: &Pool,
        _vol_type: VolumeType,
        _name: &str,
        _args: &MigrationArgs,
        _channel: &mut dyn StreamChannel,
    ) -> Result<(), StorageError> {
        Err(StorageError::NotSupported("Optimized migration"))
    }

    /// Create (or with `args.refresh` bring up to date) volume `vol` and its snapshots from
    /// the streams a peer driver of the same kind sends. `prepare` sees each received volume
    /// (snapshots first) while it is still writable. Returns the volume's path; what was
    /// created is removed again on failure.
    fn create_volume_from_migration(
        &self,
        _pool: &Pool,
        _vol: &Volume,
        _args: &MigrationArgs,
        _channel: &mut dyn StreamChannel,
        _prepare: Filler<'_>,
    ) -> Result<PathBuf, StorageError> {
        Err(StorageError::NotSupported("Optimized migration"))
    }
}
