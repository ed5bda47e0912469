//! The daemon's use of the runtime's cgroup module: each container gets `lxc.payload.<name>` at
//! the top of each hierarchy (as liblxc places LXD's containers: on cgroup v2 a cgroup holding
//! processes, like the daemon's own service or session cgroup, cannot hand controllers to
//! children), with its `limits.*` applied before init continues; exec helpers join it; usage
//! and the freezer read and drive it.

use std::os::fd::OwnedFd;
use std::sync::OnceLock;
use std::time::Duration;

use lxd_runtime::cgroup::{
    apply_writes, freeze, plan_limits, read_usage, thaw, Backend, CgroupBase, CgroupError,
    CgroupHost, CgroupPaths, HostFacts, RealCgroupFs,
};
use lxd_sys::paths::HostPaths;

/// Usage figures with unknowns as 0, for the state endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub memory: u64,
    pub memory_peak: u64,
    pub swap: u64,
    pub swap_peak: u64,
    pub cpu_ns: u64,
    pub processes: u64,
}

/// The host's hierarchies, discovered once per process: they do not change while it runs, and
/// discovery probes the top of the memory hierarchy, where every container has a cgroup (per
/// container, that made `GET /1.0/instances?recursion=2` quadratic in the number running).
fn host() -> Result<&'static CgroupHost, String> {
    static HOST: OnceLock<CgroupHost> = OnceLock::new();
    if let Some(host) = HOST.get() {
        return Ok(host);
    }
    let fs = RealCgroupFs;
    let host = CgroupHost::discover(&fs, &HostPaths::real())
        .map_err(|e| e.to_string())?
        .with_base(&fs, CgroupBase::Root);
    Ok(HOST.get_or_init(|| host))
}

/// Discover the host's hierarchies now, in a process that forks helpers which then need not.
pub fn discover_now() -> Result<(), String> {
    host().map(|_| ())
}

fn open(name: &str) -> Result<(RealCgroupFs, &'static CgroupHost, CgroupPaths), String> {
    let host = host()?;
    let paths = CgroupPaths::payload(host, CgroupBase::Root, name).map_err(|e| e.to_string())?;
    Ok((RealCgroupFs, host, paths))
}

/// Whether the host has a cgroup v2 hierarchy (pure v2, or hybrid's `unified`), which the
/// container's cgroup is then part of.
pub fn host_has_v2() -> bool {
    host().is_ok_and(|h| h.hierarchies.iter().any(|x| x.backend == Backend::V2))
}

/// For the monitor, before it starts anything: processes already in the container's cgroup
/// belong to no container of ours (its previous run ended before this start was allowed), but
/// to another daemon on this host running an instance of this name. Sharing that cgroup would
/// mix usage, limits and freezing, and tearing it down is not ours to do, so the start stops.
pub fn ensure_free(name: &str) -> Result<(), String> {
    let (fs, _, paths) = open(name)?;
    let squatters = paths.procs(&fs).map_err(|e| e.to_string())?;
    if squatters.is_empty() {
        return Ok(());
    }
    let pids: Vec<String> = squatters.iter().map(u32::to_string).collect();
    Err(format!(
        "The cgroup lxc.payload.{name} is in use by other processes ({}); is another daemon on \
         this host running an instance of this name?",
        pids.join(", ")
    ))
}

