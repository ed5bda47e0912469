//! REST types of the LXD 1.0 API, shared by the daemon and every client.
//!
//! Field names, field order and `omitempty` behaviour follow LXD 5.0.2's `shared/api` package,
//! because clients compare our JSON with the real daemon's. This crate does no I/O.

pub mod certificate;
pub mod envelope;
pub mod event;
pub mod extensions;
pub mod image;
pub mod instance;
pub mod null_default;
pub mod nullable_list;
pub mod operation;
pub mod profile;
pub mod project;
pub mod resources;
pub mod server;
pub mod status;
pub mod storage;
pub mod storage_volume;
pub mod warning;

pub use envelope::{Response, ResponseType};
pub use event::Event;
pub use operation::{Operation, OperationClass};
pub use profile::{Profile, ProfilePost, ProfilePut, ProfilesPost};
pub use project::Project;
pub use server::{Server, ServerEnvironment, ServerPut, ServerStorageDriverInfo, ServerUntrusted};
pub use status::StatusCode;
pub use storage::{StoragePool, StoragePoolPut, StoragePoolsPost};
pub use storage_volume::{
    StorageVolume, StorageVolumePost, StorageVolumePut, StorageVolumeSnapshot,
    StorageVolumeSnapshotPost, StorageVolumeSnapshotPut, StorageVolumeSnapshotsPost,
    StorageVolumeSource, StorageVolumeState, StorageVolumeStateUsage, StorageVolumesPost,
};
pub use warning::{Warning, WarningPut};

/// Config maps are string to string and marshal with sorted keys, as Go maps do.
pub type ConfigMap = std::collections::BTreeMap<String, String>;
/// Devices: device name to its string keys.
pub type DevicesMap = std::collections::BTreeMap<String, ConfigMap>;

/// Whether `device` is a root disk (`type: disk`, `path: /`), as LXD finds an instance's root.
pub fn is_root_disk(device: &ConfigMap) -> bool {
    device.get("type").map(String::as_str) == Some("disk")
        && device.get("path").map(String::as_str) == Some("/")
}
