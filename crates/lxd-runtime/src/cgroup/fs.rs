//! The file operations cgroup code needs, as a trait, and its real implementation.
//!
//! Paths handed to a [`CgroupFs`] are already rooted: discovery joins mount points onto the
//! injected `HostPaths::root`, so a test tree in a temporary directory works with the real
//! implementation too. Nothing here knows where `/sys/fs/cgroup` is.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

/// File operations on cgroup filesystems (and the few `/proc` and `/sys` files next to them).
pub trait CgroupFs: Send + Sync {
    /// The whole content of a file.
    fn read(&self, path: &Path) -> io::Result<String>;
    /// Write `value` to an existing file in one `write(2)`, as cgroup files need.
    fn write(&self, path: &Path, value: &str) -> io::Result<()>;
    /// Create one directory (its parent must exist).
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Remove one empty directory (cgroup directories count as empty without sub-cgroups).
    fn remove_dir(&self, path: &Path) -> io::Result<()>;
    /// Whether a file or directory exists.
    fn exists(&self, path: &Path) -> bool;
    /// Names of the sub-directories of `path` (symlinks to directories included), sorted.
    fn list_dirs(&self, path: &Path) -> io::Result<Vec<String>>;
    /// Give a file or directory to `uid`/`gid` (delegating a cgroup to a container's root).
    fn chown(&self, path: &Path, uid: u32, gid: u32) -> io::Result<()>;
}

/// The real filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealCgroupFs;

impl CgroupFs for RealCgroupFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        // No O_CREAT: a missing control file is an error, not a new regular file.
        let mut file = OpenOptions::new().write(true).open(path)?;
        let written = file.write(value.as_bytes())?;
        if written != value.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
        }
        Ok(())
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path)
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path)
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn chown(&self, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
    }

    fn list_dirs(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            // The entry's own type needs no stat; a symlink is followed (/sys/class/net
            // entries are links to directories).
            let is_dir = match entry.file_type()? {
                t if t.is_symlink() => std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()),
                t => t.is_dir(),
            };
            if is_dir {
                out.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_cgroup_fs_write_missing_file_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory.max");
        assert!(RealCgroupFs.write(&path, "1").is_err());
        assert!(!path.exists());
    }

    #[test]
    fn real_cgroup_fs_list_dirs_only_directories_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("cgroup.procs"), "").unwrap();
        assert_eq!(RealCgroupFs.list_dirs(dir.path()).unwrap(), ["a", "b"]);
        RealCgroupFs
            .write(&dir.path().join("cgroup.procs"), "42")
            .unwrap();
        assert_eq!(
            RealCgroupFs.read(&dir.path().join("cgroup.procs")).unwrap(),
            "42"
        );
    }
}
