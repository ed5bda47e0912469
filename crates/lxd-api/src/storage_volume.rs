//! Storage volumes and their snapshots (`shared/api/storage_pool_volume*.go`), as the `lxc
//! storage volume` commands read and send them. Field order is Go's declaration order, since
//! `show` and `list --format json|yaml` print these structs again. No I/O here.

use serde::{Deserialize, Serialize};

use crate::ConfigMap;

/// The writable part of a volume (`api.StorageVolumePut`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumePut {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    /// Snapshot to restore; sent only when set.
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
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore: String,
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `None` when the server sent `null` (a nil slice), printed back as such.
    #[serde(default)]
    pub used_by: Option<Vec<String>>,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub content_type: String,
    #[serde(default)]
    pub project: String,
    #[serde(default = "zero_time")]
    pub created_at: String,
}

impl StorageVolume {
    /// The writable part (Go's `Writable()`).
    pub fn writable(&self) -> StorageVolumePut {
        StorageVolumePut {
            config: self.config.clone(),
            description: self.description.clone(),
            restore: self.restore.clone(),
        }
    }
}

/// Where a new volume's content comes from (`api.StorageVolumeSource`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSource {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
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

/// Body of `POST /1.0/storage-pools/<pool>/volumes/<type>` (`api.StorageVolumesPost`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumesPost {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub source: StorageVolumeSource,
    #[serde(default)]
    pub content_type: String,
}

/// Body of `POST /1.0/storage-pools/<pool>/volumes/<type>/<name>` (rename or move;
/// `api.StorageVolumePost` without migration targets, which this client does not send).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumePost {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pool: String,
    #[serde(default)]
    pub migration: bool,
    /// Always `null` from this client (no push migration).
    #[serde(default)]
    pub target: Option<serde_json::Value>,
    #[serde(default)]
    pub volume_only: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
}

/// Body of `POST .../snapshots` (`api.StorageVolumeSnapshotsPost`); `expires_at` set to the
/// zero time means "no expiry".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSnapshotsPost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Body of `POST .../snapshots/<name>` (rename).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSnapshotPost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub target: Option<serde_json::Value>,
}

/// The writable part of a snapshot (`api.StorageVolumeSnapshotPut`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeSnapshotPut {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A volume snapshot (`api.StorageVolumeSnapshot`).
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
    #[serde(default = "zero_time")]
    pub created_at: String,
}

/// Usage of a volume (`api.StorageVolumeStateUsage`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeStateUsage {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub used: u64,
    #[serde(default)]
    pub total: i64,
}

/// `GET .../state` (`api.StorageVolumeState`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageVolumeState {
    #[serde(default)]
    pub usage: Option<StorageVolumeStateUsage>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Go's zero `time.Time` as it marshals.
fn zero_time() -> String {
    "0001-01-01T00:00:00Z".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_volume_json_keeps_go_field_order() {
        let raw = r#"{"config":{"a":"1"},"description":"","name":"v1","type":"custom","used_by":[],"location":"none","content_type":"filesystem","project":"default","created_at":"0001-01-01T00:00:00Z"}"#;
        let vol: StorageVolume = serde_json::from_str(raw).unwrap();
        assert_eq!(serde_json::to_string(&vol).unwrap(), raw);
    }

    #[test]
    fn storage_volume_null_used_by_stays_null() {
        let vol: StorageVolume = serde_json::from_str(r#"{"name":"v","used_by":null}"#).unwrap();
        let v = serde_json::to_value(&vol).unwrap();
        assert!(v["used_by"].is_null());
    }

    #[test]
    fn storage_volume_put_omits_empty_restore() {
        let put = StorageVolumePut::default();
        assert_eq!(
            serde_json::to_string(&put).unwrap(),
            r#"{"config":{},"description":""}"#
        );
    }

    #[test]
    fn storage_volume_serialises_in_lxd_field_order() {
        let v = StorageVolume {
            config: [("size".to_string(), "1GiB".to_string())].into(),
            name: "v1".into(),
            kind: "custom".into(),
            used_by: Some(Vec::new()),
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
