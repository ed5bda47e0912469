//! Memory inventory: `/proc/meminfo`, per-node `meminfo`, and online memory blocks.
//!
//! As in LXD, the total is the online memory blocks times the block size when sysfs exposes
//! them (meminfo's `MemTotal` misses what the kernel reserved), and system `used` is
//! `total - free - cached - buffers` (Go's wrapping arithmetic kept), while a node's `used` is
//! its own `MemUsed`.

use std::path::Path;

use lxd_api::resources::{ResourcesMemory, ResourcesMemoryNode};

use super::sysfs::{exists, list, read_raw};
use super::ResourcesError;
use crate::paths::HostPaths;

#[derive(Debug, Default, PartialEq)]
struct Meminfo {
    total: u64,
    free: u64,
    used: u64,
    cached: u64,
    buffers: u64,
    hugepages_total: u64,
    hugepages_free: u64,
    hugepages_size: u64,
}

/// Parse meminfo text (system or `Node N` prefixed); sizes in bytes, page counts as-is.
fn parse_meminfo(path: &Path, text: &str) -> Result<Meminfo, ResourcesError> {
    let mut info = Meminfo::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        let key = key.trim().rsplit(' ').next().unwrap_or("");
        let slot = match key {
            "MemTotal" => &mut info.total,
            "MemFree" => &mut info.free,
            "MemUsed" => &mut info.used,
            "Cached" => &mut info.cached,
            "Buffers" => &mut info.buffers,
            "HugePages_Total" => &mut info.hugepages_total,
            "HugePages_Free" => &mut info.hugepages_free,
            "Hugepagesize" => &mut info.hugepages_size,
            _ => continue,
        };
        let value = value.trim();
        let (digits, multiplier) = match value.strip_suffix(" kB") {
            Some(kib) => (kib.trim(), 1024),
            None => (value, 1),
        };
        *slot = digits.parse::<u64>().map_err(|_| ResourcesError::Parse {
            path: path.to_path_buf(),
            value: value.to_string(),
        })? * multiplier;
    }
    Ok(info)
}

fn read_meminfo(path: &Path) -> Result<Meminfo, ResourcesError> {
    parse_meminfo(path, &read_raw(path)?)
}

/// Bytes of online memory blocks below `dir`, or 0 when sysfs does not expose them.
fn online_block_bytes(paths: &HostPaths, dir: &Path) -> u64 {
    let size_path = paths.sys_path("devices/system/memory/block_size_bytes");
    let Some(block_size) = std::fs::read_to_string(size_path)
        .ok()
        .and_then(|t| u64::from_str_radix(t.trim(), 16).ok())
        .filter(|size| *size > 0)
    else {
        return 0;
    };
    let Ok(entries) = list(dir) else {
        return 0;
    };
    let mut online = 0;
    for entry in entries.iter().filter(|e| e.starts_with("memory")) {
        let state = dir.join(entry).join("online");
        if !exists(&state) {
            continue;
        }
        match std::fs::read_to_string(&state) {
            Ok(text) if text.trim() == "1" => online += 1,
            Ok(_) => {}
            Err(_) => return 0,
        }
    }
    block_size * online
}

