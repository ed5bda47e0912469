//! File-system operations confined to one directory tree.
//!
//! Every path is walked one component at a time with `openat(O_NOFOLLOW | O_DIRECTORY)` from
//! a descriptor of the root, and every object is created with `*at` calls relative to the
//! descriptor of its parent: nothing is ever written through a symlink, so no entry, however
//! the archive arranges its symlinks, can reach outside the root. This module knows nothing
//! about archives.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmodat, fstatat, mkdirat, FchmodatFlags, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{unlinkat, UnlinkatFlags};

/// Why a path could not be walked.
#[derive(Debug)]
pub enum WalkError {
    /// The named component (a prefix of the path) is a symlink or not a directory.
    NotADirectory(String),
    Io(io::Error),
}

impl From<Errno> for WalkError {
    fn from(errno: Errno) -> Self {
        Self::Io(errno.into())
    }
}

/// A directory tree that operations cannot leave.
pub struct Confined {
    root: OwnedFd,
    root_path: PathBuf,
    /// The last parent directory opened, reused while entries stay in one directory.
    last_parent: Option<(Vec<u8>, OwnedFd)>,
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

impl Confined {
    /// Open the root directory (the root itself may be reached through symlinks).
    pub fn open(root_path: &Path) -> io::Result<Self> {
        let root = File::open(root_path)?;
        if !root.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "target is not a directory",
            ));
        }
        Ok(Self {
            root: root.into(),
            root_path: root_path.to_path_buf(),
            last_parent: None,
        })
    }

    /// A descriptor of the root directory.
    pub fn root(&self) -> io::Result<OwnedFd> {
        self.root.try_clone()
    }

    /// Open the directory made of `components`, creating missing directories (mode 0755,
    /// reported to `created`) when `create` is set.
    pub fn open_dir(
        &mut self,
        components: &[&OsStr],
        create: bool,
        created: &mut Vec<PathBuf>,
    ) -> Result<OwnedFd, WalkError> {
        let key = join_key(components);
        if let Some((cached, fd)) = &self.last_parent {
            if *cached == key {
                return fd.try_clone().map_err(WalkError::Io);
            }
        }
        let mut current = self.root.try_clone().map_err(WalkError::Io)?;
        let mut walked = PathBuf::new();
        for component in components {
            walked.push(component);
            let next = match openat(&current, *component, dir_flags(), Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::ENOENT) if create => {
                    match mkdirat(&current, *component, Mode::from_bits_truncate(0o755)) {
                        Ok(()) => created.push(walked.clone()),
                        Err(Errno::EEXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    openat(&current, *component, dir_flags(), Mode::empty())
                        .map_err(|e| not_a_dir(e, &walked))?
                }
                Err(e) => return Err(not_a_dir(e, &walked)),
            };
            current = next;
        }
        self.last_parent = Some((key, current.try_clone().map_err(WalkError::Io)?));
        Ok(current)
    }

    /// Forget the cached parent (after a directory in the tree was removed).
    pub fn forget_cache(&mut self) {
        self.last_parent = None;
    }

    /// Make room for a new object `name` in `parent`: remove an existing non-directory, or an
    /// empty directory unless `keep_dir`. Returns whether a directory was kept.
    pub fn clear_slot(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        keep_dir: bool,
    ) -> io::Result<bool> {
        let stat = match fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            Err(Errno::ENOENT) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let is_dir = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
        if is_dir && keep_dir {
            return Ok(true);
        }
        let flag = if is_dir {
            UnlinkatFlags::RemoveDir
        } else {
            UnlinkatFlags::NoRemoveDir
        };
        unlinkat(parent, name, flag)?;
        if is_dir {
            self.forget_cache();
        }
        Ok(false)
    }

    /// Remove what `created` lists (paths relative to the root), newest first.
    pub fn remove_created(&mut self, created: &[PathBuf]) {
        self.forget_cache();
        for relative in created.iter().rev() {
            let path = self.root_path.join(relative);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let result = if meta.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(error) = result {
                tracing::warn!(path = %path.display(), %error, "Failed to remove a partly unpacked entry");
            }
        }
    }
}

/// Set owner (optional), permission bits and mtime of `name` in `parent`, never following a
/// symlink (a symlink's own mode is left alone).
pub fn set_attributes_at(
    parent: &impl AsFd,
    name: &OsStr,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    mtime: u64,
) -> io::Result<()> {
    if let Some((uid, gid)) = owner {
        nix::unistd::fchownat(
            parent,
            name,
            Some(uid.into()),
            Some(gid.into()),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
    }
    if let Some(mode) = mode {
        fchmodat(
            parent,
            name,
            Mode::from_bits_truncate(mode & 0o7777),
            FchmodatFlags::NoFollowSymlink,
        )?;
    }
    let mtime = timespec(mtime);
    nix::sys::stat::utimensat(
        parent,
        name,
        &mtime,
        &mtime,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )?;
    Ok(())
}

/// Set owner (optional), permission bits and mtime through an open descriptor.
pub fn set_attributes_fd(
    fd: &impl AsFd,
    owner: Option<(u32, u32)>,
    mode: u32,
    mtime: Option<u64>,
) -> io::Result<()> {
    if let Some((uid, gid)) = owner {
        nix::unistd::fchown(fd, Some(uid.into()), Some(gid.into()))?;
    }
    nix::sys::stat::fchmod(fd, Mode::from_bits_truncate(mode & 0o7777))?;
    if let Some(mtime) = mtime {
        let mtime = timespec(mtime);
        nix::sys::stat::futimens(fd, &mtime, &mtime)?;
    }
    Ok(())
}

fn timespec(secs: u64) -> TimeSpec {
    TimeSpec::new(i64::try_from(secs).unwrap_or(i64::MAX), 0)
}

fn not_a_dir(errno: Errno, walked: &Path) -> WalkError {
    match errno {
        Errno::ELOOP | Errno::ENOTDIR => WalkError::NotADirectory(walked.display().to_string()),
        other => WalkError::Io(other.into()),
    }
}

fn join_key(components: &[&OsStr]) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut key = Vec::new();
    for component in components {
        key.extend_from_slice(component.as_bytes());
        key.push(b'/');
    }
    key
}
