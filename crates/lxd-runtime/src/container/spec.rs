//! What the runtime needs to start one container, handed from the daemon to the monitor
//! process as JSON.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One line of a uid or gid map: `nsid hostid range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    pub nsid: u32,
    pub hostid: u32,
    pub range: u32,
}

/// The container's user namespace maps; `None` in a spec means a privileged container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMaps {
    pub uid: Vec<IdRange>,
    pub gid: Vec<IdRange>,
}

impl IdMaps {
    /// `uid_map`/`gid_map` file text.
    pub fn render(ranges: &[IdRange]) -> String {
        ranges
            .iter()
            .map(|r| format!("{} {} {}\n", r.nsid, r.hostid, r.range))
            .collect()
    }

    /// The host id the container's root (id 0) maps to in `ranges`.
    pub fn host_root(ranges: &[IdRange]) -> Option<u32> {
        ranges.iter().find(|r| r.nsid == 0).map(|r| r.hostid)
    }
}

/// Everything needed to start a container's init.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// Instance name; also the hostname.
    pub name: String,
    /// The root filesystem directory on the host.
    pub rootfs: PathBuf,
    /// User namespace maps; `None` runs privileged (no user namespace).
    pub idmap: Option<IdMaps>,
    /// Init and its arguments.
    pub init: Vec<String>,
    /// Environment of init (`KEY=value`).
    pub env: Vec<String>,
    /// Where the monitor keeps its state and the console log.
    pub state_dir: PathBuf,
    /// The instance's expanded config (seccomp and security keys are read from it).
    #[serde(default)]
    pub config: std::collections::BTreeMap<String, String>,
    /// Extra bind mounts `(host path, path inside, read-only)`.
    #[serde(default)]
    pub binds: Vec<(PathBuf, PathBuf, bool)>,
    /// Mount the container's own cgroup v2 tree (its cgroup namespace root) on
    /// `/sys/fs/cgroup`, so an init such as systemd can manage it; set when the host has a v2
    /// hierarchy the container's cgroup is in.
    #[serde(default)]
    pub mount_cgroup2: bool,
    /// Disk devices: host paths and storage volumes mounted inside. The monitor opens each
    /// source as host root (so directories only root may traverse are fine) and hands the
    /// trees to init.
    #[serde(default)]
    pub volume_binds: Vec<VolumeBind>,
    /// The container's AppArmor policy: loaded by the monitor before init starts, init exec'd
    /// under its label, unloaded once init has ended. `None` where the host has no AppArmor
    /// (init runs unconfined).
    #[serde(default)]
    pub apparmor: Option<crate::apparmor::ContainerPolicy>,
    /// The rootfs is stored shifted to the host ids of `idmap` (the daemon chowned it where
    /// idmapped mounts are unavailable; LXD's `volatile.last_state.idmap`): bind it as it is
    /// rather than through an idmapped mount, which would shift it a second time.
    #[serde(default)]
    pub shifted_rootfs: bool,
    /// Network interfaces (`nic` devices) the monitor creates in the container's network
    /// namespace before init runs.
    #[serde(default)]
    pub nics: Vec<NicSpec>,
    /// Restore init's process tree from this CRIU images directory (a live migration's
    /// target) instead of starting init.
    #[serde(default)]
    pub restore_from: Option<PathBuf>,
}

/// One NIC: a veth pair whose host end is `host_name` (a port of `bridge` when set) and whose
/// peer is `name` inside the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicSpec {
    /// The device's name in the instance's config.
    pub device: String,
    pub host_name: String,
    /// The interface name inside the container.
    pub name: String,
    pub hwaddr: Option<String>,
    pub mtu: Option<u32>,
    /// The host bridge the host end joins (`nictype=bridged`).
    #[serde(default)]
    pub bridge: Option<String>,
}

/// One disk device mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeBind {
    /// The host path (a directory or a file).
    pub source: PathBuf,
    /// Where it appears inside the container.
    pub target: PathBuf,
    pub readonly: bool,
    /// Map it through the container's user namespace (storage volumes), where the kernel and
    /// filesystem allow idmapped mounts, so files keep their on-disk owners across containers.
    pub idmap: bool,
    /// Bind the sub-mounts of `source` too.
    #[serde(default)]
    pub recursive: bool,
}

impl ContainerSpec {
    /// The state file the monitor writes once init runs.
    pub fn state_file(&self) -> PathBuf {
        self.state_dir.join("monitor.json")
    }

    /// The console log.
    pub fn console_log(&self) -> PathBuf {
        self.state_dir.join("console.log")
    }

    /// The runtime name (`<project>_<name>` outside the default project, as liblxc names
    /// LXD's containers), which names the state directory, the cgroups and the host-side
    /// device files; `name` is the hostname. Falls back to `name`.
    pub fn runtime_name(&self) -> &str {
        self.state_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(&self.name)
    }
}

/// What the monitor records about a running container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    pub monitor_pid: i32,
    pub init_pid: i32,
    /// How init ended (`None` while it runs): exit code, or 128 + signal.
    #[serde(default)]
    pub exit_status: Option<i32>,
}
