//! Instance snapshots (`shared/api/instance_snapshot.go`).

use serde::{Deserialize, Serialize};

use super::{zero_time, InstancePostTarget};
use crate::{ConfigMap, DevicesMap};

/// Body of `POST /1.0/instances/<name>/snapshots`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceSnapshotsPost {
    /// Empty means the next name from `snapshots.pattern`.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub stateful: bool,
    /// `None` (null) means `snapshots.expiry` decides.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Body of `POST /1.0/instances/<name>/snapshots/<snap>`: a rename, or a migration source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceSnapshotPost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub target: Option<InstancePostTarget>,
    #[serde(default, skip_serializing_if = "super::is_false")]
    pub live: bool,
}

/// The writable part of a snapshot: only its expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSnapshotPut {
    #[serde(default = "zero_time")]
    pub expires_at: String,
}

impl Default for InstanceSnapshotPut {
    fn default() -> Self {
        Self {
            expires_at: zero_time(),
        }
    }
}

/// A snapshot as served by `GET /1.0/instances/<name>/snapshots/<snap>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSnapshot {
    /// Go's zero time when the snapshot never expires.
    #[serde(default = "zero_time")]
    pub expires_at: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default = "zero_time")]
    pub created_at: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub devices: DevicesMap,
    #[serde(default)]
    pub ephemeral: bool,
    #[serde(
        default,
        skip_serializing_if = "ConfigMap::is_empty",
        deserialize_with = "crate::null_default::deserialize"
    )]
    pub expanded_config: ConfigMap,
    #[serde(
        default,
        skip_serializing_if = "DevicesMap::is_empty",
        deserialize_with = "crate::null_default::deserialize"
    )]
    pub expanded_devices: DevicesMap,
    #[serde(default = "zero_time")]
    pub last_used_at: String,
    /// The snapshot's own name (without `instance/`).
    pub name: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub profiles: Vec<String>,
    #[serde(default)]
    pub stateful: bool,
    /// Bytes used, or `-1` when the driver cannot tell.
    #[serde(default)]
    pub size: i64,
}

impl Default for InstanceSnapshot {
    fn default() -> Self {
        Self {
            expires_at: zero_time(),
            architecture: String::new(),
            config: ConfigMap::new(),
            created_at: zero_time(),
            devices: DevicesMap::new(),
            ephemeral: false,
            expanded_config: ConfigMap::new(),
            expanded_devices: DevicesMap::new(),
            last_used_at: zero_time(),
            name: String::new(),
            profiles: Vec::new(),
            stateful: false,
            size: -1,
        }
    }
}

impl InstanceSnapshot {
    /// The writable part, as edited and hashed for the ETag.
    pub fn writable(&self) -> InstanceSnapshotPut {
        InstanceSnapshotPut {
            expires_at: self.expires_at.clone(),
        }
    }
}
