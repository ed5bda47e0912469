//! The crate's error type; texts follow LXD's where LXD has one.
//!
//! This module only describes failures; it never decides how they map to HTTP (the daemon does).

use std::path::{Path, PathBuf};

use lxd_sys::command::CommandError;
use thiserror::Error;

/// What an unpacking closure handed to a driver may fail with.
pub type FillError = Box<dyn std::error::Error + Send + Sync>;

/// What a driver refused or failed to do; texts follow LXD's.
#[derive(Debug, Error)]
pub enum StorageError {
    #[error("Invalid option {0:?}")]
    UnknownOption(String),
    #[error("Source path '{0}' doesn't exist")]
    MissingSource(PathBuf),
    #[error("Source path '{0}' isn't empty")]
    SourceNotEmpty(PathBuf),
    #[error("Pool source cannot be changed when not in pending state")]
    SourceChanged,
    #[error("Invalid value for option {key:?}: {reason}")]
    InvalidValue { key: String, reason: String },
    #[error("Provided path does not reside on a btrfs filesystem")]
    NotBtrfs(PathBuf),
    #[error("Requested btrfs subvolume exists but is not empty")]
    SubvolumeNotEmpty(PathBuf),
    #[error("Only allowed source path under {lxd_dir:?} is {mount:?}")]
    SourceUnderLxdDir { lxd_dir: PathBuf, mount: PathBuf },
    #[error("Volume {0:?} already exists")]
    VolumeExists(PathBuf),
    #[error("Volume {0:?} not found")]
    VolumeNotFound(PathBuf),
    #[error("Cannot remove a volume that has snapshots")]
    HasSnapshots,
    #[error("Snapshot not found")]
    SnapshotNotFound,
    #[error("Invalid volume name {0:?}")]
    InvalidVolumeName(String),
    #[error("{0} is not supported by this driver")]
    NotSupported(&'static str),
    #[error("Failed to fill volume {path}")]
    Fill {
        path: PathBuf,
        #[source]
        source: FillError,
    },
    #[error("Failed to {action} {path}")]
    Command {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: CommandError,
    },
    #[error("No matching subvolume(s) for {0:?} found in subvolumes list")]
    NoSubvolumes(PathBuf),
    #[error("Error parsing optimized backup header file: {0}")]
    BadBackupHeader(String),
    #[error("Could not find {0:?}")]
    BackupFileMissing(String),
    #[error("Cannot restore volume, already exists on target")]
    RestoreTargetExists,
    #[error("Failed to add {name} to the backup")]
    BackupSink {
        name: String,
        #[source]
        source: FillError,
    },
    #[error("{0}")]
    Transfer(String),
    #[error("Unexpected output of {0:?}")]
    UnexpectedOutput(&'static str),
    #[error("Failed to {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    /// An I/O error adapter for `map_err`: `.map_err(StorageError::io("create", &path))`.
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }

    /// A command error adapter for `map_err`.
    pub(crate) fn cmd(action: &'static str, path: &Path) -> impl FnOnce(CommandError) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Command {
            action,
            path,
            source,
        }
    }
}
