//! Shifting a container's files on disk (LXD's `ShiftRootfs` / `UnshiftRootfs`), the fallback
//! where the kernel or filesystem cannot hand the rootfs over through an idmapped mount:
//! every entry's owner is rewritten through the container's id map, set-user-ID and
//! set-group-ID bits that `chown` clears are put back, named ACL entries are shifted and file
//! capabilities are rewritten for the container's root (or back for the host's).
//!
//! Symlinks are never followed; a hard-linked inode is changed once. Ids the map does not
//! cover are left as they are. Runs as host root on a stopped container's tree; the caller
//! records which map the tree is stored with (`volatile.last_state.idmap`).

pub mod xattrs;

use std::collections::HashSet;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use lxd_shared::idmap::{IdKind, IdmapSet};

/// Which way ids go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftDirection {
    /// Container ids to host ids: the tree becomes usable by the container (LXD's shift).
    ToHost,
    /// Host ids back to container ids (LXD's unshift).
    ToContainer,
}

/// Why a tree could not be shifted.
#[derive(Debug, thiserror::Error)]
pub enum ShiftError {
    #[error("No such file or directory: {0:?}")]
    Missing(PathBuf),
    #[error("Failed to {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ShiftError {
    let path = path.to_path_buf();
    move |source| ShiftError::Io {
        action,
        path,
        source,
    }
}

/// What a shift did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShiftSummary {
    /// Entries visited (each inode once).
    pub entries: u64,
    /// Entries whose owner changed.
    pub chowned: u64,
    /// File capabilities the filesystem refused in their new form (left dropped, as LXD
    /// leaves them with a warning).
    pub caps_lost: u64,
}

const CAPS: &str = "security.capability";
const ACL_ACCESS: &str = "system.posix_acl_access";
const ACL_DEFAULT: &str = "system.posix_acl_default";

struct Shifter<'a> {
    map: &'a IdmapSet,
    direction: ShiftDirection,
    summary: ShiftSummary,
}

impl Shifter<'_> {
    fn id(&self, kind: IdKind, id: u32) -> Option<u32> {
        let id = i64::from(id);
        let new = match self.direction {
            ShiftDirection::ToHost => self.map.ns_to_host(kind, id),
            ShiftDirection::ToContainer => self.map.host_to_ns(kind, id),
        };
        new.and_then(|v| u32::try_from(v).ok())
    }

    /// The capability xattr `caps` rewritten for the new owner side.
    fn caps(&self, caps: &[u8]) -> Option<Vec<u8>> {
        match self.direction {
            ShiftDirection::ToHost => {
                let root = self.id(IdKind::Uid, 0)?;
                xattrs::caps_for_root(caps, root)
            }
            ShiftDirection::ToContainer => xattrs::caps_for_host_root(caps),
        }
    }

    fn entry(&mut self, path: &Path, meta: &std::fs::Metadata) -> Result<(), ShiftError> {
        let kind = meta.file_type();
        let symlink = kind.is_symlink();
        let caps = if kind.is_file() {
            read_xattr(path, CAPS)?
        } else {
            None
        };
        let uid = self
            .id(IdKind::Uid, meta.uid())
            .filter(|u| *u != meta.uid());
        let gid = self
            .id(IdKind::Gid, meta.gid())
            .filter(|g| *g != meta.gid());
        if uid.is_some() || gid.is_some() {
            std::os::unix::fs::lchown(path, uid, gid)
                .map_err(io_err("change the owner of", path))?;
            self.summary.chowned += 1;
            // chown clears set-user-ID and set-group-ID on everything but directories.
            if !symlink && !kind.is_dir() && meta.mode() & 0o6000 != 0 {
                let mode = std::fs::Permissions::from_mode(meta.mode() & 0o7777);
                std::fs::set_permissions(path, mode)
                    .map_err(io_err("restore the mode of", path))?;
            }
        }
        if !symlink {
            self.acl(path, ACL_ACCESS)?;
            if kind.is_dir() {
                self.acl(path, ACL_DEFAULT)?;
            }
        }
        if let Some(new) = caps.as_deref().and_then(|c| self.caps(c)) {
            if let Err(e) = xattr::set(path, CAPS, &new) {
                tracing::warn!(path = %path.display(), error = %e, "Unable to set file capabilities");
                self.summary.caps_lost += 1;
            }
        }
        Ok(())
    }

    fn acl(&self, path: &Path, name: &str) -> Result<(), ShiftError> {
        let Some(value) = read_xattr(path, name)? else {
            return Ok(());
        };
        let shifted = xattrs::shift_acl(
            &value,
            |u| self.id(IdKind::Uid, u),
            |g| self.id(IdKind::Gid, g),
        );
        if let Some(new) = shifted {
            xattr::set(path, name, &new).map_err(io_err("shift the ACL of", path))?;
        }
        Ok(())
    }
}

/// An xattr's value; `None` when absent or where the filesystem has no xattrs at all.
fn read_xattr(path: &Path, name: &str) -> Result<Option<Vec<u8>>, ShiftError> {
    match xattr::get(path, name) {
        Ok(value) => Ok(value),
        Err(e) if e.raw_os_error() == Some(nix::libc::EOPNOTSUPP) => Ok(None),
        Err(e) => Err(io_err("read the extended attributes of", path)(e)),
    }
}

/// Shift every entry of the tree at `root` (itself included) through `map` in `direction`.
pub fn shift_tree(
    root: &Path,
    map: &IdmapSet,
    direction: ShiftDirection,
) -> Result<ShiftSummary, ShiftError> {
    let root_meta = match std::fs::symlink_metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ShiftError::Missing(root.to_path_buf()))
        }
        Err(e) => return Err(io_err("read", root)(e)),
    };
    let mut shifter = Shifter {
        map,
        direction,
        summary: ShiftSummary::default(),
    };
    let mut seen_links = HashSet::new();
    let mut stack = vec![(root.to_path_buf(), root_meta)];
    while let Some((path, meta)) = stack.pop() {
        if meta.nlink() > 1 && !meta.is_dir() && !seen_links.insert((meta.dev(), meta.ino())) {
            continue;
        }
        shifter.summary.entries += 1;
        shifter.entry(&path, &meta)?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path).map_err(io_err("list", &path))?;
            for entry in entries {
                let entry = entry.map_err(io_err("list", &path))?;
                let child = entry.path();
                let meta = std::fs::symlink_metadata(&child).map_err(io_err("read", &child))?;
                stack.push((child, meta));
            }
        }
    }
    Ok(shifter.summary)
}

#[cfg(test)]
mod tests;
