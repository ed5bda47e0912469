//! CPU inventory: sockets, caches, cores and threads from `/sys/devices/system/cpu`, names
//! and vendors from `/proc/cpuinfo` (SMBIOS type 4 as a fallback).

use std::path::Path;

use lxd_api::resources::{
    ResourcesCpu, ResourcesCpuCache, ResourcesCpuCore, ResourcesCpuSocket, ResourcesCpuThread,
};

use super::sysfs::{exists, list, numa_node_of, read_i64_if_exists, read_raw, read_u64};
use super::{dmi, ResourcesError};
use crate::paths::HostPaths;

/// Parse a cpuset (`0-3,8`) into CPU ids; `None` when malformed.
pub fn parse_cpuset(text: &str) -> Option<Vec<i64>> {
    let mut cpus = Vec::new();
    for chunk in text.split(',') {
        if let Some((low, high)) = chunk.split_once('-') {
            let (low, high): (i64, i64) = (low.parse().ok()?, high.parse().ok()?);
            cpus.extend(low..=high);
        } else {
            cpus.push(chunk.parse().ok()?);
        }
    }
    Some(cpus)
}

/// LXD reads `/proc/cpuinfo` with one forward-only scanner shared by all sockets: for each new
/// socket it looks ahead for the `processor` block whose number equals the socket id.
struct CpuinfoScanner<'a> {
    lines: Vec<&'a str>,
    cursor: usize,
}

impl<'a> CpuinfoScanner<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            lines: text.lines().collect(),
            cursor: 0,
        }
    }

    /// `(vendor, name)` of the block for `socket`, or empty strings.
    fn socket_identity(&mut self, socket: i64) -> (String, String) {
        let (mut vendor, mut name) = (String::new(), String::new());
        let wanted = socket.to_string();
        while self.cursor < self.lines.len() {
            let line = self.lines[self.cursor].trim();
            self.cursor += 1;
            if !line.starts_with("processor") {
                continue;
            }
            let value = line.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
            if value != wanted {
                continue;
            }
            while self.cursor < self.lines.len() {
                let line = self.lines[self.cursor].trim();
                self.cursor += 1;
                if line.is_empty() {
                    break;
                }
                if !vendor.is_empty() && !name.is_empty() {
                    continue;
                }
                let Some((key, value)) = line.split_once(':') else {
                    continue;
                };
                match key.trim() {
                    "vendor_id" => vendor = value.trim().to_string(),
                    "model name" | "cpu" => name = value.trim().to_string(),
                    _ => {}
                }
            }
            break;
        }
        (vendor, name)
    }
}

fn caches(path: &Path) -> Result<Vec<ResourcesCpuCache>, ResourcesError> {
    let mut caches = Vec::new();
    for entry in list(path)? {
        let dir = path.join(entry);
        if !exists(&dir.join("level")) {
            continue;
        }
        let mut cache = ResourcesCpuCache {
            level: read_u64(&dir.join("level"))?,
            kind: "Unknown".to_string(),
            size: 0,
        };
        if let Some(size) = read_if_present(&dir.join("size"))? {
            let (digits, multiplier) = match size.strip_suffix('K') {
                Some(kib) => (kib, 1024),
                None => (size.as_str(), 1),
            };
            let value: u64 = digits.parse().map_err(|_| ResourcesError::Parse {
                path: dir.join("size"),
                value: size.clone(),
            })?;
            cache.size = value * multiplier;
        }
        if let Some(kind) = read_if_present(&dir.join("type"))? {
            cache.kind = kind;
        }
        caches.push(cache);
    }
    Ok(caches)
}

/// A trimmed file, `None` only when missing (other errors propagate).
fn read_if_present(path: &Path) -> Result<Option<String>, ResourcesError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ResourcesError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The first of `names` below `cpufreq` that exists, in MHz.
fn frequency(cpu: &Path, names: &[&str]) -> Result<u64, ResourcesError> {
    for name in names {
        let path = cpu.join("cpufreq").join(name);
        if exists(&path) {
            return Ok(read_u64(&path)? / 1000);
        }
    }
    Ok(0)
}

struct SocketBuild {
    socket: ResourcesCpuSocket,
    /// Cores keyed by `(die, core)` in discovery order.
    cores: Vec<((i64, i64), ResourcesCpuCore)>,
}

