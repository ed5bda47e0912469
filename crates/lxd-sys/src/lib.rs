//! The OS boundary: everything that reads the host (procfs, sysfs, os-release, ioctls, kernel
//! feature probes) or runs its tools, behind small functions and traits with injected paths.
//!
//! This is the only crate allowed `unsafe`; every block carries a `// SAFETY:` comment. It
//! never changes the host's state except for short-lived scratch objects of its probes, and it
//! holds no daemon state: callers cache what they read.
//!
//! - [`paths`]: [`HostPaths`], the roots of `/proc`, `/sys`, `/etc` ... (fake trees in tests).
//! - [`host`]: uname, os-release, hostname, architectures, firewall, kernel features.
//! - [`resources`]: the inventory of `GET /1.0/resources`.
//! - [`pool`]: usage of a storage pool's filesystem.
//! - [`activation`]: listening sockets handed over by systemd.
//! - [`btrfs`]: the btrfs ioctl that sets a subvolume's received UUID.
//! - [`command`]: the [`CommandRunner`] trait for external tools, with a recording fake.
//! - [`memory`]: a long-lived helper gives back the clean code pages it used only to start.
//! - [`seccomp`]: loading a seccomp program built beforehand.

pub mod activation;
pub mod btrfs;
pub mod command;
pub mod fdpass;
pub mod host;
pub mod memory;
pub mod mount_api;
pub mod paths;
pub mod pool;
pub mod priority;
pub mod proc;
pub mod resources;
pub mod seccomp;
pub mod spawn;
pub mod tty;

pub use command::{CommandError, CommandRunner, RealCommandRunner, RecordingCommandRunner};
pub use host::{
    detect_firewall, host_info, probe_kernel_features, Firewall, HostError, HostInfo,
    KernelFeatures,
};
pub use paths::HostPaths;
pub use pool::{pool_resources, PoolError};
pub use resources::{collect, ResourcesError};
