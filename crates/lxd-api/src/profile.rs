//! Profiles (`shared/api/profile.go`).

use serde::{Deserialize, Serialize};

use crate::{ConfigMap, DevicesMap};

/// The writable part of a profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfilePut {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub devices: DevicesMap,
}

/// A profile as served by `GET /1.0/profiles/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub devices: DevicesMap,
    pub name: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub used_by: Vec<String>,
}

impl Profile {
    /// The writable part, as edited and hashed for the ETag.
    pub fn writable(&self) -> ProfilePut {
        ProfilePut {
            config: self.config.clone(),
            description: self.description.clone(),
            devices: self.devices.clone(),
        }
    }
}

/// Body of `POST /1.0/profiles`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfilesPost {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub devices: DevicesMap,
    pub name: String,
}

/// Body of `POST /1.0/profiles/<name>` (rename).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfilePost {
    pub name: String,
}
