//! Device changes on a running container (LXD's hotplug): devices removed from, added to or
//! changed in the expanded set take effect live. A changed device is removed and added again.
//! `nic` (p2p, bridged), `proxy`, `unix-char`, `unix-block` and non-root `disk` devices plug;
//! other types (and the root disk) change only in the record, as before. When an addition
//! fails, what this change did is undone and the change is refused.

use lxd_api::{ConfigMap, DevicesMap};
use lxd_runtime::container::{IdMaps, VolumeBind};
use lxd_runtime::devices::mount::{MountAction, MountJob};

use crate::handlers::instances::store::Loaded;
use crate::state::AppState;

fn kind(dev: &ConfigMap) -> &str {
    dev.get("type").map(String::as_str).unwrap_or("")
}

/// Whether a device is plugged live.
fn pluggable(dev: &ConfigMap) -> bool {
    match kind(dev) {
        "nic" | "proxy" | "unix-char" | "unix-block" => true,
        "disk" => crate::instances::disks::is_extra_disk(dev),
        _ => false,
    }
}

/// The pluggable devices to remove and to add when going from `old` to `new`.
pub fn diff(old: &DevicesMap, new: &DevicesMap) -> (DevicesMap, DevicesMap) {
    let removed = old
        .iter()
        .filter(|(n, d)| pluggable(d) && new.get(*n) != Some(*d))
        .map(|(n, d)| (n.clone(), d.clone()))
        .collect();
    let added = new
        .iter()
        .filter(|(n, d)| pluggable(d) && old.get(*n) != Some(*d))
        .map(|(n, d)| (n.clone(), d.clone()))
        .collect();
    (removed, added)
}

/// The instance's current id map (`None` for a privileged container).
fn current_idmap(config: &ConfigMap) -> Option<IdMaps> {
    let json = config.get("volatile.idmap.current")?;
    let set = lxd_shared::idmap::IdmapSet::from_json(json).ok()??;
    (!set.entries.is_empty()).then(|| crate::instances::idmap::to_runtime(&set))
}

async fn mount(state: &AppState, pid: i32, action: MountAction) -> Result<(), String> {
    let job = MountJob {
        init_pid: pid,
        action,
    };
    crate::runtime::mount::run(&state.paths, &job)
        .await
        .map_err(|e| e.to_string())
}

async fn attach_mount(state: &AppState, pid: i32, bind: VolumeBind) -> Result<(), String> {
    mount(state, pid, MountAction::Attach { bind })
        .await
        .map_err(|e| format!("Failed to add mount for device inside container: {e}"))
}

/// Plug one device; returns the volatile keys it sets.
async fn add(
    state: &AppState,
    inst: &Loaded,
    pid: i32,
    name: &str,
    dev: &ConfigMap,
    config: &ConfigMap,
) -> Result<ConfigMap, String> {
    let dir = super::devices_dir(&state.paths, &inst.runtime_name());
    let mut keys = ConfigMap::new();
    match kind(dev) {
        "nic" => {
            let kind =
                lxd_shared::config::devices::nic::nic_type(name, dev).map_err(|e| e.to_string())?;
            let spec = super::nic::spec_for(name, dev, kind, config)?;
            let plugged = spec.clone();
            tokio::task::spawn_blocking(move || super::nic::attach(pid, &plugged, false))
                .await
                .map_err(|e| e.to_string())??;
            keys.insert(format!("volatile.{name}.host_name"), spec.host_name);
        }
        "proxy" => {
            let logs = crate::runtime::state_dir(&state.paths, &inst.runtime_name());
            let spec = super::proxy::spec(dev, pid);
            crate::runtime::proxy::start(&state.paths, &dir, &logs, name, &spec)
                .await
                .map_err(|e| e.to_string())?;
        }
        "unix-char" | "unix-block" => {
            let idmap = current_idmap(&inst.row.config);
            if let Some(bind) = super::unix::create(&dir, name, dev, idmap.as_ref())? {
                if let Err(e) = attach_mount(state, pid, bind).await {
                    super::unix::remove(&dir, name);
                    return Err(e);
                }
            }
        }
        "disk" => {
            let bind = crate::instances::disks::mount_one(state, &inst.project, name, dev)
                .map_err(|e| e.to_string())?;
            if let Some(bind) = bind {
                attach_mount(state, pid, bind).await?;
            }
        }
        _ => {}
    }
    Ok(keys)
}

