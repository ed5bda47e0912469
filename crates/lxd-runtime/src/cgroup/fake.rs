//! An in-memory [`CgroupFs`] that records every change, for tests here and in the daemon.
//!
//! It imitates just enough of cgroupfs: writing `cgroup.procs` appends a pid, removing a
//! directory with sub-directories or processes fails with `EBUSY`, `cgroup.freeze` updates the
//! `frozen` line of `cgroup.events`. Failures can be injected per path.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use nix::errno::Errno;

use super::fs::CgroupFs;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsOp {
    Write(PathBuf, String),
    CreateDir(PathBuf),
    RemoveDir(PathBuf),
    Chown(PathBuf, u32, u32),
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<PathBuf, String>,
    dirs: BTreeSet<PathBuf>,
    ops: Vec<FsOp>,
    failures: BTreeMap<PathBuf, i32>,
    pinned: BTreeMap<PathBuf, String>,
}

/// The recording fake.
#[derive(Debug, Default)]
pub struct FakeCgroupFs {
    state: Mutex<State>,
}

fn errno(code: Errno) -> io::Error {
    io::Error::from_raw_os_error(code as i32)
}

impl FakeCgroupFs {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Add a directory and its ancestors (not recorded).
    pub fn add_dir(&self, path: impl AsRef<Path>) {
        let mut state = self.lock();
        for dir in path.as_ref().ancestors() {
            state.dirs.insert(dir.to_path_buf());
        }
    }

    /// Add a file with content, creating its directories (not recorded).
    pub fn add_file(&self, path: impl AsRef<Path>, content: &str) {
        let path = path.as_ref();
        if let Some(parent) = path.parent() {
            self.add_dir(parent);
        }
        self.lock()
            .files
            .insert(path.to_path_buf(), content.to_string());
    }

    /// Make every later write to, or mkdir/rmdir of, `path` fail with `code` (an errno).
    pub fn fail_at(&self, path: impl AsRef<Path>, code: i32) {
        self.lock()
            .failures
            .insert(path.as_ref().to_path_buf(), code);
    }

    /// Make `path` always read `content`; writes are still recorded (a stuck kernel state).
    pub fn pin_file(&self, path: impl AsRef<Path>, content: &str) {
        self.lock()
            .pinned
            .insert(path.as_ref().to_path_buf(), content.to_string());
    }

    /// Every recorded change so far.
    pub fn ops(&self) -> Vec<FsOp> {
        self.lock().ops.clone()
    }

    /// Only the recorded writes, as (path, value).
    pub fn writes(&self) -> Vec<(PathBuf, String)> {
        self.lock()
            .ops
            .iter()
            .filter_map(|op| match op {
                FsOp::Write(p, v) => Some((p.clone(), v.clone())),
                _ => None,
            })
            .collect()
    }

    /// Forget the recorded changes (the files stay).
    pub fn clear_ops(&self) {
        self.lock().ops.clear();
    }

    /// Whether the directory exists.
    pub fn has_dir(&self, path: impl AsRef<Path>) -> bool {
        self.lock().dirs.contains(path.as_ref())
    }
}

impl CgroupFs for FakeCgroupFs {
    fn read(&self, path: &Path) -> io::Result<String> {
        let state = self.lock();
        if let Some(content) = state.pinned.get(path) {
            return Ok(content.clone());
        }
        state
            .files
            .get(path)
            .cloned()
            .ok_or_else(|| errno(Errno::ENOENT))
    }

    fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        let mut state = self.lock();
        if let Some(code) = state.failures.get(path) {
            return Err(io::Error::from_raw_os_error(*code));
        }
        let parent = path.parent().unwrap_or(Path::new("/"));
        if !state.dirs.contains(parent) {
            return Err(errno(Errno::ENOENT));
        }
        state
            .ops
            .push(FsOp::Write(path.to_path_buf(), value.to_string()));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match name {
            "cgroup.procs" => {
                let entry = state.files.entry(path.to_path_buf()).or_default();
                entry.push_str(value.trim());
                entry.push('\n');
            }
            "cgroup.freeze" => {
                let frozen = if value.trim() == "1" { 1 } else { 0 };
                state.files.insert(
                    parent.join("cgroup.events"),
                    format!("populated 1\nfrozen {frozen}\n"),
                );
                state.files.insert(path.to_path_buf(), value.to_string());
            }
            _ => {
                state.files.insert(path.to_path_buf(), value.to_string());
            }
        }
        Ok(())
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock();
        if let Some(code) = state.failures.get(path) {
            return Err(io::Error::from_raw_os_error(*code));
        }
        if state.dirs.contains(path) {
            return Err(errno(Errno::EEXIST));
        }
        if !path.parent().is_some_and(|p| state.dirs.contains(p)) {
            return Err(errno(Errno::ENOENT));
        }
        state.dirs.insert(path.to_path_buf());
        state.ops.push(FsOp::CreateDir(path.to_path_buf()));
        Ok(())
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        let mut state = self.lock();
        if let Some(code) = state.failures.get(path) {
            return Err(io::Error::from_raw_os_error(*code));
        }
        if !state.dirs.contains(path) {
            return Err(errno(Errno::ENOENT));
        }
        let has_children = state
            .dirs
            .iter()
            .any(|d| d.parent() == Some(path) && d != path);
        let has_procs = state
            .files
            .get(&path.join("cgroup.procs"))
            .is_some_and(|p| !p.trim().is_empty());
        if has_children || has_procs {
            return Err(errno(Errno::EBUSY));
        }
        state.dirs.remove(path);
        state.files.retain(|f, _| f.parent() != Some(path));
        state.ops.push(FsOp::RemoveDir(path.to_path_buf()));
        Ok(())
    }

    fn exists(&self, path: &Path) -> bool {
        let state = self.lock();
        state.dirs.contains(path) || state.files.contains_key(path)
    }

    fn chown(&self, path: &Path, uid: u32, gid: u32) -> io::Result<()> {
        let mut state = self.lock();
        if !state.dirs.contains(path) && !state.files.contains_key(path) {
            return Err(errno(Errno::ENOENT));
        }
        state.ops.push(FsOp::Chown(path.to_path_buf(), uid, gid));
        Ok(())
    }

    fn list_dirs(&self, path: &Path) -> io::Result<Vec<String>> {
        let state = self.lock();
        if !state.dirs.contains(path) {
            return Err(errno(Errno::ENOENT));
        }
        Ok(state
            .dirs
            .iter()
            .filter(|d| d.parent() == Some(path) && *d != path)
            .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_remove_dir_with_processes_busy() {
        let fs = FakeCgroupFs::new();
        fs.add_dir("/cg/a");
        fs.write(Path::new("/cg/a/cgroup.procs"), "42").unwrap();
        let err = fs.remove_dir(Path::new("/cg/a")).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::EBUSY as i32));
        fs.add_file("/cg/a/cgroup.procs", "");
        fs.remove_dir(Path::new("/cg/a")).unwrap();
        assert!(!fs.exists(Path::new("/cg/a")));
    }

    #[test]
    fn fake_write_without_directory_not_found() {
        let fs = FakeCgroupFs::new();
        let err = fs.write(Path::new("/none/memory.max"), "1").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(fs.ops().is_empty());
    }
}
