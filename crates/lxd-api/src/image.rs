//! Images and image aliases (`shared/api/image.go`).

use serde::{Deserialize, Serialize};

use crate::ConfigMap;

/// The writable part of an image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImagePut {
    #[serde(default)]
    pub auto_update: bool,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub properties: ConfigMap,
    #[serde(default)]
    pub public: bool,
    #[serde(default = "unix_epoch")]
    pub expires_at: String,
    /// `None` (JSON null) means the `default` profile.
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
}

/// Go's zero `time.Time` as LXD marshals it for `last_used_at`.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The `expires_at` of an image that never expires.
pub fn unix_epoch() -> String {
    "1970-01-01T00:00:00Z".to_string()
}

/// One alias as listed inside an image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageAlias {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Where a cached image came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageSource {
    pub alias: String,
    pub certificate: String,
    pub protocol: String,
    pub server: String,
    #[serde(default)]
    pub image_type: String,
}

/// An image as served by `GET /1.0/images/<fingerprint>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Image {
    #[serde(default)]
    pub auto_update: bool,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub properties: ConfigMap,
    #[serde(default)]
    pub public: bool,
    #[serde(default = "unix_epoch")]
    pub expires_at: String,
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub aliases: Vec<ImageAlias>,
    pub architecture: String,
    #[serde(default)]
    pub cached: bool,
    #[serde(default)]
    pub filename: String,
    pub fingerprint: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_source: Option<ImageSource>,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    pub last_used_at: String,
    pub uploaded_at: String,
}

impl Image {
    /// The writable part, as edited and hashed for the ETag.
    pub fn writable(&self) -> ImagePut {
        ImagePut {
            auto_update: self.auto_update,
            properties: self.properties.clone(),
            public: self.public,
            expires_at: self.expires_at.clone(),
            profiles: self.profiles.clone(),
        }
    }
}

/// An alias as served by `GET /1.0/images/aliases/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageAliasesEntry {
    #[serde(default)]
    pub description: String,
    pub target: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// Body of `POST /1.0/images/aliases`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageAliasesPost {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// Body of `PUT|PATCH /1.0/images/aliases/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageAliasesEntryPut {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub target: String,
}

/// Body of `POST /1.0/images/aliases/<name>` (rename).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageAliasesEntryPost {
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_round_trips_lxd_capture_byte_for_byte() {
        let json = r#"{"auto_update":false,"properties":{"description":"BusyBox test image","os":"BusyBox"},"public":false,"expires_at":"1970-01-01T00:00:00Z","profiles":["default"],"aliases":[{"name":"bb","description":""}],"architecture":"x86_64","cached":false,"filename":"bb.tar.gz","fingerprint":"1b8f6cf8b96baf00d526086660bb5e1add23a0e67125bb90e39cf66ab22567e7","size":1036706,"type":"container","created_at":"2026-11-28T00:15:16Z","last_used_at":"0001-01-01T00:00:00Z","uploaded_at":"2026-11-28T00:15:17.182223534Z"}"#;
        let image: Image = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&image).unwrap(), json);
    }

    #[test]
    fn alias_round_trips_lxd_capture() {
        let json = r#"{"description":"","target":"1b8f6cf8b96baf00d526086660bb5e1add23a0e67125bb90e39cf66ab22567e7","name":"bb","type":"container"}"#;
        let alias: ImageAliasesEntry = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&alias).unwrap(), json);
    }
}
