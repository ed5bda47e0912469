//! Reading: the host facts limits depend on (memory size, usable CPUs, interfaces) and a
//! container's usage figures for the state endpoint (memory and peak, swap, CPU ns, processes).

use std::collections::BTreeMap;
use std::path::Path;

use lxd_sys::paths::HostPaths;

use super::cpu::parse_cpuset;
use super::discover::{Backend, CgroupHost, Controller};
use super::fs::CgroupFs;
use super::paths::CgroupPaths;
use super::CgroupError;

/// Host values limits are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// `MemTotal` in bytes, for `limits.memory: 50%`.
    pub mem_total: u64,
    /// CPUs our cgroup may use, for `limits.cpu`.
    pub effective_cpus: Vec<u32>,
    /// Containers already placed on each CPU (the daemon's balancer fills this).
    pub cpu_load: BTreeMap<u32, usize>,
    /// Host network interfaces, for `net_prio.ifpriomap`.
    pub interfaces: Vec<String>,
}

impl HostFacts {
    /// Read the facts from `paths.proc`/`paths.sys` and our cpuset cgroup.
    pub fn read(
        fs: &dyn CgroupFs,
        host: &CgroupHost,
        paths: &HostPaths,
    ) -> Result<Self, CgroupError> {
        let meminfo_path = paths.proc_path("meminfo");
        let meminfo = fs
            .read(&meminfo_path)
            .map_err(|e| CgroupError::io("read", &meminfo_path, e))?;
        let mem_total = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
            .ok_or(CgroupError::Parse(meminfo_path))?;
        let mut candidates = Vec::new();
        if let Some(h) = host.hierarchy(Controller::Cpuset) {
            let dir = h.own_dir();
            let effective = match h.backend {
                Backend::V1 => "cpuset.effective_cpus",
                Backend::V2 => "cpuset.cpus.effective",
            };
            candidates.push(dir.join(effective));
            candidates.push(dir.join("cpuset.cpus"));
        }
        candidates.push(paths.sys_path("devices/system/cpu/online"));
        let effective_cpus = candidates
            .iter()
            .filter_map(|p| fs.read(p).ok())
            .find_map(|text| parse_cpuset(text.trim()).ok())
            .unwrap_or_default();
        let interfaces = fs
            .list_dirs(&paths.sys_path("class/net"))
            .unwrap_or_default();
        Ok(Self {
            mem_total,
            effective_cpus,
            cpu_load: BTreeMap::new(),
            interfaces,
        })
    }
}

/// A container's usage; `None` where the host cannot tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupUsage {
    pub memory: Option<u64>,
    pub memory_peak: Option<u64>,
    pub swap: Option<u64>,
    pub swap_peak: Option<u64>,
    pub cpu_ns: Option<u64>,
    pub processes: Option<u64>,
}

fn number(fs: &dyn CgroupFs, dir: &Path, file: &str) -> Option<u64> {
    fs.read(&dir.join(file)).ok()?.trim().parse().ok()
}

