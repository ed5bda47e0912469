//! Which cgroup hierarchies the host has, where they are mounted and where we sit in them.
//!
//! Built from `/proc/self/mountinfo` and `/proc/self/cgroup` (LXD's `cgroup.Init`): v1
//! hierarchies carry their controllers in the super options, the v2 hierarchy lists them in
//! `cgroup.controllers`. Pure v2 is "cgroup2", v1 plus a v2 mount is "hybrid", v1 alone "legacy".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lxd_sys::paths::HostPaths;

pub use super::controller::{Backend, CgroupMode, Controller};
#[cfg(test)]
use super::fake;
use super::fs::CgroupFs;
use super::CgroupError;

/// One mounted hierarchy we are a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub backend: Backend,
    /// v1: the mount options naming it (`cpu`, `name=systemd`); v2: `cgroup.controllers`.
    pub controllers: Vec<String>,
    /// The mount point, already joined onto the host root.
    pub mount: PathBuf,
    /// Our own cgroup relative to the mount (`""` at the top).
    pub own: PathBuf,
}

impl Hierarchy {
    /// The directory of our own cgroup.
    pub fn own_dir(&self) -> PathBuf {
        self.mount.join(&self.own)
    }
}

/// Optional files that decide what LXD can do with memory and disk I/O.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// v1 `memory.memsw.limit_in_bytes` or v2 `memory.swap.max`.
    pub memory_swap: bool,
    /// v1 `memory.memsw.usage_in_bytes` or v2 `memory.swap.current`.
    pub memory_swap_usage: bool,
    /// v1 `memory.swappiness`.
    pub memory_swappiness: bool,
    /// The v1 blkio weight file (`blkio.weight` or `blkio.bfq.weight`); v2 always `io.weight`.
    pub blkio_weight_file: Option<&'static str>,
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupHost {
    pub mode: CgroupMode,
    pub hierarchies: Vec<Hierarchy>,
    pub features: Features,
    controllers: BTreeMap<Controller, usize>,
}

const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

struct Mount {
    root: String,
    point: PathBuf,
    v2: bool,
    options: Vec<String>,
}

