//! The `StorageDriver` trait and its error type.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A pool's config keys.
pub type PoolConfig = BTreeMap<String, String>;

/// A driver's name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    pub name: &'static str,
    pub version: String,
}

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
    #[error("Invalid value for {key:?}: {reason}")]
    InvalidValue { key: String, reason: String },
    #[error("Failed to {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

/// A storage driver: creates and removes pools on the host.
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

    /// Create the pool at `mount` from its filled config.
    fn create_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError>;

    /// Remove the pool's structure; the data of a user-given `source` is left alone.
    fn delete_pool(&self, config: &PoolConfig, mount: &Path) -> Result<(), StorageError>;
}