/// `cpu.stat`'s `usage_usec` in nanoseconds.
fn cpu_stat_ns(fs: &dyn CgroupFs, dir: &Path) -> Option<u64> {
    let text = fs.read(&dir.join("cpu.stat")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("usage_usec "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|us| us * 1000)
}

/// Gather the usage figures of `cg` (LXD's `GetMemoryUsage`, `GetCPUAcctUsage`, ...).
pub fn read_usage(fs: &dyn CgroupFs, host: &CgroupHost, cg: &CgroupPaths) -> CgroupUsage {
    let mut usage = CgroupUsage::default();
    if let (Some(backend), Some(dir)) =
        (host.backend(Controller::Memory), cg.dir(Controller::Memory))
    {
        match backend {
            Backend::V1 => {
                usage.memory = number(fs, dir, "memory.usage_in_bytes");
                usage.memory_peak = number(fs, dir, "memory.max_usage_in_bytes");
                let both = number(fs, dir, "memory.memsw.usage_in_bytes");
                usage.swap = both.zip(usage.memory).map(|(b, m)| b.saturating_sub(m));
                let both_peak = number(fs, dir, "memory.memsw.max_usage_in_bytes");
                usage.swap_peak = both_peak
                    .zip(usage.memory_peak)
                    .map(|(b, m)| b.saturating_sub(m));
            }
            Backend::V2 => {
                usage.memory = number(fs, dir, "memory.current");
                usage.memory_peak = number(fs, dir, "memory.peak");
                usage.swap = number(fs, dir, "memory.swap.current");
                usage.swap_peak = number(fs, dir, "memory.swap.peak");
            }
        }
    }
    if let (Some(backend), Some(dir)) = (
        host.backend(Controller::Cpuacct),
        cg.dir(Controller::Cpuacct),
    ) {
        usage.cpu_ns = match backend {
            Backend::V1 => number(fs, dir, "cpuacct.usage"),
            Backend::V2 => cpu_stat_ns(fs, dir),
        };
    }
    if let Some(dir) = cg.dir(Controller::Pids) {
        usage.processes = number(fs, dir, "pids.current");
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::fixtures::{fake_hybrid_host, fake_unified_host};
    use crate::cgroup::CgroupBase;

    #[test]
    fn host_facts_read_hybrid_fixture() {
        let (fs, paths) = fake_hybrid_host(Path::new("/h"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let facts = HostFacts::read(&fs, &host, &paths).unwrap();
        assert_eq!(facts.mem_total, 8_000_000 * 1024);
        assert_eq!(facts.effective_cpus, [0, 1, 2, 3]);
        assert_eq!(facts.interfaces, ["eth0", "lo"]);
    }

    #[test]
    fn read_usage_v1_swap_is_memsw_minus_memory() {
        let (fs, paths) = fake_hybrid_host(Path::new("/h"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
        let mem = cg.dir(Controller::Memory).unwrap();
        fs.add_file(mem.join("memory.usage_in_bytes"), "1000\n");
        fs.add_file(mem.join("memory.max_usage_in_bytes"), "3000\n");
        fs.add_file(mem.join("memory.memsw.usage_in_bytes"), "1500\n");
        fs.add_file(mem.join("memory.memsw.max_usage_in_bytes"), "4000\n");
        fs.add_file(
            cg.dir(Controller::Cpuacct).unwrap().join("cpuacct.usage"),
            "123456789\n",
        );
        fs.add_file(
            cg.dir(Controller::Pids).unwrap().join("pids.current"),
            "3\n",
        );
        let usage = read_usage(&fs, &host, &cg);
        assert_eq!(
            usage,
            CgroupUsage {
                memory: Some(1000),
                memory_peak: Some(3000),
                swap: Some(500),
                swap_peak: Some(1000),
                cpu_ns: Some(123_456_789),
                processes: Some(3),
            }
        );
    }

    #[test]
    fn read_usage_v2_cpu_stat_usec_to_ns() {
        let (fs, paths) = fake_unified_host(Path::new("/u"));
        let host = CgroupHost::discover(&fs, &paths).unwrap();
        let cg = CgroupPaths::payload(&host, CgroupBase::Own, "c1").unwrap();
        let dir = cg.unified_dir().unwrap();
        fs.add_file(dir.join("memory.current"), "2048\n");
        fs.add_file(dir.join("memory.peak"), "4096\n");
        fs.add_file(dir.join("memory.swap.current"), "0\n");
        fs.add_file(
            dir.join("cpu.stat"),
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
        );
        fs.add_file(dir.join("pids.current"), "7\n");
        let usage = read_usage(&fs, &host, &cg);
        assert_eq!(usage.memory, Some(2048));
        assert_eq!(usage.memory_peak, Some(4096));
        assert_eq!(usage.swap, Some(0));
        assert_eq!(usage.swap_peak, None);
        assert_eq!(usage.cpu_ns, Some(1_500_000));
        assert_eq!(usage.processes, Some(7));
    }
}
