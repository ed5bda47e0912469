//! Mounts added to or removed from a running container (LXD's live `insertMount` and
//! `removeMount`), run by `lxd forkmount JOB`: the source is opened as host root in the
//! host's mount namespace (mapped through the container's user namespace for storage
//! volumes), then the helper joins the container and attaches it, creating the mount point
//! like the source (a directory or a file). Removal unmounts and deletes the mount point.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::mount::{mount, MsFlags};
use serde::{Deserialize, Serialize};

use super::namespaces::{self, EnterError, Wanted};
use crate::container::VolumeBind;

/// What to do in the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum MountAction {
    /// Mount `bind.source` on `bind.target` inside.
    Attach { bind: VolumeBind },
    /// Unmount `target` inside, then delete the mount point.
    Detach { target: PathBuf },
}

/// A job for `lxd forkmount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountJob {
    /// The container's init.
    pub init_pid: i32,
    pub action: MountAction,
}

/// Why the mount could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum HotplugMountError {
    #[error("Failed to open {0}")]
    Source(PathBuf, #[source] std::io::Error),
    #[error(transparent)]
    Enter(#[from] EnterError),
    #[error("Failed to create the mount point {0}")]
    MountPoint(PathBuf, #[source] std::io::Error),
    #[error("Failed to mount on {0}")]
    Attach(PathBuf, #[source] std::io::Error),
    #[error("Failed to make {0} read-only")]
    ReadOnly(PathBuf, #[source] nix::Error),
    #[error("Failed to unmount {0}")]
    Detach(PathBuf, #[source] std::io::Error),
}

/// The detached tree to attach: mapped through the container's user namespace when asked and
/// possible, else a plain clone.
fn open_source(init_pid: i32, bind: &VolumeBind) -> Result<OwnedFd, HotplugMountError> {
    let source = |e| HotplugMountError::Source(bind.source.clone(), e);
    if bind.idmap {
        let userns = std::fs::File::open(format!("/proc/{init_pid}/ns/user")).map_err(source)?;
        if lxd_sys::mount_api::can_idmap_mount(&bind.source, userns.as_fd()) {
            let tree =
                lxd_sys::mount_api::clone_tree(&bind.source, bind.recursive).map_err(source)?;
            lxd_sys::mount_api::mount_setattr_idmap(tree.as_fd(), userns.as_fd(), bind.recursive)
                .map_err(source)?;
            return Ok(tree);
        }
    }
    lxd_sys::mount_api::clone_tree(&bind.source, bind.recursive).map_err(source)
}

fn make_mount_point(target: &Path, is_dir: bool) -> std::io::Result<()> {
    if is_dir {
        return std::fs::create_dir_all(target);
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if std::fs::symlink_metadata(target).is_err() {
        std::fs::File::create(target)?;
    }
    Ok(())
}

fn attach(init_pid: i32, bind: &VolumeBind) -> Result<(), HotplugMountError> {
    let tree = open_source(init_pid, bind)?;
    let is_dir = bind.source.is_dir();
    namespaces::enter(
        init_pid,
        Wanted {
            net: false,
            mnt: true,
        },
    )?;
    let target = &bind.target;
    make_mount_point(target, is_dir)
        .map_err(|e| HotplugMountError::MountPoint(target.clone(), e))?;
    lxd_sys::mount_api::move_mount(tree.as_fd(), target)
        .map_err(|e| HotplugMountError::Attach(target.clone(), e))?;
    if bind.readonly {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
            .map_err(|e| HotplugMountError::ReadOnly(target.clone(), e))?;
    }
    Ok(())
}

fn detach(init_pid: i32, target: &Path) -> Result<(), HotplugMountError> {
    namespaces::enter(
        init_pid,
        Wanted {
            net: false,
            mnt: true,
        },
    )?;
    match lxd_sys::mount_api::unmount(target, true) {
        Ok(()) => {}
        // Not mounted (or already gone): still remove what is left of the mount point.
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(nix::libc::EINVAL | nix::libc::ENOENT)
            ) => {}
        Err(e) => return Err(HotplugMountError::Detach(target.to_path_buf(), e)),
    }
    // As LXD: a directory that still holds files (it was mounted over) stays.
    let removed = match std::fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => std::fs::remove_dir(target),
        Ok(_) => std::fs::remove_file(target),
        Err(_) => Ok(()),
    };
    if let Err(e) = removed {
        eprintln!("Could not remove the device path inside container: {e}");
    }
    Ok(())
}

/// Run a job; the caller must be a single-threaded process (it joins a mount namespace).
pub fn run(job: &MountJob) -> Result<(), HotplugMountError> {
    match &job.action {
        MountAction::Attach { bind } => attach(job.init_pid, bind),
        MountAction::Detach { target } => detach(job.init_pid, target),
    }
}
