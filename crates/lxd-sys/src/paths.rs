//! Where the host's pseudo-filesystems and system files live.
//!
//! Logic never names `/proc` or `/sys` itself: it joins onto a [`HostPaths`] so tests can point
//! every reader at a fake tree in a temporary directory. This module does no I/O.

use std::path::{Path, PathBuf};

/// Roots of the host files the OS boundary reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    /// The filesystem root (`/`), for marker files such as `/.dockerenv`.
    pub root: PathBuf,
    /// procfs (`/proc`).
    pub proc: PathBuf,
    /// sysfs (`/sys`).
    pub sys: PathBuf,
    /// System configuration (`/etc`).
    pub etc: PathBuf,
    /// Device nodes (`/dev`).
    pub dev: PathBuf,
    /// Runtime state (`/run`), for udev's database.
    pub run: PathBuf,
    /// `/usr`, for `lib/os-release` and the `share/misc/{pci,usb}.ids` databases.
    pub usr: PathBuf,
}

impl HostPaths {
    /// The real host: `/`, `/proc`, `/sys`, `/etc`, `/dev`, `/run`, `/usr`.
    pub fn real() -> Self {
        Self::under(Path::new("/"))
    }

    /// Every root below `root` (`root/proc`, `root/sys` ...): a fake host tree for tests.
    pub fn under(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            proc: root.join("proc"),
            sys: root.join("sys"),
            etc: root.join("etc"),
            dev: root.join("dev"),
            run: root.join("run"),
            usr: root.join("usr"),
        }
    }

    /// A path below sysfs, e.g. `sys_path("class/net")`.
    pub fn sys_path(&self, relative: &str) -> PathBuf {
        self.sys.join(relative)
    }

    /// A path below procfs, e.g. `proc_path("meminfo")`.
    pub fn proc_path(&self, relative: &str) -> PathBuf {
        self.proc.join(relative)
    }
}

impl Default for HostPaths {
    fn default() -> Self {
        Self::real()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_paths_real_absolute_roots() {
        let paths = HostPaths::real();
        assert_eq!(paths.proc, Path::new("/proc"));
        assert_eq!(paths.sys_path("class/net"), Path::new("/sys/class/net"));
        assert_eq!(paths.etc, Path::new("/etc"));
    }

    #[test]
    fn host_paths_under_root_joined() {
        let paths = HostPaths::under(Path::new("/tmp/fake"));
        assert_eq!(
            paths.proc_path("meminfo"),
            Path::new("/tmp/fake/proc/meminfo")
        );
        assert_eq!(paths.usr, Path::new("/tmp/fake/usr"));
    }
}