/// For the monitor, before it clones init: create the container's cgroup in every
/// hierarchy, apply the limits of `config`, delegate the v2 directory to the container's root
/// (`root`, host uid and gid) and open what init joins by (see
/// [`lxd_runtime::container::start::CgroupEntry`]).
pub fn prepare_closure(
    name: &str,
    config: &lxd_api::ConfigMap,
    root: Option<(u32, u32)>,
) -> impl FnMut() -> Result<lxd_runtime::container::start::CgroupEntry, String> {
    let (name, config) = (name.to_string(), config.clone());
    move || {
        let (fs, host, paths) = open(&name)?;
        paths.create(&fs).map_err(|e| e.to_string())?;
        let facts = HostFacts::read(&fs, host, &HostPaths::real()).map_err(|e| e.to_string())?;
        let writes = plan_limits(&config, host, &facts).map_err(|e| e.to_string())?;
        apply_writes(&fs, &paths, &writes).map_err(|e| e.to_string())?;
        if let Some((uid, gid)) = root {
            paths.delegate(&fs, uid, gid).map_err(|e| e.to_string())?;
        }
        let v1_tasks = paths
            .v1_dirs()
            .map(|d| {
                let tasks = d.join("tasks");
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&tasks)
                    .map_err(|e| format!("Failed to open {}: {e}", tasks.display()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let v2_dir = open_v2_dir(&paths)?;
        Ok(lxd_runtime::container::start::CgroupEntry {
            v1_tasks,
            v2_dir,
            v2_path: paths.v2_name().map(std::path::Path::to_path_buf),
        })
    }
}

/// For exec helpers, before they enter the container's namespaces: join the container's v1
/// cgroups and open its v2 directory, where the command is then started
/// (`CLONE_INTO_CGROUP`). Neither waits on the kernel's thread-group lock.
pub fn join_closure(name: &str) -> impl FnMut() -> Result<Option<OwnedFd>, String> {
    let name = name.to_string();
    move || {
        let (fs, _, paths) = open(&name)?;
        if !paths.exists(&fs) {
            return Ok(None);
        }
        paths.enter_v1(&fs).map_err(|e| e.to_string())?;
        open_v2_dir(&paths)
    }
}

/// The cgroup's v2 directory opened, for `CLONE_INTO_CGROUP` (none on a v1-only host).
fn open_v2_dir(paths: &CgroupPaths) -> Result<Option<OwnedFd>, String> {
    paths
        .v2_dir()
        .map(|dir| {
            std::fs::File::open(dir)
                .map(OwnedFd::from)
                .map_err(|e| format!("Failed to open {}: {e}", dir.display()))
        })
        .transpose()
}

/// Remove the container's cgroup once init has ended. The kernel kills the rest of the pid
/// namespace when init dies, but their exits may lag a little: a busy cgroup is retried for up
/// to a second.
pub fn remove(name: &str) {
    let Ok((fs, _, paths)) = open(name) else {
        return;
    };
    for attempt in 0..100 {
        if !paths.exists(&fs) {
            return;
        }
        match paths.remove(&fs) {
            Ok(()) => return,
            Err(CgroupError::Busy(_)) if attempt < 99 => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => {
                tracing::warn!(instance = name, error = %e, "Failed to remove the container's cgroup");
                return;
            }
        }
    }
}

/// The container's usage figures.
pub fn usage(name: &str) -> Option<Usage> {
    let (fs, host, paths) = open(name).ok()?;
    let u = read_usage(&fs, host, &paths);
    Some(Usage {
        memory: u.memory.unwrap_or(0),
        memory_peak: u.memory_peak.unwrap_or(0),
        swap: u.swap.unwrap_or(0),
        swap_peak: u.swap_peak.unwrap_or(0),
        cpu_ns: u.cpu_ns.unwrap_or(0),
        processes: u.processes.unwrap_or(0),
    })
}

/// Freeze (or thaw) every process of the container.
pub fn set_frozen(name: &str, frozen: bool) -> Result<(), String> {
    let (fs, host, paths) = open(name)?;
    if frozen {
        freeze(&fs, host, &paths, Duration::from_secs(10)).map_err(|e| e.to_string())
    } else {
        thaw(&fs, host, &paths).map_err(|e| e.to_string())
    }
}

/// Whether the container's freezer says it is frozen.
pub fn frozen(name: &str) -> bool {
    let Ok((fs, host, paths)) = open(name) else {
        return false;
    };
    matches!(
        lxd_runtime::cgroup::freezer_state(&fs, host, &paths),
        Ok(lxd_runtime::cgroup::FreezerState::Frozen)
    )
}

/// Apply the limits that changed between two expanded configs to a running container.
pub fn update_limits(
    name: &str,
    old: &lxd_api::ConfigMap,
    new: &lxd_api::ConfigMap,
) -> Result<(), String> {
    let (fs, host, paths) = open(name)?;
    if !paths.exists(&fs) {
        return Ok(());
    }
    let facts = HostFacts::read(&fs, host, &HostPaths::real()).map_err(|e| e.to_string())?;
    lxd_runtime::cgroup::update_limits(&fs, host, &facts, &paths, old, new)
        .map_err(|e| e.to_string())
}
