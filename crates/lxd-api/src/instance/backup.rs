//! Instance backups (`shared/api/instance_backup.go`), listed in recursion=2 instance records.

use serde::{Deserialize, Serialize};

use super::zero_time;

/// Body of `POST /1.0/instances/<name>/backups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceBackupsPost {
    /// Empty means `backup0`, `backup1` ...
    #[serde(default)]
    pub name: String,
    #[serde(default = "zero_time")]
    pub expires_at: String,
    #[serde(default)]
    pub instance_only: bool,
    /// Deprecated spelling of `instance_only`.
    #[serde(default)]
    pub container_only: bool,
    #[serde(default)]
    pub optimized_storage: bool,
    /// Empty means the server's `backups.compression_algorithm`.
    #[serde(default)]
    pub compression_algorithm: String,
}

impl Default for InstanceBackupsPost {
    fn default() -> Self {
        Self {
            name: String::new(),
            expires_at: zero_time(),
            instance_only: false,
            container_only: false,
            optimized_storage: false,
            compression_algorithm: String::new(),
        }
    }
}

/// A backup as served by `GET /1.0/instances/<name>/backups/<backup>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceBackup {
    pub name: String,
    #[serde(default = "zero_time")]
    pub created_at: String,
    #[serde(default = "zero_time")]
    pub expires_at: String,
    #[serde(default)]
    pub instance_only: bool,
    #[serde(default)]
    pub container_only: bool,
    #[serde(default)]
    pub optimized_storage: bool,
}

/// Body of `POST /1.0/instances/<name>/backups/<backup>` (rename).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceBackupPost {
    pub name: String,
}
