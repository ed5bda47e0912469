//! Kernel feature probes for `environment.kernel_features`.
//!
//! Each probe is cheap, side-effect free and safe to run from a multi-threaded daemon (no
//! `unshare`, no fork): where LXD's own probe would need a private namespace or a child
//! process, the kernel version that introduced the feature stands in, as documented per field.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockProtocol, SockType};
use nix::sys::stat::Mode;

use super::kernel_at_least;
use crate::paths::HostPaths;

/// The seven kernel features `GET /1.0` reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelFeatures {
    /// `open_tree(OPEN_TREE_CLONE)` of `/` works and `mount_setattr(MOUNT_ATTR_IDMAP)` with an
    /// invalid user namespace fd fails with `EBADF` (not `EINVAL`/`ENOSYS`): the kernel knows
    /// idmapped mounts. Needs `CAP_SYS_ADMIN`; `LXD_IDMAPPED_MOUNTS_DISABLE=true` forces false.
    pub idmapped_mounts: bool,
    /// A `NETLINK_ROUTE` socket accepts `NETLINK_GET_STRICT_CHK` (Linux 4.20), the last piece
    /// LXD's probe needs for netnsid-aware `getifaddrs`.
    pub netnsid_getifaddrs: bool,
    /// `seccomp(SECCOMP_GET_ACTION_AVAIL, SECCOMP_RET_USER_NOTIF)` succeeds.
    pub seccomp_listener: bool,
    /// The listener exists and the kernel is at least 5.5 (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
    pub seccomp_listener_continue: bool,
    /// `shiftfs` is listed in `/proc/filesystems` (`LXD_SHIFTFS_DISABLE=true` forces false).
    pub shiftfs: bool,
    /// The kernel is at least 4.18, where uevents can be injected into a network namespace.
    pub uevent_injection: bool,
    /// A version 3 `security.capability` xattr (namespaced file capabilities, Linux 4.14) can
    /// be written on a scratch file. Needs `CAP_SETFCAP` and an xattr-capable filesystem.
    pub unpriv_fscaps: bool,
}

impl KernelFeatures {
    /// The map `GET /1.0` shows: feature name to `"true"`/`"false"`.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        [
            ("idmapped_mounts", self.idmapped_mounts),
            ("netnsid_getifaddrs", self.netnsid_getifaddrs),
            ("seccomp_listener", self.seccomp_listener),
            ("seccomp_listener_continue", self.seccomp_listener_continue),
            ("shiftfs", self.shiftfs),
            ("uevent_injection", self.uevent_injection),
            ("unpriv_fscaps", self.unpriv_fscaps),
        ]
        .into_iter()
        .map(|(name, on)| (name.to_string(), on.to_string()))
        .collect()
    }
}

/// Probe the running kernel. `kernel_release` is uname's release; `scratch_dir` is a writable
/// directory (e.g. `LXD_DIR`) where the file-capability probe creates and removes one file.
pub fn probe_kernel_features(
    paths: &HostPaths,
    kernel_release: &str,
    scratch_dir: &Path,
) -> KernelFeatures {
    let seccomp_listener = seccomp_listener_available();
    KernelFeatures {
        idmapped_mounts: !env_true("LXD_IDMAPPED_MOUNTS_DISABLE") && idmapped_mounts_supported(),
        netnsid_getifaddrs: netlink_strict_check_supported(),
        seccomp_listener,
        seccomp_listener_continue: seccomp_listener && kernel_at_least(kernel_release, 5, 5),
        shiftfs: !env_true("LXD_SHIFTFS_DISABLE") && shiftfs_listed(paths),
        uevent_injection: kernel_at_least(kernel_release, 4, 18),
        unpriv_fscaps: vfs3_fscaps_supported(scratch_dir),
    }
}

fn env_true(name: &str) -> bool {
    std::env::var(name)
        .is_ok_and(|v| matches!(v.to_lowercase().as_str(), "true" | "1" | "yes" | "on"))
}

fn shiftfs_listed(paths: &HostPaths) -> bool {
    std::fs::read_to_string(paths.proc_path("filesystems"))
        .map(|text| filesystems_list(&text, "shiftfs"))
        .unwrap_or(false)
}