/// Unplug one device; `config` holds its volatile keys.
async fn remove(
    state: &AppState,
    inst: &Loaded,
    pid: i32,
    name: &str,
    dev: &ConfigMap,
    config: &ConfigMap,
) -> Result<(), String> {
    let dir = super::devices_dir(&state.paths, &inst.runtime_name());
    match kind(dev) {
        "nic" => {
            let host = dev
                .get("host_name")
                .filter(|h| !h.is_empty())
                .map(String::as_str)
                .or_else(|| super::volatile::key(config, name, "host_name"));
            if let Some(host) = host {
                let host = host.to_string();
                tokio::task::spawn_blocking(move || super::nic::detach(&host))
                    .await
                    .map_err(|e| e.to_string())??;
            }
        }
        "proxy" => crate::runtime::proxy::stop(&dir, name),
        "unix-char" | "unix-block" => {
            let inside = lxd_shared::config::devices::unix::dest_path(dev);
            let target = format!("/{}", inside.trim_start_matches('/'));
            let detached = mount(
                state,
                pid,
                MountAction::Detach {
                    target: target.into(),
                },
            )
            .await;
            super::unix::remove(&dir, name);
            detached
                .map_err(|e| format!("Error unmounting the device path inside container: {e}"))?;
        }
        "disk" => {
            if let Some(path) = dev.get("path") {
                mount(
                    state,
                    pid,
                    MountAction::Detach {
                        target: path.into(),
                    },
                )
                .await
                .map_err(|e| format!("Error unmounting the device path inside container: {e}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Apply the change from `old` to `new` expanded devices to the running `inst`. `old_config`
/// and `new_config` are the instance's local config before and after (volatile keys
/// included). Returns the volatile keys the plugged devices set.
pub async fn apply(
    state: &AppState,
    inst: &Loaded,
    old: &DevicesMap,
    new: &DevicesMap,
    old_config: &ConfigMap,
    new_config: &ConfigMap,
) -> Result<ConfigMap, String> {
    let Some(pid) = inst.init_pid else {
        return Ok(ConfigMap::new());
    };
    let (removed, added) = diff(old, new);
    for (name, dev) in &removed {
        if let Err(e) = remove(state, inst, pid, name, dev, old_config).await {
            tracing::warn!(instance = %inst.row.name, device = %name, error = %e, "Failed to remove a device");
        }
    }
    let mut keys = ConfigMap::new();
    let mut done: Vec<&String> = Vec::new();
    for (name, dev) in &added {
        match add(state, inst, pid, name, dev, new_config).await {
            Ok(set) => {
                keys.extend(set);
                done.push(name);
            }
            Err(e) => {
                let mut undo_config = new_config.clone();
                undo_config.extend(keys.clone());
                for undo in done {
                    let _ = remove(state, inst, pid, undo, &added[undo], &undo_config).await;
                }
                for (back, dev) in &removed {
                    if let Err(e) = add(state, inst, pid, back, dev, old_config).await {
                        tracing::warn!(instance = %inst.row.name, device = %back, error = %e, "Failed to restore a device");
                    }
                }
                return Err(format!("Failed to start device {name:?}: {e}"));
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn diff_plugs_changed_devices_and_skips_root_and_other_types() {
        let root = dev(&[("type", "disk"), ("path", "/"), ("pool", "default")]);
        let nic = dev(&[("type", "nic"), ("nictype", "p2p")]);
        let old: DevicesMap = [
            ("root".to_string(), root.clone()),
            ("eth0".to_string(), nic.clone()),
            ("gone".to_string(), dev(&[("type", "proxy")])),
            ("gpu".to_string(), dev(&[("type", "gpu")])),
        ]
        .into();
        let mut nic2 = nic.clone();
        nic2.insert("mtu".into(), "1400".into());
        let mut root2 = root.clone();
        root2.insert("size".into(), "1GB".into());
        let new: DevicesMap = [
            ("root".to_string(), root2),
            ("eth0".to_string(), nic2),
            (
                "d".to_string(),
                dev(&[("type", "disk"), ("path", "/mnt"), ("source", "/tmp")]),
            ),
        ]
        .into();
        let (removed, added) = diff(&old, &new);
        assert_eq!(removed.keys().collect::<Vec<_>>(), ["eth0", "gone"]);
        assert_eq!(added.keys().collect::<Vec<_>>(), ["d", "eth0"]);
    }
}
