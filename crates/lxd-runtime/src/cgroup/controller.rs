//! The names of things: resource controllers, hierarchy kinds and host cgroup modes.

/// A resource controller, named as LXD's abstraction names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Controller {
    Cpu,
    Cpuacct,
    Cpuset,
    Memory,
    Devices,
    Freezer,
    /// `blkio` on v1, `io` on v2.
    Blkio,
    Pids,
    NetPrio,
    Hugetlb,
}

impl Controller {
    pub const ALL: [Controller; 10] = [
        Self::Cpu,
        Self::Cpuacct,
        Self::Cpuset,
        Self::Memory,
        Self::Devices,
        Self::Freezer,
        Self::Blkio,
        Self::Pids,
        Self::NetPrio,
        Self::Hugetlb,
    ];

    /// The v1 hierarchy option naming it.
    pub fn v1_name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cpuacct => "cpuacct",
            Self::Cpuset => "cpuset",
            Self::Memory => "memory",
            Self::Devices => "devices",
            Self::Freezer => "freezer",
            Self::Blkio => "blkio",
            Self::Pids => "pids",
            Self::NetPrio => "net_prio",
            Self::Hugetlb => "hugetlb",
        }
    }

    pub(crate) fn from_v2_name(name: &str) -> Option<Self> {
        Some(match name {
            "cpu" => Self::Cpu,
            "cpuset" => Self::Cpuset,
            "memory" => Self::Memory,
            "io" => Self::Blkio,
            "pids" => Self::Pids,
            "hugetlb" => Self::Hugetlb,
            _ => return None,
        })
    }
}

/// Which kind of hierarchy a controller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    V1,
    V2,
}

/// The host's overall layout (LXD's `Info.Mode()` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupMode {
    Disabled,
    Unified,
    Hybrid,
    Legacy,
}

impl CgroupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Unified => "cgroup2",
            Self::Hybrid => "hybrid",
            Self::Legacy => "legacy",
        }
    }
}
