//! One container's cgroup across every hierarchy: its names (`lxc.payload.<name>` for the
//! container, `lxc.monitor.<name>` for its monitor, as liblxc names them), creation, attaching
//! a pid, entering it for exec, listing its processes and removing it leaf-first.
//!
//! Killing the processes before [`CgroupPaths::remove`] is the caller's job; `remove` refuses
//! with [`CgroupError::Busy`] while any remain.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use super::discover::{Backend, CgroupHost, Controller};
use super::fs::CgroupFs;
use super::CgroupError;

/// The files of a v2 cgroup a delegatee must own (Documentation/admin-guide/cgroup-v2.rst).
const DELEGATED_FILES: &[&str] = &["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"];

/// Where below each hierarchy the container's cgroup goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupBase {
    /// Below our own cgroup in each hierarchy.
    Own,
    /// Beside our own cgroup (below its parent), as LXD does under a service cgroup.
    OwnParent,
    /// At the top of each hierarchy (as seen from our cgroup namespace).
    Root,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Dir {
    path: PathBuf,
    cpuset_v1: bool,
}

/// The directories of one cgroup, one per hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupPaths {
    dirs: Vec<Dir>,
    by_controller: BTreeMap<Controller, PathBuf>,
    v2: Option<PathBuf>,
    /// The v2 cgroup named below its hierarchy's root (`/lxc.payload.c1`).
    v2_name: Option<PathBuf>,
}

fn valid_leaf(leaf: &str) -> bool {
    !leaf.is_empty()
        && leaf != "."
        && leaf != ".."
        && !leaf.contains(['/', '\n', '\0'])
        && leaf.len() <= 255
}

impl CgroupPaths {
    /// The container's cgroup, `lxc.payload.<name>` (`name` includes any project prefix).
    pub fn payload(host: &CgroupHost, base: CgroupBase, name: &str) -> Result<Self, CgroupError> {
        Self::new(host, base, &format!("lxc.payload.{name}"))
    }

    /// The monitor's cgroup, `lxc.monitor.<name>`.
    pub fn monitor(host: &CgroupHost, base: CgroupBase, name: &str) -> Result<Self, CgroupError> {
        Self::new(host, base, &format!("lxc.monitor.{name}"))
    }

    /// A cgroup called `leaf` below `base` in every hierarchy the host has.
    pub fn new(host: &CgroupHost, base: CgroupBase, leaf: &str) -> Result<Self, CgroupError> {
        if !valid_leaf(leaf) {
            return Err(CgroupError::BadName(leaf.to_string()));
        }
        let mut dirs = Vec::new();
        let mut v2 = None;
        let mut v2_name = None;
        for h in &host.hierarchies {
            let parent = match base {
                CgroupBase::Own => h.own_dir(),
                CgroupBase::OwnParent => {
                    h.own.parent().map_or(h.mount.clone(), |p| h.mount.join(p))
                }
                CgroupBase::Root => h.mount.clone(),
            };
            let path = parent.join(leaf);
            if h.backend == Backend::V2 {
                v2 = Some(path.clone());
                v2_name = path
                    .strip_prefix(&h.mount)
                    .ok()
                    .map(|p| Path::new("/").join(p));
            }
            dirs.push(Dir {
                cpuset_v1: h.backend == Backend::V1 && h.controllers.iter().any(|c| c == "cpuset"),
                path,
            });
        }
        let by_controller = Controller::ALL
            .into_iter()
            .filter_map(|c| host.hierarchy_index(c).map(|i| (c, dirs[i].path.clone())))
            .collect();
        Ok(Self {
            dirs,
            by_controller,
            v2,
            v2_name,
        })
    }

    /// The directory holding `controller`'s files.
    pub fn dir(&self, controller: Controller) -> Option<&Path> {
        self.by_controller.get(&controller).map(PathBuf::as_path)
    }

    /// The cgroup2 directory, if the host has a v2 hierarchy.
    pub fn unified_dir(&self) -> Option<&Path> {
        self.v2.as_deref()
    }

