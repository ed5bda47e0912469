//! Storage drivers behind one trait. Drivers act on the filesystem and external tools only (all
//! run through an injected `CommandRunner`); the daemon's storage backend records their results
//! in the database. The btrfs driver sends and receives volumes as `btrfs send` streams, for
//! optimized backups and for migrations to another btrfs pool ([`migration`]).

pub mod btrfs;
pub mod config;
pub mod dir;
pub mod driver;
pub mod error;
pub mod fsutil;
pub mod generic;
pub mod migration;
pub mod rsync;
pub mod volume;

use std::sync::{Arc, OnceLock};

use lxd_sys::command::{CommandRunner, RealCommandRunner};

pub use driver::{BackupSink, BackupSource, DriverInfo, Filler, PoolConfig, StorageDriver};
pub use error::{FillError, StorageError};
pub use migration::{MigrationArgs, StreamChannel};
pub use volume::{ContentType, Pool, Volume, VolumeType};

/// Drivers this build supports on this host, as listed in `storage_supported_drivers`
/// (`btrfs` only when `btrfs-progs` is installed; probed once).
pub fn supported_drivers() -> Vec<DriverInfo> {
    static BTRFS: OnceLock<Option<DriverInfo>> = OnceLock::new();
    let mut drivers = vec![dir::DirDriver::default().info()];
    let btrfs = BTRFS.get_or_init(|| btrfs::BtrfsDriver::default().probe());
    drivers.extend(btrfs.iter().cloned());
    drivers
}

/// The driver called `name`, running real tools.
pub fn driver(name: &str) -> Option<Box<dyn StorageDriver>> {
    driver_with(name, Arc::new(RealCommandRunner))
}

/// The driver called `name`, running its tools through `runner`.
pub fn driver_with(name: &str, runner: Arc<dyn CommandRunner>) -> Option<Box<dyn StorageDriver>> {
    match name {
        "dir" => Some(Box::new(dir::DirDriver::new(runner))),
        "btrfs" => Some(Box::new(btrfs::BtrfsDriver::new(runner))),
        _ => None,
    }
}
