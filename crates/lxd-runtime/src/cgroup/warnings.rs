//! The start-up warnings LXD records for missing controllers (`cgroup.Info.Warnings`), with
//! LXD's warning type names and messages.

use super::discover::{CgroupHost, Controller};

/// A warning the daemon records for a missing controller: (LXD warning type, message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupWarning {
    pub kind: &'static str,
    pub message: &'static str,
}

/// What a check needs present.
enum Need {
    Any(&'static [Controller]),
    BlkioWeight,
    MemorySwap,
}

const CHECKS: &[(Need, &str, &str)] = &[
    (
        Need::Any(&[Controller::Blkio]),
        "Couldn't find the CGroup blkio",
        "disk I/O limits will be ignored",
    ),
    (
        Need::BlkioWeight,
        "Couldn't find the CGroup blkio.weight",
        "disk priority will be ignored",
    ),
    (
        Need::Any(&[Controller::Cpu]),
        "Couldn't find the CGroup CPU controller",
        "CPU time limits will be ignored",
    ),
    (
        Need::Any(&[Controller::Cpuacct, Controller::Cpu]),
        "Couldn't find the CGroup CPUacct controller",
        "CPU accounting will not be available",
    ),
    // LXD 5.0.2 files the cpuset warning under the CPU controller type.
    (
        Need::Any(&[Controller::Cpuset]),
        "Couldn't find the CGroup CPU controller",
        "CPU pinning will be ignored",
    ),
    (
        Need::Any(&[Controller::Devices]),
        "Couldn't find the CGroup devices controller",
        "device access control won't work",
    ),
    (
        Need::Any(&[Controller::Freezer]),
        "Couldn't find the CGroup freezer controller",
        "pausing/resuming containers won't work",
    ),
    (
        Need::Any(&[Controller::Hugetlb]),
        "Couldn't find the CGroup hugetlb controller",
        "hugepage limits will be ignored",
    ),
    (
        Need::Any(&[Controller::Memory]),
        "Couldn't find the CGroup memory controller",
        "memory limits will be ignored",
    ),
    (
        Need::Any(&[Controller::NetPrio]),
        "Couldn't find the CGroup network priority controller",
        "network priority will be ignored",
    ),
    (
        Need::Any(&[Controller::Pids]),
        "Couldn't find the CGroup pids controller",
        "process limits will be ignored",
    ),
    (
        Need::MemorySwap,
        "Couldn't find the CGroup memory swap accounting",
        "swap limits will be ignored",
    ),
];

impl CgroupHost {
    /// The warnings LXD records at start-up for what this host lacks, in LXD's order.
    pub fn warnings(&self) -> Vec<CgroupWarning> {
        CHECKS
            .iter()
            .filter(|(need, _, _)| match need {
                Need::Any(list) => !list.iter().any(|c| self.hierarchy(*c).is_some()),
                Need::BlkioWeight => self.features.blkio_weight_file.is_none(),
                Need::MemorySwap => !self.features.memory_swap,
            })
            .map(|(_, kind, message)| CgroupWarning { kind, message })
            .collect()
    }
}
