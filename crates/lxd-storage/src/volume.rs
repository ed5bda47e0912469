//! Pools and volumes as drivers see them, and LXD's on-disk layout of a pool.
//!
//! A pool at `$POOL` holds `containers/<name>`, `containers-snapshots/<name>/<snap>`,
//! `images/<fingerprint>`, `custom/<project>_<name>` ... Names given to drivers are storage names
//! (already project-prefixed, see [`instance_storage_name`] and [`custom_storage_name`]); a name
//! `parent/snap` designates a snapshot. This module does no I/O.

use std::path::{Path, PathBuf};

use crate::driver::PoolConfig;
use crate::error::StorageError;

/// LXD's default size of block volumes (`defaultBlockSize`).
pub const DEFAULT_BLOCK_SIZE: u64 = 10 << 30;

/// File holding a block volume's data inside its volume directory (`genericVolumeDiskFile`).
pub const BLOCK_FILE: &str = "root.img";

/// Suffix of temporary volumes kept during a restore (`tmpVolSuffix`).
pub const TMP_SUFFIX: &str = ".lxdtmp";

/// A pool handed to a driver: its name, where it is mounted and its filled config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    pub mount: PathBuf,
    pub config: PoolConfig,
}

impl Pool {
    /// A pool called `name` mounted at `mount`.
    pub fn new(name: &str, mount: &Path, config: PoolConfig) -> Self {
        Self {
            name: name.to_string(),
            mount: mount.to_path_buf(),
            config,
        }
    }
}

/// The kinds of volume a pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VolumeType {
    Container,
    VirtualMachine,
    Image,
    Custom,
}

/// Every volume type, in LXD's order.
pub const ALL_VOLUME_TYPES: &[VolumeType] = &[
    VolumeType::Container,
    VolumeType::VirtualMachine,
    VolumeType::Image,
    VolumeType::Custom,
];

impl VolumeType {
    /// The API name (`container`, `virtual-machine`, `image`, `custom`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::VirtualMachine => "virtual-machine",
            Self::Image => "image",
            Self::Custom => "custom",
        }
    }

    /// Parse an API name.
    pub fn parse(name: &str) -> Option<Self> {
        ALL_VOLUME_TYPES
            .iter()
            .copied()
            .find(|t| t.as_str() == name)
    }

    /// The pool sub-directory holding volumes of this type.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Container => "containers",
            Self::VirtualMachine => "virtual-machines",
            Self::Image => "images",
            Self::Custom => "custom",
        }
    }

    /// The pool sub-directory holding snapshots of volumes of this type.
    pub fn snapshots_dir(self) -> &'static str {
        match self {
            Self::Container => "containers-snapshots",
            Self::VirtualMachine => "virtual-machines-snapshots",
            Self::Image => "images-snapshots",
            Self::Custom => "custom-snapshots",
        }
    }

    /// Mode of a volume's root directory (`EnsureMountPath`): instances are locked down.
    pub fn root_mode(self) -> u32 {
        match self {
            Self::Custom | Self::Image => 0o711,
            Self::Container | Self::VirtualMachine => 0o100,
        }
    }
}

/// What a volume holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentType {
    #[default]
    Filesystem,
    Block,
}

impl ContentType {
    /// The API name (`filesystem`, `block`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filesystem => "filesystem",
            Self::Block => "block",
        }
    }
}

/// A volume to create or copy into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub vol_type: VolumeType,
    pub content_type: ContentType,
    /// Storage name (project-prefixed where LXD prefixes).
    pub name: String,
    /// Quota (filesystem) or size (block) in bytes; `None` for no quota / the default size.
    pub size: Option<u64>,
}

impl Volume {
    /// A filesystem volume without quota.
    pub fn filesystem(vol_type: VolumeType, name: &str) -> Self {
        Self {
            vol_type,
            content_type: ContentType::Filesystem,
            name: name.to_string(),
            size: None,
        }
    }
}

/// `parent/snap` split in two; `None` for a plain volume name.
pub fn split_snapshot(name: &str) -> Option<(&str, &str)> {
    name.split_once('/')
}

/// Where volume `name` (or snapshot `parent/snap`) of `vol_type` lives in a pool at `pool_mount`.
pub fn volume_path(pool_mount: &Path, vol_type: VolumeType, name: &str) -> PathBuf {
    match split_snapshot(name) {
        Some((parent, snap)) => pool_mount
            .join(vol_type.snapshots_dir())
            .join(parent)
            .join(snap),
        None => pool_mount.join(vol_type.dir()).join(name),
    }
}

/// The directory holding the snapshots of volume `name`.
pub fn snapshots_path(pool_mount: &Path, vol_type: VolumeType, name: &str) -> PathBuf {
    pool_mount.join(vol_type.snapshots_dir()).join(name)
}

/// The storage name of an instance: bare in the default project, else `<project>_<name>`.
pub fn instance_storage_name(project: &str, name: &str) -> String {
    if project == "default" {
        name.to_string()
    } else {
        format!("{project}_{name}")
    }
}

/// The storage name of a custom volume: always `<project>_<name>` (`project.StorageVolume`).
pub fn custom_storage_name(project: &str, name: &str) -> String {
    format!("{project}_{name}")
}

/// Refuse names that could escape their directory (empty, `.`, `..`, extra slashes).
pub fn check_name(name: &str) -> Result<(), StorageError> {
    let parts: Vec<&str> = name.split('/').collect();
    let ok = parts.len() <= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\0'));
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidVolumeName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_path_plain_and_snapshot_follow_lxd_layout() {
        let p = Path::new("/var/lib/lxd/storage-pools/p");
        assert_eq!(
            volume_path(p, VolumeType::Container, "c1"),
            p.join("containers/c1")
        );
        assert_eq!(
            volume_path(p, VolumeType::Container, "c1/snap0"),
            p.join("containers-snapshots/c1/snap0")
        );
        assert_eq!(
            volume_path(p, VolumeType::Custom, &custom_storage_name("default", "v")),
            p.join("custom/default_v")
        );
        assert_eq!(
            volume_path(p, VolumeType::VirtualMachine, "vm/s"),
            p.join("virtual-machines-snapshots/vm/s")
        );
        assert_eq!(
            volume_path(p, VolumeType::Image, "abc"),
            p.join("images/abc")
        );
    }

    #[test]
    fn storage_names_project_prefix_as_lxd() {
        assert_eq!(instance_storage_name("default", "c1"), "c1");
        assert_eq!(instance_storage_name("p1", "c1"), "p1_c1");
        assert_eq!(custom_storage_name("default", "v"), "default_v");
    }

    #[test]
    fn check_name_traversal_refused() {
        for bad in ["", "..", "a/../b", "a/b/c", "/a", "a/", "."] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        check_name("c1").unwrap();
        check_name("c1/snap0").unwrap();
    }

    #[test]
    fn volume_type_parse_round_trips() {
        for t in ALL_VOLUME_TYPES {
            assert_eq!(VolumeType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(VolumeType::parse("bucket"), None);
    }
}
