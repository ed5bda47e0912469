//! The new mount API calls behind idmapped container root filesystems: `open_tree` to clone
//! a tree into a detached mount, `mount_setattr(MOUNT_ATTR_IDMAP)` to give it a user
//! namespace's id map, `move_mount` to attach it, and `umount2` to take it down.
//!
//! Thin, safe wrappers over raw syscalls (`libc` has the numbers and the structs, neither
//! `libc` nor `nix` the functions). Nothing here decides what to mount where: the runtime
//! does, in a forked helper.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub use libc::{AT_RECURSIVE, OPEN_TREE_CLOEXEC, OPEN_TREE_CLONE};

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// A syscall's `long` result: the fd or zero it returned, or the `errno` it set.
fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `open_tree(2)`: `path` (relative to `dirfd`, or the working directory when `None`) with
/// raw `flags`, e.g. `OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE` for a detached copy
/// of a whole tree. A detached mount disappears when its last fd is closed.
pub fn open_tree(dirfd: Option<BorrowedFd<'_>>, path: &Path, flags: u32) -> io::Result<OwnedFd> {
    let path = c_path(path)?;
    let dirfd = dirfd.map_or(libc::AT_FDCWD, |fd| fd.as_raw_fd());
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call; `dirfd` is a
    // live borrowed fd or AT_FDCWD. The kernel only reads its arguments.
    let ret = unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path.as_ptr(), flags) };
    let fd = check(ret)?;
    // SAFETY: open_tree succeeded and returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// A detached, close-on-exec clone of the mount tree at `path` (with the mounts below it
/// when `recursive`).
pub fn clone_tree(path: &Path, recursive: bool) -> io::Result<OwnedFd> {
    let recursive = if recursive { AT_RECURSIVE as u32 } else { 0 };
    open_tree(None, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive)
}

/// `mount_setattr(2)` with `MOUNT_ATTR_IDMAP`: from now on the detached mount `tree` shows
/// and writes ownership through the id map of the user namespace `userns` (e.g. the
/// container's `/proc/<pid>/ns/user`). `recursive` applies it to every mount of the tree.
///
/// The kernel refuses a mount that is already attached or idmapped (`EINVAL`), a filesystem
/// without idmapping support (`EINVAL`), and an fd that is not a user namespace (`EBADF`).
pub fn mount_setattr_idmap(
    tree: BorrowedFd<'_>,
    userns: BorrowedFd<'_>,
    recursive: bool,
) -> io::Result<()> {
    let mut attr: libc::mount_attr = mount_attr_zeroed();
    attr.attr_set = libc::MOUNT_ATTR_IDMAP;
    attr.userns_fd = userns.as_raw_fd() as u64;
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: `tree` is a live fd and the empty path a valid C string (AT_EMPTY_PATH makes
    // the call act on the fd itself); `attr` is a fully initialised `mount_attr` whose exact
    // size we pass. The kernel only reads these.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    check(ret).map(drop)
}

fn mount_attr_zeroed() -> libc::mount_attr {
    libc::mount_attr {
        attr_set: 0,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    }
}

/// `move_mount(2)`: attach the detached mount `tree` on `target` (an existing directory).
pub fn move_mount(tree: BorrowedFd<'_>, target: &Path) -> io::Result<()> {
    let target = c_path(target)?;
    // SAFETY: `tree` is a live fd, the empty source path and `target` are valid C strings
    // that outlive the call; MOVE_MOUNT_F_EMPTY_PATH makes the fd itself the source.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    check(ret).map(drop)
}

/// `umount2(2)` of `target`, lazily (`MNT_DETACH`) when `detach`.
pub fn unmount(target: &Path, detach: bool) -> io::Result<()> {
    let target = c_path(target)?;
    let flags = if detach { libc::MNT_DETACH } else { 0 };
    // SAFETY: `target` is a valid NUL-terminated path that outlives the call.
    let ret = unsafe { libc::umount2(target.as_ptr(), flags) };
    check(libc::c_long::from(ret)).map(drop)
}

/// Mount `source` on `target` through the id map of `userns` without changing a file on
/// disk: clone (recursively), idmap, attach. On error nothing is left mounted.
pub fn idmapped_bind(source: &Path, target: &Path, userns: BorrowedFd<'_>) -> io::Result<()> {
    let tree = clone_tree(source, true)?;
    mount_setattr_idmap(tree.as_fd(), userns, true)?;
    move_mount(tree.as_fd(), target)
}

/// Whether the filesystem holding `path` accepts an idmapped mount for `userns` (LXD's
/// `CanIdmapMount`): tries it on a detached clone that vanishes on return.
pub fn can_idmap_mount(path: &Path, userns: BorrowedFd<'_>) -> bool {
    clone_tree(path, false)
        .and_then(|tree| mount_setattr_idmap(tree.as_fd(), userns, false))
        .is_ok()
}

/// Whether the kernel knows idmapped mounts: `mount_setattr(MOUNT_ATTR_IDMAP)` on a clone of
/// `/` with an `O_PATH` fd fails with `EBADF` rather than `EINVAL`/`ENOSYS` (LXD's probe).
/// Needs `CAP_SYS_ADMIN`; changes nothing. (`host::probe_kernel_features` has the same probe.)
pub fn idmapped_mounts_supported() -> bool {
    let Ok(tree) = clone_tree(Path::new("/"), false) else {
        return false;
    };
    // An O_PATH fd: the kernel's fd lookup for `userns_fd` skips those, hence EBADF.
    let flags = libc::O_PATH | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NOCTTY;
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open("/dev/null");
    let Ok(not_userns) = devnull else {
        return false;
    };
    let err = mount_setattr_idmap(tree.as_fd(), not_userns.as_fd(), false);
    matches!(err, Err(e) if e.raw_os_error() == Some(libc::EBADF))
}
