//! The host inventory of `GET /1.0/resources`, read from procfs and sysfs the way LXD 5.0.2's
//! `lxd/resources` package reads it, so both daemons answer alike on the same machine.
//!
//! Sources: `/proc/cpuinfo` and `/sys/devices/system/cpu` (CPU), `/proc/meminfo` and
//! `/sys/devices/system/{memory,node}` (memory), `/sys/class/drm` and `/sys/bus/pci` (GPU),
//! `/sys/class/net` with ethtool ioctls (network), `/sys/class/block`, `/dev` and udev's
//! database (storage), `/sys/bus/usb` (USB), `/sys/class/dmi/id` (system). Vendor and product
//! names come from `pci.ids`/`usb.ids` when installed. Everything is read fresh on each call;
//! this module never writes.

mod cpu;
mod dmi;
mod ethtool;
mod gpu;
mod ids;
mod memory;
mod network;
mod pci;
mod storage;
mod sysfs;
mod system;
mod usb;

use std::path::PathBuf;

use lxd_api::resources::Resources;

use crate::host::uname;
use crate::paths::HostPaths;

pub use cpu::parse_cpuset;
pub use system::detect_system_type;

/// Why the inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ResourcesError {
    #[error("Failed to read {path:?}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to list {path:?}")]
    List {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to resolve {path:?}")]
    Resolve {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to parse {value:?} read from {path:?}")]
    Parse { path: PathBuf, value: String },
    #[error("Failed to get the kernel identity")]
    Uname(#[source] crate::host::HostError),
}

/// Collect the whole inventory of the host rooted at `paths`.
pub fn collect(paths: &HostPaths) -> Result<Resources, ResourcesError> {
    let uts = uname().map_err(ResourcesError::Uname)?;
    collect_with(paths, &uts.machine, &uts.release)
}

/// [`collect`] with the kernel identity given: `machine` becomes `cpu.architecture` and
/// `release` the driver version of drivers without a module version (as in LXD).
pub fn collect_with(
    paths: &HostPaths,
    machine: &str,
    release: &str,
) -> Result<Resources, ResourcesError> {
    let pci_ids = ids::IdsDatabase::load_pci(paths);
    Ok(Resources {
        cpu: cpu::collect(paths, machine)?,
        memory: memory::collect(paths)?,
        gpu: gpu::collect(paths, release, &pci_ids)?,
        network: network::collect(paths, release, &pci_ids)?,
        storage: storage::collect(paths)?,
        usb: usb::collect(paths, release)?,
        pci: pci::collect(paths, release, &pci_ids)?,
        system: system::collect(paths)?,
    })
}

#[cfg(test)]
pub(crate) mod fake;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_real_host_structurally_sane() {
        let started = std::time::Instant::now();
        let resources = collect(&HostPaths::real()).unwrap();
        let elapsed = started.elapsed();
        assert!(resources.cpu.total >= 1);
        assert!(!resources.cpu.sockets.is_empty());
        assert!(!resources.cpu.architecture.is_empty());
        assert!(resources.memory.total > 0);
        assert!(resources.memory.used <= resources.memory.total);
        assert_eq!(resources.pci.total as usize, resources.pci.devices.len());
        assert!(!resources.system.kind.is_empty());
        eprintln!("collect took {elapsed:?}");
    }

    #[test]
    fn collect_empty_tree_empty_inventory() {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths::under(dir.path());
        let fake = fake::FakeHost::new(dir.path());
        fake.write("proc/cpuinfo", "");
        fake.dir("sys/devices/system/cpu");
        fake.write("proc/meminfo", "MemTotal: 1024 kB\nMemFree: 512 kB\n");
        let resources = collect_with(&paths, "x86_64", "6.1.0").unwrap();
        let json = serde_json::to_value(&resources).unwrap();
        assert_eq!(json["cpu"]["sockets"], serde_json::json!([]));
        assert_eq!(json["gpu"], serde_json::json!({"cards": [], "total": 0}));
        assert_eq!(
            json["network"],
            serde_json::json!({"cards": [], "total": 0})
        );
        assert_eq!(json["usb"], serde_json::json!({"devices": [], "total": 0}));
        assert_eq!(json["memory"]["total"], 1024 * 1024);
        assert_eq!(json["system"]["firmware"], serde_json::Value::Null);
    }
}
