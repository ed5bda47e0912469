//! Storage pools (`shared/api/storage_pool.go`).

use serde::{Deserialize, Serialize};

use crate::ConfigMap;

/// The writable part of a pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoragePoolPut {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
}

/// A storage pool as served by `GET /1.0/storage-pools/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoragePool {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    pub name: String,
    pub driver: String,
    /// Go marshals an empty list here as `null`.
    #[serde(default, with = "crate::nullable_list")]
    pub used_by: Vec<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub locations: Vec<String>,
}

impl StoragePool {
    /// The writable part, as edited and hashed for the ETag.
    pub fn writable(&self) -> StoragePoolPut {
        StoragePoolPut {
            config: self.config.clone(),
            description: self.description.clone(),
        }
    }
}

/// Body of `POST /1.0/storage-pools`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoragePoolsPost {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    pub name: String,
    pub driver: String,
}