pub(super) fn collect(paths: &HostPaths) -> Result<ResourcesMemory, ResourcesError> {
    let mut info = read_meminfo(&paths.proc_path("meminfo"))?;
    let blocks = online_block_bytes(paths, &paths.sys_path("devices/system/memory"));
    if blocks > 0 {
        info.total = blocks;
    }
    let mut memory = ResourcesMemory {
        nodes: Vec::new(),
        hugepages_total: info.hugepages_total.wrapping_mul(info.hugepages_size),
        hugepages_used: (info.hugepages_total.wrapping_sub(info.hugepages_free))
            .wrapping_mul(info.hugepages_size),
        hugepages_size: info.hugepages_size,
        used: info
            .total
            .wrapping_sub(info.free)
            .wrapping_sub(info.cached)
            .wrapping_sub(info.buffers),
        total: info.total,
    };

    let nodes_dir = paths.sys_path("devices/system/node");
    if exists(&nodes_dir) {
        for entry in list(&nodes_dir)? {
            let dir = nodes_dir.join(&entry);
            if !exists(&dir.join("meminfo")) {
                continue;
            }
            let number: u64 =
                entry
                    .trim_start_matches("node")
                    .parse()
                    .map_err(|_| ResourcesError::Parse {
                        path: dir.clone(),
                        value: entry.clone(),
                    })?;
            let node_info = read_meminfo(&dir.join("meminfo"))?;
            let blocks = online_block_bytes(paths, &dir);
            memory.nodes.push(ResourcesMemoryNode {
                numa_node: number,
                hugepages_used: node_info
                    .hugepages_total
                    .wrapping_sub(node_info.hugepages_free)
                    .wrapping_mul(memory.hugepages_size),
                hugepages_total: node_info
                    .hugepages_total
                    .wrapping_mul(memory.hugepages_size),
                used: node_info.used,
                total: if blocks > 0 { blocks } else { node_info.total },
            });
        }
    }
    Ok(memory)
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    const MEMINFO: &str = "MemTotal:       24576000 kB\nMemFree:        20000000 kB\n\
        MemAvailable:   22000000 kB\nBuffers:          100000 kB\nCached:          1000000 kB\n\
        HugePages_Total:       4\nHugePages_Free:        1\nHugepagesize:       2048 kB\n";
    const NODE_MEMINFO: &str = "Node 0 MemTotal:       24576000 kB\nNode 0 MemFree:        \
        20000000 kB\nNode 0 MemUsed:         4576000 kB\nNode 0 HugePages_Total:     4\n\
        Node 0 HugePages_Free:      1\n";

    #[test]
    fn memory_meminfo_only_used_excludes_cache() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write("proc/meminfo", MEMINFO);
        let memory = collect(&HostPaths::under(dir.path())).unwrap();
        assert_eq!(memory.total, 24_576_000 * 1024);
        assert_eq!(
            memory.used,
            (24_576_000 - 20_000_000 - 1_000_000 - 100_000) * 1024
        );
        assert_eq!(memory.hugepages_size, 2 * 1024 * 1024);
        assert_eq!(memory.hugepages_total, 4 * 2 * 1024 * 1024);
        assert_eq!(memory.hugepages_used, 3 * 2 * 1024 * 1024);
        assert!(memory.nodes.is_empty());
    }

    #[test]
    fn memory_online_blocks_override_total() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write("proc/meminfo", MEMINFO);
        fake.write("sys/devices/system/memory/block_size_bytes", "8000000\n");
        for n in 0..3 {
            fake.write(
                &format!("sys/devices/system/memory/memory{n}/online"),
                "1\n",
            );
        }
        fake.write("sys/devices/system/memory/memory3/online", "0\n");
        fake.write("sys/devices/system/node/node0/meminfo", NODE_MEMINFO);
        fake.write("sys/devices/system/node/node0/memory0/online", "1\n");
        fake.write("sys/devices/system/node/has_cpu", "0\n");
        let memory = collect(&HostPaths::under(dir.path())).unwrap();
        assert_eq!(memory.total, 3 * 0x800_0000);
        assert_eq!(memory.nodes.len(), 1);
        let node = &memory.nodes[0];
        assert_eq!(node.total, 0x800_0000);
        assert_eq!(node.used, 4_576_000 * 1024);
        assert_eq!(node.hugepages_used, 3 * 2 * 1024 * 1024);
    }

    #[test]
    fn memory_bad_number_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write("proc/meminfo", "MemTotal: lots kB\n");
        let err = collect(&HostPaths::under(dir.path())).unwrap_err();
        assert!(matches!(err, ResourcesError::Parse { .. }));
    }
}
