//! Device definitions: the known types and the options each accepts (`doc/reference/devices*`).

use thiserror::Error;

use crate::config::values::parse_bool;

/// A refused device, with LXD's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeviceError {
    #[error("Device validation failed for {0:?}: Failed loading device {0:?}: Missing device type in config")]
    MissingType(String),
    #[error(
        "Device validation failed for {0:?}: Failed loading device {0:?}: Unsupported device type"
    )]
    UnknownType(String),
    #[error("Device validation failed for {0:?}: Invalid device option {1:?}")]
    UnknownOption(String, String),
    #[error("Device validation failed for {0:?}: Invalid value for device option {1:?}: Invalid value for a boolean {2:?}")]
    Bool(String, String, String),
}

const COMMON: &[&str] = &["type"];

const DISK: &[&str] = &[
    "path",
    "source",
    "pool",
    "readonly",
    "size",
    "size.state",
    "recursive",
    "required",
    "shift",
    "propagation",
    "raw.mount.options",
    "limits.read",
    "limits.write",
    "limits.max",
    "boot.priority",
    "ceph.cluster_name",
    "ceph.user_name",
    "optional",
];
const NIC: &[&str] = &[
    "nictype",
    "network",
    "parent",
    "name",
    "hwaddr",
    "host_name",
    "mtu",
    "ipv4.address",
    "ipv6.address",
    "ipv4.routes",
    "ipv6.routes",
    "ipv4.routes.external",
    "ipv6.routes.external",
    "limits.ingress",
    "limits.egress",
    "limits.max",
    "security.mac_filtering",
    "security.ipv4_filtering",
    "security.ipv6_filtering",
    "security.port_isolation",
    "vlan",
    "vlan.tagged",
    "boot.priority",
    "maas.subnet.ipv4",
    "maas.subnet.ipv6",
    "queue.tx.length",
    "ipv4.gateway",
    "ipv6.gateway",
    "ipv4.host_address",
    "ipv6.host_address",
    "ipv4.host_table",
    "ipv6.host_table",
    "ipv4.neighbor_probe",
    "ipv6.neighbor_probe",
    "mode",
    "gvrp",
];
const UNIX: &[&str] = &[
    "source", "path", "major", "minor", "uid", "gid", "mode", "required",
];
const PROXY: &[&str] = &[
    "listen",
    "connect",
    "bind",
    "nat",
    "proxy_protocol",
    "uid",
    "gid",
    "mode",
    "security.uid",
    "security.gid",
];
const GPU: &[&str] = &[
    "gputype",
    "id",
    "pci",
    "vendorid",
    "productid",
    "uid",
    "gid",
    "mode",
    "mdev",
    "mig.ci",
    "mig.gi",
    "mig.uuid",
];
const USB: &[&str] = &["vendorid", "productid", "uid", "gid", "mode", "required"];
const INFINIBAND: &[&str] = &["nictype", "parent", "name", "hwaddr", "mtu"];
const UNIX_HOTPLUG: &[&str] = &["vendorid", "productid", "uid", "gid", "mode", "required"];
const TPM: &[&str] = &["path", "pathrm"];
const PCI: &[&str] = &["address"];

const BOOLS: &[&str] = &[
    "readonly",
    "recursive",
    "required",
    "shift",
    "nat",
    "proxy_protocol",
    "optional",
];

fn options_for(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "none" => &[],
        "disk" => DISK,
        "nic" => NIC,
        "unix-char" | "unix-block" => UNIX,
        "proxy" => PROXY,
        "gpu" => GPU,
        "usb" => USB,
        "infiniband" => INFINIBAND,
        "unix-hotplug" => UNIX_HOTPLUG,
        "tpm" => TPM,
        "pci" => PCI,
        _ => return None,
    })
}

/// Check one device's type and option names.
pub fn check_device<'a>(
    name: &str,
    options: impl IntoIterator<Item = (&'a String, &'a String)> + Clone,
) -> Result<(), DeviceError> {
    let kind = options
        .clone()
        .into_iter()
        .find(|(k, _)| k.as_str() == "type")
        .map(|(_, v)| v.as_str());
    let Some(kind) = kind.filter(|k| !k.is_empty()) else {
        return Err(DeviceError::MissingType(name.to_string()));
    };
    let allowed = options_for(kind).ok_or_else(|| DeviceError::UnknownType(name.to_string()))?;
    for (key, value) in options {
        let key = key.as_str();
        let is_user = key.starts_with("user.");
        if !is_user && !COMMON.contains(&key) && !allowed.contains(&key) {
            return Err(DeviceError::UnknownOption(
                name.to_string(),
                key.to_string(),
            ));
        }
        if BOOLS.contains(&key) && !value.is_empty() && parse_bool(value).is_none() {
            return Err(DeviceError::Bool(
                name.to_string(),
                key.to_string(),
                value.clone(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn dev(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn check_device_missing_type_uses_lxd_text() {
        let err = check_device("d", &dev(&[("path", "/x")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Device validation failed for \"d\": Failed loading device \"d\": Missing device type in config"
        );
    }

    #[test]
    fn check_device_unknown_option_refused() {
        let err = check_device("d", &dev(&[("type", "disk"), ("bogus", "1")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Device validation failed for \"d\": Invalid device option \"bogus\""
        );
        assert!(check_device("d", &dev(&[("type", "bogus")])).is_err());
        assert!(check_device(
            "root",
            &dev(&[("type", "disk"), ("path", "/"), ("pool", "default")])
        )
        .is_ok());
        assert!(check_device("x", &dev(&[("type", "none")])).is_ok());
    }
}
