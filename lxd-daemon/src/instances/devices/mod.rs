//! Devices of containers beyond the root disk: `nic` (p2p, bridged), `proxy`, `unix-char`
//! and `unix-block` (and `disk`, whose resolution lives in `instances::disks`). This module
//! prepares what a start needs on the host, starts what runs beside a running container
//! (proxy helpers), adds and removes devices of running containers (hotplug), cleans up after
//! a stop, keeps the devices' volatile keys, and reads the network state of a container.
//!
//! Host files live in `$LXD_DIR/devices/<instance>/` as in LXD: device nodes
//! (`unix.<device>.<path>`) and proxy helper records (`proxy.<device>`).

pub mod hotplug;
pub mod network_state;
pub mod nic;
pub mod proxy;
pub mod unix;
pub mod volatile;

use std::path::{Path, PathBuf};

use lxd_api::{ConfigMap, DevicesMap};
use lxd_runtime::container::{IdMaps, NicSpec, VolumeBind};
use lxd_shared::config::devices::DeviceError;

use crate::api::ApiError;
use crate::paths::Paths;

/// The host directory of an instance's device files (`runtime_name` is `<project>_<name>`
/// outside the default project).
pub fn devices_dir(paths: &Paths, runtime_name: &str) -> PathBuf {
    paths.var.join("devices").join(runtime_name)
}

/// A refused device as the API answers it: 501 for what this server lacks, else 400;
/// `prefix` is LXD's context (`Invalid devices: ` for instances).
pub fn refusal(e: DeviceError, prefix: &str) -> ApiError {
    if e.is_not_implemented() {
        ApiError::NotImplemented(format!("{prefix}{e}"))
    } else {
        ApiError::bad_request(format!("{prefix}{e}"))
    }
}

fn kind(dev: &ConfigMap) -> &str {
    dev.get("type").map(String::as_str).unwrap_or("")
}

/// What a start needs from the devices, made on the host before the monitor runs.
#[derive(Debug, Default)]
pub struct StartDevices {
    pub nics: Vec<NicSpec>,
    /// Device nodes to bind into `/dev`.
    pub unix_binds: Vec<VolumeBind>,
}

/// Prepare the NICs and device nodes of a start; nothing is left behind on failure.
pub fn prepare_start(
    dir: &Path,
    devices: &DevicesMap,
    config: &ConfigMap,
    idmap: Option<&IdMaps>,
) -> Result<StartDevices, String> {
    let nics = nic::start_specs(devices, config)?;
    let mut unix_binds = Vec::new();
    for (name, dev) in devices {
        if !matches!(kind(dev), "unix-char" | "unix-block") {
            continue;
        }
        match unix::create(dir, name, dev, idmap) {
            Ok(Some(bind)) => unix_binds.push(bind),
            Ok(None) => {}
            Err(e) => {
                remove_unix_nodes(dir);
                return Err(format!("Failed to start device {name:?}: {e}"));
            }
        }
    }
    Ok(StartDevices { nics, unix_binds })
}

/// The volatile `host_name` keys of a started set of NICs.
pub fn host_name_keys(nics: &[NicSpec]) -> ConfigMap {
    nics.iter()
        .map(|n| {
            (
                format!("volatile.{}.host_name", n.device),
                n.host_name.clone(),
            )
        })
        .collect()
}

/// Start the proxy helpers of a running container; on failure the ones started are stopped.
pub async fn start_proxies(
    paths: &Paths,
    runtime_name: &str,
    devices: &DevicesMap,
    init_pid: i32,
) -> Result<(), String> {
    let dir = devices_dir(paths, runtime_name);
    let logs = crate::runtime::state_dir(paths, runtime_name);
    for (name, dev) in devices.iter().filter(|(_, d)| kind(d) == "proxy") {
        let spec = proxy::spec(dev, init_pid);
        if let Err(e) = crate::runtime::proxy::start(paths, &dir, &logs, name, &spec).await {
            crate::runtime::proxy::stop_all(&dir);
            return Err(format!("Failed to start device {name:?}: {e}"));
        }
    }
    Ok(())
}

fn remove_unix_nodes(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("unix.") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// After a container stopped (or failed to start): stop its proxy helpers, remove the host
/// ends of its NICs (`host_names`) and its device nodes. Safe to run more than once.
pub fn cleanup<'a>(dir: &Path, host_names: impl IntoIterator<Item = &'a str>) {
    crate::runtime::proxy::stop_all(dir);
    for host in host_names {
        if let Err(e) = nic::detach(host) {
            tracing::warn!(interface = host, error = %e, "Failed to remove a NIC");
        }
    }
    remove_unix_nodes(dir);
}

/// The host ends recorded in an instance's volatile keys.
pub fn recorded_host_names(config: &ConfigMap) -> Vec<&str> {
    config
        .iter()
        .filter(|(k, v)| k.starts_with("volatile.") && k.ends_with(".host_name") && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .collect()
}