/// Undo mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_mounts(mountinfo: &str, host_root: &Path) -> Vec<Mount> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split_whitespace().collect();
            let right: Vec<&str> = right.split_whitespace().collect();
            let fstype = *right.first()?;
            if fstype != "cgroup" && fstype != "cgroup2" {
                return None;
            }
            let point = unescape(left.get(4)?);
            Some(Mount {
                root: unescape(left.get(3)?),
                point: host_root.join(point.trim_start_matches('/')),
                v2: fstype == "cgroup2",
                options: right
                    .get(2)
                    .map(|o| o.split(',').map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Our path below a mount whose root is `mount_root` (cgroup namespaces and bind mounts).
fn relative_own(mount_root: &str, own: &str) -> PathBuf {
    let rel = own
        .strip_prefix(mount_root)
        .filter(|_| mount_root != "/")
        .unwrap_or(own);
    PathBuf::from(rel.trim_start_matches('/'))
}

impl CgroupHost {
    /// Discover the host's hierarchies through `fs`, reading `self/mountinfo` and `self/cgroup`
    /// below `paths.proc` and joining mount points onto `paths.root`.
    pub fn discover(fs: &dyn CgroupFs, paths: &HostPaths) -> Result<Self, CgroupError> {
        let read = |rel: &str| {
            let path = paths.proc_path(rel);
            fs.read(&path).map_err(|e| CgroupError::io("read", path, e))
        };
        let mountinfo = read("self/mountinfo")?;
        let self_cgroup = read("self/cgroup")?;
        Ok(Self::from_proc(fs, &paths.root, &mountinfo, &self_cgroup))
    }

    /// Build from the two proc files' text; `fs` is consulted for v2 controllers and features.
    pub fn from_proc(
        fs: &dyn CgroupFs,
        host_root: &Path,
        mountinfo: &str,
        self_cgroup: &str,
    ) -> Self {
        let mounts = parse_mounts(mountinfo, host_root);
        let mut hierarchies = Vec::new();
        for line in self_cgroup.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(id), Some(names), Some(own)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if id == "0" && names.is_empty() {
                let Some(mount) = mounts.iter().find(|m| m.v2) else {
                    continue;
                };
                let own = relative_own(&mount.root, own);
                let controllers = fs
                    .read(&mount.point.join(&own).join("cgroup.controllers"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                hierarchies.push(Hierarchy {
                    backend: Backend::V2,
                    controllers,
                    mount: mount.point.clone(),
                    own,
                });
                continue;
            }
            let wanted: Vec<&str> = names.split(',').collect();
            let found = mounts
                .iter()
                .find(|m| !m.v2 && wanted.iter().all(|w| m.options.iter().any(|o| o == w)));
            if let Some(mount) = found {
                hierarchies.push(Hierarchy {
                    backend: Backend::V1,
                    controllers: wanted.iter().map(|s| s.to_string()).collect(),
                    mount: mount.point.clone(),
                    own: relative_own(&mount.root, own),
                });
            }
        }
        Self::from_hierarchies(fs, hierarchies)
    }

    /// The same host, with the v2 controllers those of the directory containers are created
    /// below (`base`), not of our own cgroup: a daemon in a systemd service sees only what its
    /// slice passes on, while the top of the hierarchy offers every controller the kernel has
    /// (and [`super::CgroupPaths::create`] enables them there).
    pub fn with_base(self, fs: &dyn CgroupFs, base: super::CgroupBase) -> Self {
        let hierarchies = self
            .hierarchies
            .into_iter()
            .map(|mut h| {
                if h.backend == Backend::V2 {
                    let dir = match base {
                        super::CgroupBase::Own => h.own_dir(),
                        super::CgroupBase::OwnParent => {
                            h.own.parent().map_or(h.mount.clone(), |p| h.mount.join(p))
                        }
                        super::CgroupBase::Root => h.mount.clone(),
                    };
                    if let Ok(text) = fs.read(&dir.join("cgroup.controllers")) {
                        h.controllers = text.split_whitespace().map(str::to_string).collect();
                    }
                }
                h
            })
            .collect();
        Self::from_hierarchies(fs, hierarchies)
    }

    fn from_hierarchies(fs: &dyn CgroupFs, hierarchies: Vec<Hierarchy>) -> Self {
        let has_v1 = hierarchies.iter().any(|h| {
            h.backend == Backend::V1
                && h.controllers
                    .iter()
                    .any(|c| V1_CONTROLLERS.contains(&c.as_str()))
        });
        let v2 = hierarchies.iter().position(|h| h.backend == Backend::V2);
        let mode = match (has_v1, v2.is_some()) {
            (true, true) => CgroupMode::Hybrid,
            (true, false) => CgroupMode::Legacy,
            (false, true) => CgroupMode::Unified,
            (false, false) => CgroupMode::Disabled,
        };
        let mut controllers = BTreeMap::new();
        for (i, h) in hierarchies.iter().enumerate() {
            if h.backend == Backend::V1 {
                for c in Controller::ALL {
                    if h.controllers.iter().any(|n| n == c.v1_name()) {
                        controllers.entry(c).or_insert(i);
                    }
                }
            }
        }
        if let Some(i) = v2 {
            for name in &hierarchies[i].controllers {
                if let Some(c) = Controller::from_v2_name(name) {
                    controllers.entry(c).or_insert(i);
                }
            }
            // LXD: CPU accounting follows the cpu controller on v2 (cpu.stat).
            if controllers.get(&Controller::Cpu) == Some(&i) {
                controllers.entry(Controller::Cpuacct).or_insert(i);
            }
            if mode == CgroupMode::Unified {
                // Built into cgroup2 itself: devices through eBPF, cgroup.freeze.
                controllers.insert(Controller::Devices, i);
                controllers.insert(Controller::Freezer, i);
            }
        }
        let mut host = Self {
            mode,
            hierarchies,
            features: Features::default(),
            controllers,
        };
        host.features = host.probe_features(fs);
        host
    }

    fn probe_features(&self, fs: &dyn CgroupFs) -> Features {
        let mut f = Features::default();
        if let Some(h) = self.hierarchy(Controller::Memory) {
            let dir = h.own_dir();
            // The files exist in every non-root cgroup with the controller: ours, systemd's
            // init.scope, or any cgroup at the top (our own may be the root, which has none).
            let children = fs.list_dirs(&h.mount).unwrap_or_default();
            let has = |name: &str| {
                fs.exists(&dir.join(name))
                    || fs.exists(&h.mount.join("init.scope").join(name))
                    || children
                        .iter()
                        .any(|c| fs.exists(&h.mount.join(c).join(name)))
            };
            match h.backend {
                Backend::V1 => {
                    f.memory_swap = has("memory.memsw.limit_in_bytes");
                    f.memory_swap_usage = has("memory.memsw.usage_in_bytes");
                    f.memory_swappiness = has("memory.swappiness");
                }
                Backend::V2 => {
                    f.memory_swap = has("memory.swap.max");
                    f.memory_swap_usage = has("memory.swap.current");
                }
            }
        }
        if let Some(h) = self.hierarchy(Controller::Blkio) {
            f.blkio_weight_file = match h.backend {
                Backend::V2 => Some("io.weight"),
                Backend::V1 => ["blkio.weight", "blkio.bfq.weight"]
                    .into_iter()
                    .find(|name| fs.exists(&h.own_dir().join(name))),
            };
        }
        f
    }

    /// The hierarchy holding `controller`, if the host has it.
    pub fn hierarchy(&self, controller: Controller) -> Option<&Hierarchy> {
        self.controllers
            .get(&controller)
            .map(|&i| &self.hierarchies[i])
    }

    /// Index into [`Self::hierarchies`] of the hierarchy holding `controller`.
    pub fn hierarchy_index(&self, controller: Controller) -> Option<usize> {
        self.controllers.get(&controller).copied()
    }

    /// Which backend `controller` is on, if any.
    pub fn backend(&self, controller: Controller) -> Option<Backend> {
        self.hierarchy(controller).map(|h| h.backend)
    }

    /// Controllers the host lacks.
    pub fn missing(&self) -> Vec<Controller> {
        Controller::ALL
            .into_iter()
            .filter(|c| !self.controllers.contains_key(c))
            .collect()
    }
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
