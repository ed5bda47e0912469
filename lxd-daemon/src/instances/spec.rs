//! Runtime specs from instance records: what init runs with, where its root is, how its ids
//! map, and where the monitor keeps its files.

use std::path::Path;

use lxd_runtime::container::{ContainerSpec, IdMaps};
use lxd_shared::config::values::parse_bool;

use crate::paths::Paths;

/// LXD's default `PATH` inside containers.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether the instance runs without a user namespace.
pub fn privileged(config: &lxd_api::ConfigMap) -> bool {
    config
        .get("security.privileged")
        .and_then(|v| parse_bool(v))
        .unwrap_or(false)
}

/// The environment of init: `container=lxc` and the `environment.*` keys.
fn init_env(config: &lxd_api::ConfigMap) -> Vec<String> {
    let mut env = vec!["container=lxc".to_string(), format!("PATH={DEFAULT_PATH}")];
    env.extend(config.iter().filter_map(|(k, v)| {
        k.strip_prefix("environment.")
            .map(|name| format!("{name}={v}"))
    }));
    env
}

/// The spec to start `name` from its volume at `volume`.
pub fn container_spec(
    paths: &Paths,
    name: &str,
    volume: &Path,
    config: &lxd_api::ConfigMap,
    idmap: Option<IdMaps>,
) -> ContainerSpec {
    ContainerSpec {
        name: name.to_string(),
        rootfs: volume.join("rootfs"),
        idmap,
        init: vec!["/sbin/init".to_string()],
        env: init_env(config),
        state_dir: crate::runtime::state_dir(paths, name),
        config: config.clone(),
        binds: Vec::new(),
        mount_cgroup2: crate::cgroups::host_has_v2(),
        volume_binds: Vec::new(),
        apparmor: None,
        shifted_rootfs: false,
        nics: Vec::new(),
        restore_from: None,
    }
}

/// The effective runtime configuration in liblxc's `lxc.conf` syntax, kept beside the logs
/// (what `lxc info --show-log` and debugging users look at).
pub fn lxc_conf(spec: &ContainerSpec) -> String {
    let mut out = vec![
        format!(
            "lxc.log.file = {}",
            spec.state_dir.join("lxc.log").display()
        ),
        format!("lxc.console.logfile = {}", spec.console_log().display()),
        format!("lxc.uts.name = {}", spec.name),
        format!("lxc.rootfs.path = dir:{}", spec.rootfs.display()),
        format!("lxc.init.cmd = {}", spec.init.join(" ")),
        "lxc.mount.auto = proc:rw sys:ro".to_string(),
        "lxc.pty.max = 1024".to_string(),
        format!(
            "lxc.apparmor.profile = {}",
            spec.apparmor
                .as_ref()
                .and_then(|p| p.exec_label.as_deref())
                .unwrap_or("unconfined")
        ),
    ];
    if lxd_runtime::container::nesting::nesting_allowed(&spec.config) {
        out.push("lxc.mount.entry = proc dev/.lxc/proc proc create=dir,optional 0 0".into());
        out.push("lxc.mount.entry = sys dev/.lxc/sys sysfs create=dir,optional 0 0".into());
    }
    match &spec.idmap {
        Some(maps) => {
            for (kind, ranges) in [("u", &maps.uid), ("g", &maps.gid)] {
                out.extend(
                    ranges
                        .iter()
                        .map(|r| format!("lxc.idmap = {kind} {} {} {}", r.nsid, r.hostid, r.range)),
                );
            }
            if spec.shifted_rootfs {
                out.push("# rootfs shifted on disk (no idmapped mount)".to_string());
            }
            out.extend(
                ["mac_admin", "mac_override", "sys_time", "sys_module"]
                    .map(|c| format!("lxc.cap.drop = {c}")),
            );
        }
        None => out.push("# privileged: no user namespace".to_string()),
    }
    out.extend(spec.env.iter().map(|e| format!("lxc.environment = {e}")));
    for (i, nic) in spec.nics.iter().enumerate() {
        out.push(format!("lxc.net.{i}.type = phys"));
        out.push(format!("lxc.net.{i}.name = {}", nic.name));
        out.push(format!("lxc.net.{i}.flags = up"));
        out.push(format!("lxc.net.{i}.link = {}", nic.host_name));
        if let Some(hwaddr) = &nic.hwaddr {
            out.push(format!("lxc.net.{i}.hwaddr = {hwaddr}"));
        }
    }
    out.extend(
        spec.config
            .iter()
            .filter(|(k, _)| k.starts_with("limits."))
            .map(|(k, v)| format!("# {k} = {v}")),
    );
    out.join("\n") + "\n"
}

/// The exec environment LXD gives a command: PATH, LANG, HOME/USER for root, the instance's
/// `environment.*`, then the request's own values.
pub fn exec_env(
    config: &lxd_api::ConfigMap,
    request: &std::collections::BTreeMap<String, String>,
    uid: u32,
) -> Vec<String> {
    let mut env = std::collections::BTreeMap::new();
    env.insert("PATH".to_string(), DEFAULT_PATH.to_string());
    env.insert("LANG".to_string(), "C.UTF-8".to_string());
    if uid == 0 {
        env.insert("HOME".to_string(), "/root".to_string());
        env.insert("USER".to_string(), "root".to_string());
    }
    for (k, v) in config {
        if let Some(name) = k.strip_prefix("environment.") {
            env.insert(name.to_string(), v.clone());
        }
    }
    env.extend(request.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_env_request_overrides_instance_and_defaults() {
        let config: lxd_api::ConfigMap = [("environment.FOO".to_string(), "a".to_string())].into();
        let request = [
            ("FOO".to_string(), "b".to_string()),
            ("TERM".to_string(), "xterm".to_string()),
        ]
        .into();
        let env = exec_env(&config, &request, 0);
        assert!(env.contains(&"FOO=b".to_string()));
        assert!(env.contains(&"HOME=/root".to_string()));
        assert!(env.contains(&"LANG=C.UTF-8".to_string()));
        assert!(env.contains(&format!("PATH={DEFAULT_PATH}")));
        assert!(!exec_env(&config, &request, 1000)
            .iter()
            .any(|e| e.starts_with("HOME=")));
    }
}
