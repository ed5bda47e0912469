//! cgroups: limits, usage and the freezer, on v2 and v1/hybrid hierarchies.
//!
//! The pieces, in the order the daemon uses them:
//! - [`CgroupHost::discover`] reads `/proc/self/mountinfo` and `/proc/self/cgroup` (below an
//!   injected [`lxd_sys::paths::HostPaths`]) and says where each controller lives, which mode the
//!   host is in (pure v2, hybrid, legacy) and which controllers are missing.
//! - [`CgroupPaths`] names one container's cgroup in every hierarchy (`lxc.payload.<name>`,
//!   `lxc.monitor.<name>`) and creates, attaches to, enters and removes it.
//! - [`plan_limits`] / [`plan_limits_update`] turn `limits.*` config into the exact file writes
//!   (pure, no I/O); [`apply_writes`] performs them and rolls back on a kernel refusal;
//!   [`apply_limits`] / [`update_limits`] do both for start and for a live update.
//! - [`freeze`] / [`thaw`] drive the freezer; [`read_usage`] gathers the state endpoint figures.
//!
//! Every file access goes through [`CgroupFs`]; [`FakeCgroupFs`] records them for unit tests.
//! This module never kills processes (the caller empties a cgroup before removing it) and never
//! touches a cgroup it was not asked to create.

mod apply;
mod controller;
mod cpu;
mod discover;
mod fake;
pub mod fixtures;
mod freezer;
mod fs;
mod limits;
mod paths;
mod usage;
mod warnings;

use std::io;
use std::path::PathBuf;

use thiserror::Error;

pub use apply::{apply_limits, apply_writes, update_limits, CgroupWrite};
pub use cpu::{
    format_cpus, parse_cpu_allowance, parse_cpu_limit, parse_cpuset, resolve_cpuset, CpuAllowance,
    CpuLimit,
};
pub use discover::{Backend, CgroupHost, CgroupMode, Controller, Features, Hierarchy};
pub use fake::{FakeCgroupFs, FsOp};
pub use freezer::{freeze, freezer_state, thaw, FreezerState};
pub use fs::{CgroupFs, RealCgroupFs};
pub use limits::{check_limit_value, plan_limits, plan_limits_update, LimitError, LIMIT_KEYS};
pub use paths::{CgroupBase, CgroupPaths};
pub use usage::{read_usage, CgroupUsage, HostFacts};
pub use warnings::CgroupWarning;

/// A cgroup operation that failed.
#[derive(Debug, Error)]
pub enum CgroupError {
    /// A file or directory operation on a cgroup filesystem failed.
    #[error("Failed to {action} {path:?}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A cgroup directory still holds processes (or children that do).
    #[error("Cgroup {0:?} is busy: it still has processes")]
    Busy(PathBuf),
    /// A config value was refused before anything was written.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// A limit needs a controller or file the host lacks.
    #[error("Cannot apply {key} as {what} cgroup controller is missing")]
    ControllerMissing {
        key: &'static str,
        what: &'static str,
    },
    /// The freezer controller is not available.
    #[error("The freezer cgroup controller is missing")]
    NoFreezer,
    /// The freezer did not report the target state in time.
    #[error("Timed out waiting for {0:?} to freeze")]
    FreezeTimeout(PathBuf),
    /// A cgroup name that would escape its parent or is empty.
    #[error("Invalid cgroup name {0:?}")]
    BadName(String),
    /// A cgroup file held something that is not what the kernel writes there.
    #[error("Unexpected content in {0:?}")]
    Parse(PathBuf),
}

impl CgroupError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
