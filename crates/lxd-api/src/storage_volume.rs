//! Storage volumes and their snapshots (`shared/api/storage_pool_volume.go`,
//! `storage_pool_volume_snapshot.go`, `storage_pool_volume_state.go` of LXD 5.0.2).

use serde::{Deserialize, Serialize};

use crate::ConfigMap;

/// The writable part of a volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumePut {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    /// Name of a snapshot to restore.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore: String,
}

/// A volume as served by `GET /1.0/storage-pools/<pool>/volumes/<type>/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolume {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    pub name: String,
    #[serde(rename = "type")]
    pub vol_type: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub used_by: Vec<String>,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub created_at: String,
}

/// Where a new volume comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSource {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub source_type: String,
    #[serde(default)]
    pub pool: String,
    #[serde(default)]
    pub certificate: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation: String,
    #[serde(
        default,
        rename = "secrets",
        skip_serializing_if = "ConfigMap::is_empty",
        deserialize_with = "crate::null_default::deserialize"
    )]
    pub websockets: ConfigMap,
    #[serde(default)]
    pub volume_only: bool,
    #[serde(default)]
    pub refresh: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
}

/// Body of `POST /1.0/storage-pools/<pool>/volumes[/<type>]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumesPost {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub vol_type: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub source: StorageVolumeSource,
    #[serde(default)]
    pub content_type: String,
}

/// Body of `POST /1.0/storage-pools/<pool>/volumes/<type>/<name>` (rename or move).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumePost {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pool: String,
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub target: Option<serde_json::Value>,
    #[serde(default)]
    pub volume_only: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
}

/// Body of `POST .../volumes/<type>/<name>/snapshots`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSnapshotsPost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// The writable part of a volume snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSnapshotPut {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A volume snapshot. LXD's listing names it `<volume>/<snap>` with a `null` expiry when it
/// has none and an empty content type; a single `GET` names it `<snap>` with both filled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSnapshot {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    pub name: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub created_at: String,
}

/// Body of `POST .../snapshots/<snap>` (rename).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSnapshotPost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub target: Option<serde_json::Value>,
}

/// `GET .../volumes/<type>/<name>/state`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeState {
    pub usage: Option<StorageVolumeStateUsage>,
}

/// Space used by a volume (`total` is -1 without a quota).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeStateUsage {
    pub used: u64,
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_volume_serialises_in_lxd_field_order() {
        let v = StorageVolume {
            config: [("size".to_string(), "1GiB".to_string())].into(),
            name: "v1".into(),
            vol_type: "custom".into(),
            location: "none".into(),
            content_type: "filesystem".into(),
            project: "default".into(),
            created_at: "0001-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"config":{"size":"1GiB"},"description":"","name":"v1","type":"custom","used_by":[],"location":"none","content_type":"filesystem","project":"default","created_at":"0001-01-01T00:00:00Z"}"#
        );
    }

    #[test]
    fn snapshot_serialises_in_lxd_field_order() {
        let s = StorageVolumeSnapshot {
            name: "v3/s1".into(),
            created_at: "0001-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"description":"","expires_at":null,"name":"v3/s1","config":{},"content_type":"","created_at":"0001-01-01T00:00:00Z"}"#
        );
    }

    #[test]
    fn volumes_post_reads_go_nulls() {
        let p: StorageVolumesPost =
            serde_json::from_str(r#"{"name":"v","config":null,"source":null}"#).unwrap();
        assert_eq!(p.name, "v");
        assert!(p.config.is_empty() && p.source.name.is_empty());
    }
}
