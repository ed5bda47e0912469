//! Host facts gathered once at start-up for `GET /1.0` (kernel, OS, features, firewall).

use std::collections::BTreeMap;
use std::path::Path;

use lxd_sys::command::RealCommandRunner;
use lxd_sys::host::{self, HostInfo};
use lxd_sys::paths::HostPaths;

/// What the environment section of `GET /1.0` reports about the machine.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    pub host: HostInfo,
    pub kernel_features: BTreeMap<String, String>,
    pub firewall: String,
    pub pid: i64,
    /// What the host offers for AppArmor (LXD's `sys.OS` AppArmor fields).
    pub apparmor: lxd_runtime::apparmor::AppArmorHost,
}

impl HostFacts {
    /// Probe the running host; `scratch` is a writable directory for probes that need a file.
    pub fn gather(scratch: &Path) -> Self {
        let paths = HostPaths::real();
        let host = host::host_info(&paths).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "Failed to read host facts");
            HostInfo::default()
        });
        let features = host::probe_kernel_features(&paths, &host.kernel_version, scratch);
        let firewall = host::detect_firewall(&RealCommandRunner, &host.kernel_version);
        let apparmor_off = std::env::var("LXD_SECURITY_APPARMOR").as_deref() == Ok("false");
        let apparmor =
            lxd_runtime::apparmor::AppArmorHost::probe(&paths, &RealCommandRunner, apparmor_off);
        Self {
            kernel_features: features.to_map(),
            firewall: firewall.as_str().to_string(),
            host,
            pid: std::process::id() as i64,
            apparmor,
        }
    }
}
