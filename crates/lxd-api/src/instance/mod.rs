//! Instances (`shared/api/instance.go`): the records served under `/1.0/instances`, the bodies
//! that create, edit, rename and migrate them, and (in sub-modules) their state, exec, console,
//! snapshot and backup types.
//!
//! Field order is Go's struct order with embedded structs first; `omitempty` fields are skipped
//! when empty, and Go's `null` maps and lists read as empty. Nothing here validates values.

mod backup;
mod exec;
mod metadata;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use backup::{InstanceBackup, InstanceBackupPost, InstanceBackupsPost};
pub use exec::{
    InstanceConsoleControl, InstanceConsolePost, InstanceExecControl, InstanceExecPost,
};
pub use metadata::{InstanceMetadata, InstanceMetadataTemplate};
pub use snapshot::{
    InstanceSnapshot, InstanceSnapshotPost, InstanceSnapshotPut, InstanceSnapshotsPost,
};
pub use state::{
    InstanceState, InstanceStateCpu, InstanceStateDisk, InstanceStateMemory, InstanceStateNetwork,
    InstanceStateNetworkAddress, InstanceStateNetworkCounters, InstanceStatePut,
};

use crate::{ConfigMap, DevicesMap};

/// `type` of a container.
pub const TYPE_CONTAINER: &str = "container";
/// `type` of a virtual machine.
pub const TYPE_VM: &str = "virtual-machine";

/// Go's zero `time.Time`, as LXD marshals unset times.
pub(crate) fn zero_time() -> String {
    crate::image::ZERO_TIME.to_string()
}

/// Split `c1/snap0` into `("c1", "snap0", true)`; a plain name gives `(name, "", false)`.
pub fn parent_and_snapshot_name(name: &str) -> (&str, &str, bool) {
    match name.split_once('/') {
        Some((parent, snap)) => (parent, snap, true),
        None => (name, "", false),
    }
}

/// The writable part of an instance (`lxc config edit`, `PUT /1.0/instances/<name>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstancePut {
    #[serde(default)]
    pub architecture: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub devices: DevicesMap,
    #[serde(default)]
    pub ephemeral: bool,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub profiles: Vec<String>,
    /// Snapshot to restore (`PUT` only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore: String,
    #[serde(default)]
    pub stateful: bool,
    #[serde(default)]
    pub description: String,
}

/// An instance as served by `GET /1.0/instances/<name>` (and `?recursion=1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    #[serde(default)]
    pub architecture: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub devices: DevicesMap,
    #[serde(default)]
    pub ephemeral: bool,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub profiles: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore: String,
    #[serde(default)]
    pub stateful: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default = "zero_time")]
    pub created_at: String,
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
    pub name: String,
    #[serde(default)]
    pub status: String,
    /// A [`crate::StatusCode`] number (`102` stopped, `103` running, `110` frozen, `112` error).
    #[serde(default)]
    pub status_code: u16,
    #[serde(default = "zero_time")]
    pub last_used_at: String,
    /// `none` when the server is not clustered.
    #[serde(default)]
    pub location: String,
    /// `container` or `virtual-machine`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub project: String,
}

impl Instance {
    /// The writable part, as edited and hashed for the ETag.
    pub fn writable(&self) -> InstancePut {
        InstancePut {
            architecture: self.architecture.clone(),
            config: self.config.clone(),
            devices: self.devices.clone(),
            ephemeral: self.ephemeral,
            profiles: self.profiles.clone(),
            restore: self.restore.clone(),
            stateful: self.stateful,
            description: self.description.clone(),
        }
    }

    /// Whether the instance counts as active (anything but stopped or error), as LXD decides.
    pub fn is_active(&self) -> bool {
        !matches!(self.status_code, 102 | 112)
    }
}

/// An instance with its backups, state and snapshots (`?recursion=2`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceFull {
    #[serde(flatten)]
    pub instance: Instance,
    /// Go sends `null` when there are none.
    #[serde(default, with = "crate::nullable_list")]
    pub backups: Vec<InstanceBackup>,
    #[serde(default)]
    pub state: Option<InstanceState>,
    /// Go sends `null` when there are none.
    #[serde(default, with = "crate::nullable_list")]
    pub snapshots: Vec<InstanceSnapshot>,
}

/// Where a new instance comes from (`source` of `POST /1.0/instances`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceSource {
    /// `image`, `none`, `copy` or `migration`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub certificate: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
    #[serde(
        default,
        skip_serializing_if = "ConfigMap::is_empty",
        deserialize_with = "crate::null_default::deserialize"
    )]
    pub properties: ConfigMap,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret: String,
    /// `lxd` or `simplestreams`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
    #[serde(
        rename = "base-image",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub base_image: String,
    /// `pull`, `push` or `relay`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mode: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation: String,
    /// Websocket secrets of a migration source, by channel.
    #[serde(
        rename = "secrets",
        default,
        skip_serializing_if = "ConfigMap::is_empty",
        deserialize_with = "crate::null_default::deserialize"
    )]
    pub websockets: ConfigMap,
    /// The instance (or `instance/snapshot`) to copy.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub live: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub instance_only: bool,
    /// Deprecated spelling of `instance_only`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub container_only: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub refresh: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
    #[serde(default)]
    pub allow_inconsistent: bool,
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// Body of `POST /1.0/instances`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstancesPost {
    #[serde(default)]
    pub architecture: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: ConfigMap,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub devices: DevicesMap,
    #[serde(default)]
    pub ephemeral: bool,
    /// `None` (JSON null or absent) means `["default"]`; `Some([])` means no profiles.
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restore: String,
    #[serde(default)]
    pub stateful: bool,
    #[serde(default)]
    pub description: String,
    /// Empty means a generated name.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub source: InstanceSource,
    /// A cloud instance type (`t2.micro`, `c2-m4`) to derive limits from.
    #[serde(default)]
    pub instance_type: String,
    /// `container`, `virtual-machine`, or empty for any.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// Body of `PUT /1.0/instances` (bulk state change, `lxc stop --all`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstancesPut {
    #[serde(default)]
    pub state: Option<InstanceStatePut>,
}

/// Body of `POST /1.0/instances/<name>`: a rename, or with `migration` a migration source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstancePost {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub live: bool,
    #[serde(default)]
    pub instance_only: bool,
    /// Deprecated spelling of `instance_only`.
    #[serde(default)]
    pub container_only: bool,
    /// Push-mode target; `None` for pull mode.
    #[serde(default)]
    pub target: Option<InstancePostTarget>,
    #[serde(default)]
    pub pool: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub allow_inconsistent: bool,
}

/// Where a push-mode migration goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstancePostTarget {
    #[serde(default)]
    pub certificate: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operation: String,
    #[serde(
        rename = "secrets",
        default,
        skip_serializing_if = "ConfigMap::is_empty",
        deserialize_with = "crate::null_default::deserialize"
    )]
    pub websockets: ConfigMap,
}