    /// Every directory, one per hierarchy.
    pub fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.dirs.iter().map(|d| d.path.as_path())
    }

    /// Whether the cgroup exists in any hierarchy.
    pub fn exists(&self, fs: &dyn CgroupFs) -> bool {
        self.dirs().any(|d| fs.exists(d))
    }

    /// Create the cgroup in every hierarchy (an existing directory is reused). v1 cpuset
    /// directories get the parent's `cpuset.cpus` and `cpuset.mems` so tasks can join. On
    /// failure the directories this call created are removed again.
    pub fn create(&self, fs: &dyn CgroupFs) -> Result<(), CgroupError> {
        if let Some(parent) = self.v2.as_deref().and_then(Path::parent) {
            enable_controllers(fs, parent);
        }
        let mut created: Vec<&Path> = Vec::new();
        for dir in &self.dirs {
            let result = match fs.create_dir(&dir.path) {
                Ok(()) => {
                    created.push(&dir.path);
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(CgroupError::io("create", &dir.path, e)),
            };
            let result = result.and_then(|()| match dir.cpuset_v1 {
                true => inherit_cpuset(fs, &dir.path),
                false => Ok(()),
            });
            if let Err(err) = result {
                for path in created.iter().rev() {
                    let _ = fs.remove_dir(path);
                }
                return Err(err);
            }
        }
        Ok(())
    }

    /// Move `pid` (all its threads) into the cgroup in every hierarchy.
    pub fn attach(&self, fs: &dyn CgroupFs, pid: u32) -> Result<(), CgroupError> {
        for dir in self.dirs() {
            let path = dir.join("cgroup.procs");
            fs.write(&path, &pid.to_string())
                .map_err(|e| CgroupError::io("attach a process to", path, e))?;
        }
        Ok(())
    }

    /// Delegate the v2 cgroup to a container's root (`uid`/`gid` on the host), as the kernel's
    /// delegation model asks: the directory and its `cgroup.procs`, `cgroup.threads` and
    /// `cgroup.subtree_control` change owner, so the container's init (systemd) can build its
    /// own tree below. v1 hierarchies and a host without v2 are left alone.
    pub fn delegate(&self, fs: &dyn CgroupFs, uid: u32, gid: u32) -> Result<(), CgroupError> {
        let Some(dir) = &self.v2 else {
            return Ok(());
        };
        fs.chown(dir, uid, gid)
            .map_err(|e| CgroupError::io("delegate", dir, e))?;
        for file in DELEGATED_FILES {
            let path = dir.join(file);
            match fs.chown(&path, uid, gid) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(CgroupError::io("delegate", path, e)),
            }
        }
        Ok(())
    }

    /// The directories in v1 hierarchies (every one but [`CgroupPaths::v2_dir`]).
    pub fn v1_dirs(&self) -> impl Iterator<Item = &Path> {
        self.dirs().filter(|d| Some(*d) != self.v2.as_deref())
    }

    /// The v2 directory (absent on a host with only v1 hierarchies).
    pub fn v2_dir(&self) -> Option<&Path> {
        self.v2.as_deref()
    }

    /// The v2 cgroup as a path below its hierarchy's root (what `/proc/PID/cgroup` shows and
    /// CRIU's `--cgroup-root` takes), wherever the hierarchy is mounted.
    pub fn v2_name(&self) -> Option<&Path> {
        self.v2_name.as_deref()
    }

    /// Move the calling thread into the cgroup's v1 hierarchies by writing `0` to their
    /// `tasks` files. For a single-threaded caller that moves the process, and unlike a pid
    /// written to `cgroup.procs` it does not take the kernel's thread-group lock for writing
    /// (which waits for an RCU grace period). The v2 directory is left to
    /// [`CgroupPaths::v2_dir`] and `CLONE_INTO_CGROUP`.
    pub fn enter_v1(&self, fs: &dyn CgroupFs) -> Result<(), CgroupError> {
        for dir in self.v1_dirs() {
            let path = dir.join("tasks");
            fs.write(&path, "0")
                .map_err(|e| CgroupError::io("attach a process to", path, e))?;
        }
        Ok(())
    }

    /// Every pid in the cgroup or its sub-cgroups, in any hierarchy, sorted.
    pub fn procs(&self, fs: &dyn CgroupFs) -> Result<Vec<u32>, CgroupError> {
        let mut pids = Vec::new();
        for dir in self.dirs().filter(|d| fs.exists(d)) {
            for sub in tree(fs, dir)? {
                let path = sub.join("cgroup.procs");
                let text = fs.read(&path).unwrap_or_default();
                pids.extend(text.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
            }
        }
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// Remove the cgroup and its sub-cgroups (deepest first) in every hierarchy. Missing
    /// directories are fine; every hierarchy is tried and the first failure returned.
    pub fn remove(&self, fs: &dyn CgroupFs) -> Result<(), CgroupError> {
        let mut first = None;
        for dir in self.dirs().filter(|d| fs.exists(d)) {
            let result = tree(fs, dir).and_then(|subs| {
                subs.iter()
                    .rev()
                    .try_for_each(|sub| match fs.remove_dir(sub) {
                        Ok(()) => Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EBUSY as i32) => {
                            Err(CgroupError::Busy(sub.clone()))
                        }
                        Err(e) => Err(CgroupError::io("remove", sub, e)),
                    })
            });
            if let Err(err) = result {
                first.get_or_insert(err);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// `dir` and every directory below it, parents before children.
fn tree(fs: &dyn CgroupFs, dir: &Path) -> Result<Vec<PathBuf>, CgroupError> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let current = out[i].clone();
        match fs.list_dirs(&current) {
            Ok(names) => out.extend(names.into_iter().map(|n| current.join(n))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(CgroupError::io("list", current, e)),
        }
        i += 1;
    }
    Ok(out)
}

/// Enable in `parent`'s `cgroup.subtree_control` every controller it has and does not pass on
/// yet, as liblxc does, so the new cgroup gets them. Best effort: a parent holding processes
/// (not the root) refuses, and the limits that need a missing controller say so.
fn enable_controllers(fs: &dyn CgroupFs, parent: &Path) {
    let Ok(available) = fs.read(&parent.join("cgroup.controllers")) else {
        return;
    };
    let control = parent.join("cgroup.subtree_control");
    let enabled = fs.read(&control).unwrap_or_default();
    for name in available.split_whitespace() {
        if enabled.split_whitespace().any(|e| e == name) {
            continue;
        }
        if let Err(err) = fs.write(&control, &format!("+{name}")) {
            tracing::debug!(controller = name, %err, "Cannot enable cgroup controller");
        }
    }
}

/// Copy the parent's `cpuset.cpus` / `cpuset.mems` into a new v1 cpuset cgroup if empty.
fn inherit_cpuset(fs: &dyn CgroupFs, dir: &Path) -> Result<(), CgroupError> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let own = fs.read(&dir.join(file)).unwrap_or_default();
        if !own.trim().is_empty() {
            continue;
        }
        let from = parent.join(file);
        let value = fs
            .read(&from)
            .map_err(|e| CgroupError::io("read", &from, e))?;
        let to = dir.join(file);
        fs.write(&to, value.trim())
            .map_err(|e| CgroupError::io("write", to, e))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "paths_tests.rs"]
mod tests;