/// Whether `/proc/filesystems` text lists `name` (`nodev\tname` or `\tname`).
fn filesystems_list(text: &str, name: &str) -> bool {
    text.lines()
        .any(|line| line.split_whitespace().last() == Some(name))
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn idmapped_mounts_supported() -> bool {
    let root = c"/";
    // SAFETY: `root` is a valid NUL-terminated path; open_tree only reads it and returns a
    // new fd (or -1) that we take ownership of below.
    let tree = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            root.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint,
        )
    };
    if tree < 0 {
        return false;
    }
    // SAFETY: open_tree succeeded, so `tree` is an fd we exclusively own.
    let tree = unsafe { OwnedFd::from_raw_fd(tree as libc::c_int) };
    let flags = OFlag::O_PATH | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW | OFlag::O_NOCTTY;
    let Ok(devnull) = open("/dev/null", flags, Mode::empty()) else {
        return false;
    };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: devnull.as_raw_fd() as u64,
    };
    let empty = c"";
    // SAFETY: `tree` is a detached clone only this process sees; `empty` is a valid C string
    // and `attr` a valid `mount_attr` whose size we pass. The O_PATH fd of /dev/null is not a
    // user namespace, so a kernel with idmapped mounts rejects the call with EBADF and
    // changes nothing.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    ret < 0 && nix::errno::Errno::last() == nix::errno::Errno::EBADF
}

const SOL_NETLINK: libc::c_int = 270;
const NETLINK_GET_STRICT_CHK: libc::c_int = 12;

fn netlink_strict_check_supported() -> bool {
    let Ok(sock) = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    ) else {
        return false;
    };
    let on: libc::c_int = 1;
    // SAFETY: `sock` is an open netlink socket; `on` is a live c_int whose exact size we pass.
    let ret = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            SOL_NETLINK,
            NETLINK_GET_STRICT_CHK,
            &on as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    ret == 0
}

fn seccomp_listener_available() -> bool {
    let action: u32 = libc::SECCOMP_RET_USER_NOTIF;
    // SAFETY: SECCOMP_GET_ACTION_AVAIL only reads the u32 pointed to; it installs no filter.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL,
            0,
            &action as *const u32,
        )
    };
    ret == 0
}

const VFS_CAP_REVISION_3: u32 = 0x0300_0000;

/// `struct vfs_ns_cap_data`, little-endian on disk.
fn vfs3_cap_data() -> [u8; 24] {
    let mut data = [0u8; 24];
    data[..4].copy_from_slice(&VFS_CAP_REVISION_3.to_le_bytes());
    // permitted/inheritable (two u32 pairs) stay empty; rootid (last u32) is 0.
    data
}

fn vfs3_fscaps_supported(scratch_dir: &Path) -> bool {
    let path = scratch_dir.join(format!(".lxd_fcaps_v3_{}", std::process::id()));
    if std::fs::write(&path, b"").is_err() {
        return false;
    }
    let supported = CString::new(path.as_os_str().as_bytes())
        .map(|cpath| {
            let value = vfs3_cap_data();
            // SAFETY: `cpath` and the attribute name are valid C strings and `value` is a
            // live buffer whose length we pass; the file is our own empty scratch file.
            let ret = unsafe {
                libc::setxattr(
                    cpath.as_ptr(),
                    c"security.capability".as_ptr(),
                    value.as_ptr() as *const libc::c_void,
                    value.len(),
                    0,
                )
            };
            ret == 0
        })
        .unwrap_or(false);
    let _ = std::fs::remove_file(&path);
    supported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_features_to_map_seven_string_booleans() {
        let features = KernelFeatures {
            idmapped_mounts: true,
            ..Default::default()
        };
        let map = features.to_map();
        assert_eq!(map.len(), 7);
        assert_eq!(map["idmapped_mounts"], "true");
        assert_eq!(map["shiftfs"], "false");
        assert!(map.contains_key("seccomp_listener_continue"));
    }

    #[test]
    fn filesystems_list_nodev_entry_found() {
        let text = "nodev\tsysfs\nnodev\tshiftfs\n\text4\n";
        assert!(filesystems_list(text, "shiftfs"));
        assert!(filesystems_list(text, "ext4"));
        assert!(!filesystems_list(text, "btrfs"));
    }

    #[test]
    fn vfs3_cap_data_revision_header_little_endian() {
        let data = vfs3_cap_data();
        assert_eq!(&data[..4], &[0, 0, 0, 3]);
        assert_eq!(data.len(), 24);
    }

    #[test]
    fn probe_kernel_features_fake_tree_shiftfs_from_proc() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths::under(dir.path());
        std::fs::create_dir_all(&paths.proc).unwrap();
        std::fs::write(paths.proc_path("filesystems"), "nodev\tshiftfs\n").unwrap();
        let features = probe_kernel_features(&paths, "4.15.0", dir.path());
        assert!(features.shiftfs);
        assert!(!features.uevent_injection);
        assert!(!features.seccomp_listener_continue);
    }
}
