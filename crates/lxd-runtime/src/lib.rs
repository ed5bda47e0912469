//! The container runtime, driven by the daemon through re-executed helper processes: cgroups
//! (v2 and v1/hybrid), seccomp, AppArmor profiles, namespaces, rootfs and idmapped mounts,
//! exec, the per-container monitor, and devices of running containers (live mounts, the proxy
//! helper). It never touches the database or speaks HTTP.

pub mod apparmor;
pub mod cgroup;
pub mod container;
pub mod devices;
pub mod seccomp;
