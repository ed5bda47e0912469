//! Handles on other processes: pidfds (`pidfd_open`, `pidfd_send_signal`), a process's
//! user namespace fd, and writing a child's `uid_map`/`gid_map` (with `setgroups`).
//!
//! A pidfd names one process for good, so signalling through it never hits a recycled pid;
//! the monitor and the daemon use them for container init. Paths go through [`HostPaths`].

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::paths::HostPaths;

/// `pidfd_open(2)`: a close-on-exec fd that refers to process `pid` for as long as it is held.
pub fn pidfd_open(pid: Pid) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags by value and touches no memory of ours.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0 as libc::c_uint) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pidfd_open succeeded and returned a new fd (close-on-exec) that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as libc::c_int) })
}

/// `pidfd_send_signal(2)`: send `signal` to the process behind `pidfd`; `None` sends nothing
/// and only checks that the process still exists (`ESRCH` once it has exited).
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: Option<Signal>) -> io::Result<()> {
    let signal = signal.map_or(0, |s| s as libc::c_int);
    // SAFETY: `pidfd` is a live fd; a null siginfo asks the kernel to fill in the default
    // (as kill(2) would) and flags must be 0. No memory of ours is read or written.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0 as libc::c_uint,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(2)` with a signal number, for the real-time signals `nix::sys::signal::Signal` cannot
/// name (systemd's `SIGRTMIN+3`).
pub fn kill_raw(pid: Pid, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes a pid and a signal number by value and touches no memory of ours.
    let ret = unsafe { libc::kill(pid.as_raw(), signal) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The C library's `SIGRTMIN` (34 on glibc: the kernel's 32 minus the two it keeps).
pub fn sigrtmin() -> libc::c_int {
    libc::SIGRTMIN()
}

/// An fd for the user namespace of process `pid` (`<proc>/<pid>/ns/user`), as
/// [`crate::mount_api::mount_setattr_idmap`] and `setns(2)` take it.
pub fn open_userns(paths: &HostPaths, pid: Pid) -> io::Result<OwnedFd> {
    File::open(paths.proc_path(&format!("{pid}/ns/user"))).map(OwnedFd::from)
}

/// What to do with `<pid>/setgroups` before writing the gid map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetGroups {
    /// Leave it (`allow`): needed when the writer lacks `CAP_SETGID` over the parent user
    /// namespace, never for a root daemon; a container's init needs setgroups(2).
    Allow,
    /// Write `deny` first, as an unprivileged writer must.
    Deny,
}

/// A map file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("Failed to write {}", path.display())]
pub struct MapWriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Write `text` to a `/proc` file in one `write(2)`, as the kernel requires of id maps.
fn write_once(path: PathBuf, text: &str) -> Result<(), MapWriteError> {
    let result = OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut file| {
            let written = file.write(text.as_bytes())?;
            if written != text.len() {
                return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
            }
            Ok(())
        });
    result.map_err(|source| MapWriteError { path, source })
}

/// Give the user namespace of process `pid` its id maps: `uid_map`, then (after `setgroups`
/// per `setgroups`) `gid_map`. Texts are `nsid hostid count` lines, e.g. from
/// `lxd_shared::idmap::IdmapSet::uid_map`. Each map can be written once per namespace.
pub fn write_id_maps(
    paths: &HostPaths,
    pid: Pid,
    uid_map: &str,
    gid_map: &str,
    setgroups: SetGroups,
) -> Result<(), MapWriteError> {
    let file = |name: &str| paths.proc_path(&format!("{pid}/{name}"));
    write_once(file("uid_map"), uid_map)?;
    if setgroups == SetGroups::Deny {
        write_once(file("setgroups"), "deny")?;
    }
    write_once(file("gid_map"), gid_map)
}