pub(super) fn collect(paths: &HostPaths, machine: &str) -> Result<ResourcesCpu, ResourcesError> {
    let root = paths.sys_path("devices/system/cpu");
    let isolated = std::fs::read_to_string(root.join("isolated"))
        .ok()
        .and_then(|t| {
            let t = t.trim();
            if t.is_empty() {
                None
            } else {
                parse_cpuset(t)
            }
        })
        .unwrap_or_default();
    let cpuinfo = read_raw(&paths.proc_path("cpuinfo"))?;
    let mut scanner = CpuinfoScanner::new(&cpuinfo);
    let mut dmi_identity: Option<(String, String)> = None;

    let mut sockets: Vec<(i64, SocketBuild)> = Vec::new();
    let mut total = 0;
    for entry in list(&root)? {
        let cpu = root.join(&entry);
        let topology = cpu.join("topology");
        if !exists(&topology) {
            continue;
        }
        let read_topology = |name: &str| -> Result<i64, ResourcesError> {
            Ok(read_i64_if_exists(&topology.join(name))?
                .filter(|v| *v != -1)
                .unwrap_or(0))
        };
        let socket_id = read_topology("physical_package_id")?;
        let core_id = read_topology("core_id")?;
        let die_id = read_topology("die_id")?;

        let index = match sockets.iter().position(|(id, _)| *id == socket_id) {
            Some(index) => index,
            None => {
                let (mut vendor, mut name) = scanner.socket_identity(socket_id);
                if vendor.is_empty() || name.is_empty() {
                    let (dmi_vendor, dmi_name) = dmi_identity
                        .get_or_insert_with(|| dmi::processor_identity(paths).unwrap_or_default());
                    if vendor.is_empty() {
                        vendor = dmi_vendor.clone();
                    }
                    if name.is_empty() {
                        name = dmi_name.clone();
                    }
                }
                let cache_dir = cpu.join("cache");
                let socket = ResourcesCpuSocket {
                    name,
                    vendor,
                    socket: socket_id as u64,
                    cache: if exists(&cache_dir) {
                        caches(&cache_dir)?
                    } else {
                        Vec::new()
                    },
                    frequency_minimum: frequency(&cpu, &["cpuinfo_min_freq", "scaling_min_freq"])?,
                    frequency_turbo: frequency(&cpu, &["cpuinfo_max_freq", "scaling_max_freq"])?,
                    ..Default::default()
                };
                sockets.push((
                    socket_id,
                    SocketBuild {
                        socket,
                        cores: Vec::new(),
                    },
                ));
                sockets.len() - 1
            }
        };
        let build = &mut sockets[index].1;
        let core_index = match build
            .cores
            .iter()
            .position(|(k, _)| *k == (die_id, core_id))
        {
            Some(i) => i,
            None => {
                let core = ResourcesCpuCore {
                    core: core_id as u64,
                    die: die_id as u64,
                    threads: Vec::new(),
                    frequency: frequency(&cpu, &["scaling_cur_freq"])?,
                };
                build.cores.push(((die_id, core_id), core));
                build.cores.len() - 1
            }
        };
        let id: i64 =
            entry
                .trim_start_matches("cpu")
                .parse()
                .map_err(|_| ResourcesError::Parse {
                    path: cpu.clone(),
                    value: entry.clone(),
                })?;
        let online_path = cpu.join("online");
        let online = !exists(&online_path) || read_u64(&online_path)? != 0;
        let core = &mut build.cores[core_index].1;
        core.threads.push(ResourcesCpuThread {
            id,
            numa_node: numa_node_of(&cpu)?,
            thread: core.threads.len() as u64,
            online,
            isolated: isolated.contains(&id),
        });
        total += 1;
    }

    sockets.sort_by_key(|(id, _)| *id);
    let sockets = sockets
        .into_iter()
        .map(|(_, build)| {
            let mut socket = build.socket;
            let mut cores: Vec<ResourcesCpuCore> =
                build.cores.into_iter().map(|(_, c)| c).collect();
            let measured: Vec<u64> = cores
                .iter()
                .map(|c| c.frequency)
                .filter(|f| *f > 0)
                .collect();
            if !measured.is_empty() {
                socket.frequency = measured.iter().sum::<u64>() / measured.len() as u64;
            }
            cores.sort_by_key(|c| c.core);
            socket.cores = cores;
            socket
        })
        .collect();
    Ok(ResourcesCpu {
        architecture: machine.to_string(),
        sockets,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\
        model name\t: Intel(R) Xeon(R) Processor\ncpu MHz\t\t: 2599.996\n\n\
        processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n\n";

    fn cpu_dir(fake: &FakeHost, n: u32, core: u32, package: u32) {
        let base = format!("sys/devices/system/cpu/cpu{n}");
        fake.write(&format!("{base}/topology/core_id"), &format!("{core}\n"));
        fake.write(
            &format!("{base}/topology/physical_package_id"),
            &format!("{package}\n"),
        );
        fake.write(&format!("{base}/topology/die_id"), "0\n");
        fake.link(&format!("{base}/node0"), "../../node/node0");
        for (index, level, kind, size) in [
            (0, 1, "Data", "48K"),
            (1, 1, "Instruction", "64K"),
            (2, 2, "Unified", "2048K"),
        ] {
            let cache = format!("{base}/cache/index{index}");
            fake.write(&format!("{cache}/level"), &format!("{level}\n"));
            fake.write(&format!("{cache}/type"), &format!("{kind}\n"));
            fake.write(&format!("{cache}/size"), &format!("{size}\n"));
        }
    }

    fn two_cpu_host() -> (tempfile::TempDir, HostPaths, FakeHost) {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write("proc/cpuinfo", CPUINFO);
        fake.write("sys/devices/system/node/node0/numastat", "numa_hit 1\n");
        fake.write("sys/devices/system/cpu/online", "0-1\n");
        fake.write("sys/devices/system/cpu/isolated", "\n");
        cpu_dir(&fake, 0, 0, 0);
        cpu_dir(&fake, 1, 1, 0);
        let paths = HostPaths::under(dir.path());
        (dir, paths, fake)
    }

    #[test]
    fn cpu_two_cores_one_socket_like_lxd() {
        let (_dir, paths, _fake) = two_cpu_host();
        let cpu = collect(&paths, "x86_64").unwrap();
        let json = serde_json::to_string(&cpu).unwrap();
        assert_eq!(
            json,
            r#"{"architecture":"x86_64","sockets":[{"name":"Intel(R) Xeon(R) Processor","vendor":"GenuineIntel","socket":0,"cache":[{"level":1,"type":"Data","size":49152},{"level":1,"type":"Instruction","size":65536},{"level":2,"type":"Unified","size":2097152}],"cores":[{"core":0,"die":0,"threads":[{"id":0,"numa_node":0,"thread":0,"online":true,"isolated":false}]},{"core":1,"die":0,"threads":[{"id":1,"numa_node":0,"thread":0,"online":true,"isolated":false}]}]}],"total":2}"#
        );
    }

    #[test]
    fn cpu_offline_isolated_thread_flags_set() {
        let (_dir, paths, fake) = two_cpu_host();
        fake.write("sys/devices/system/cpu/cpu1/online", "0\n");
        fake.write("sys/devices/system/cpu/isolated", "1\n");
        let cpu = collect(&paths, "x86_64").unwrap();
        let thread = &cpu.sockets[0].cores[1].threads[0];
        assert!(!thread.online);
        assert!(thread.isolated);
    }

    #[test]
    fn cpu_smt_siblings_share_core_thread_numbers() {
        let (_dir, paths, fake) = two_cpu_host();
        fake.write("sys/devices/system/cpu/cpu1/topology/core_id", "0\n");
        fake.write(
            "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq",
            "2000000\n",
        );
        let cpu = collect(&paths, "x86_64").unwrap();
        let socket = &cpu.sockets[0];
        assert_eq!(socket.cores.len(), 1);
        assert_eq!(socket.cores[0].threads[1].thread, 1);
        assert_eq!(socket.cores[0].frequency, 2000);
        assert_eq!(socket.frequency, 2000);
        assert_eq!(cpu.total, 2);
    }

    #[test]
    fn cpu_sysfs_missing_list_error() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write("proc/cpuinfo", CPUINFO);
        let err = collect(&HostPaths::under(dir.path()), "x86_64").unwrap_err();
        assert!(err.to_string().starts_with("Failed to list"));
    }

    #[test]
    fn parse_cpuset_ranges_and_singles() {
        assert_eq!(parse_cpuset("0-2,5"), Some(vec![0, 1, 2, 5]));
        assert_eq!(parse_cpuset("x"), None);
    }
}
