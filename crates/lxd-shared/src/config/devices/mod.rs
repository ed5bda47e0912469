//! Device definitions: the known types and the options each accepts (`doc/reference/devices*`),
//! checked with LXD's texts. `nic`, `proxy`, `unix-char` and `unix-block` have per-option
//! value checks in their own modules; the other types are checked by option name.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::config::values::parse_bool;

pub mod nic;
pub mod proxy;
pub mod rules;
pub mod unix;

/// A refused device, with LXD's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeviceError {
    #[error("Device validation failed for {0:?}: Failed loading device {0:?}: Missing device type in config")]
    MissingType(String),
    #[error(
        "Device validation failed for {0:?}: Failed loading device {0:?}: Unsupported device type"
    )]
    UnknownType(String),
    #[error("Device validation failed for {0:?}: Failed loading device {0:?}: {1}")]
    LoadFailed(String, String),
    #[error("Device validation failed for {0:?}: Invalid device option {1:?}")]
    UnknownOption(String, String),
    #[error("Device validation failed for {0:?}: Invalid value for device option {1:?}: {2}")]
    InvalidValue(String, String, String),
    #[error("Device validation failed for {0:?}: {1}")]
    Invalid(String, String),
    /// A device LXD accepts that this server cannot run (answered with 501).
    #[error("Device validation failed for {0:?}: {1} is not implemented")]
    NotImplemented(String, String),
}

impl DeviceError {
    /// Whether the refusal is for a feature this server lacks (HTTP 501) rather than bad input.
    pub fn is_not_implemented(&self) -> bool {
        matches!(self, Self::NotImplemented(..))
    }
}

/// Check options against `rules` (in order: a set option must pass its check; one marked
/// `always` is checked even when unset, with an empty value), then refuse any option no rule covers (except `type`, `user.*` and
/// `tolerated`), as LXD's `Device.Validate` does.
pub(crate) fn apply_rules(
    name: &str,
    dev: &BTreeMap<String, String>,
    rules: &[(&str, rules::Rule, bool)],
    tolerated: &[&str],
) -> Result<(), DeviceError> {
    for (key, rule, always) in rules {
        let value = dev.get(*key).map(String::as_str).unwrap_or("");
        let result = if value.is_empty() && !always {
            Ok(())
        } else {
            rule(value)
        };
        result.map_err(|why| DeviceError::InvalidValue(name.into(), key.to_string(), why))?;
    }
    for key in dev.keys() {
        let covered = rules.iter().any(|(k, _, _)| k == key);
        if !covered
            && key != "type"
            && !key.starts_with("user.")
            && !tolerated.contains(&key.as_str())
        {
            return Err(DeviceError::UnknownOption(name.into(), key.clone()));
        }
    }
    Ok(())
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

const BOOLS: &[&str] = &["readonly", "recursive", "required", "shift", "optional"];

fn options_for(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "none" => &[],
        "disk" => DISK,
        "gpu" => GPU,
        "usb" => USB,
        "infiniband" => INFINIBAND,
        "unix-hotplug" => UNIX_HOTPLUG,
        "tpm" => TPM,
        "pci" => PCI,
        _ => return None,
    })
}

/// Check one device: its name, its type, and its options.
pub fn check_device<'a>(
    name: &str,
    options: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), DeviceError> {
    let dev: BTreeMap<String, String> = options
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    rules::is_device_name(name).map_err(|why| DeviceError::Invalid(name.into(), why))?;
    let kind = dev.get("type").map(String::as_str).unwrap_or("");
    if kind.is_empty() {
        return Err(DeviceError::MissingType(name.to_string()));
    }
    match kind {
        "nic" => return nic::check(name, &dev),
        "unix-char" | "unix-block" => return unix::check(name, &dev),
        "proxy" => {
            apply_rules(name, &dev, proxy::RULES, &[])?;
            if dev.get("nat").and_then(|v| parse_bool(v)) == Some(true) {
                return Err(DeviceError::NotImplemented(
                    name.into(),
                    "Proxy NAT mode".into(),
                ));
            }
            return proxy::check_combination(&dev)
                .map_err(|why| DeviceError::Invalid(name.into(), why));
        }
        _ => {}
    }
    let allowed = options_for(kind).ok_or_else(|| DeviceError::UnknownType(name.to_string()))?;
    for (key, value) in &dev {
        let key = key.as_str();
        let is_user = key.starts_with("user.");
        if !is_user && !COMMON.contains(&key) && !allowed.contains(&key) {
            return Err(DeviceError::UnknownOption(
                name.to_string(),
                key.to_string(),
            ));
        }
        if BOOLS.contains(&key) && !value.is_empty() {
            rules::is_bool(value)
                .map_err(|why| DeviceError::InvalidValue(name.to_string(), key.to_string(), why))?;
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

    /// Texts collected from `lxc config device add` against the real LXD 5.0.2.
    #[test]
    fn check_device_nic_proxy_unix_errors_match_lxd() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("type", "nic"), ("nictype", "foo")], "Device validation failed for \"x\": Failed loading device \"x\": Unsupported device type"),
            (&[("type", "nic")], "Device validation failed for \"x\": Failed loading device \"x\": Unsupported device type"),
            (&[("type", "nic"), ("nictype", "bridged")], "Device validation failed for \"x\": Invalid value for device option \"parent\": Required value"),
            (&[("type", "nic"), ("nictype", "p2p"), ("hwaddr", "zz")], "Device validation failed for \"x\": Invalid value for device option \"hwaddr\": Invalid MAC address, must be 6 bytes of hex separated by colons"),
            (&[("type", "nic"), ("nictype", "p2p"), ("mtu", "10")], "Device validation failed for \"x\": Invalid value for device option \"mtu\": Out of MTU range (1280-16384) \"10\""),
            (&[("type", "nic"), ("nictype", "p2p"), ("parent", "br0")], "Device validation failed for \"x\": Invalid device option \"parent\""),
            (&[("type", "nic"), ("network", "nonet")], "Device validation failed for \"x\": Failed loading device \"x\": Failed to load network \"nonet\" for project \"default\": Network not found"),
            (&[("type", "nic"), ("nictype", "p2p"), ("name", "a b")], "Device validation failed for \"x\": Invalid value for device option \"name\": Network interface contains invalid characters"),
            (&[("type", "nic"), ("nictype", "bridged"), ("parent", "br0"), ("vlan", "abc")], "Device validation failed for \"x\": Invalid value for device option \"vlan\": Invalid VLAN ID \"abc\""),
            (&[("type", "nic"), ("nictype", "bridged"), ("parent", "br0"), ("ipv4.address", "1.2.3.4")], "Device validation failed for \"x\": Cannot use manually specified ipv4.address when using unmanaged parent bridge"),
            (&[("type", "proxy")], "Device validation failed for \"x\": Invalid value for device option \"listen\": Unknown protocol type \"\""),
            (&[("type", "proxy"), ("listen", "tcp:127.0.0.1:1234")], "Device validation failed for \"x\": Invalid value for device option \"connect\": Unknown protocol type \"\""),
            (&[("type", "proxy"), ("listen", "tcp:127.0.0.1"), ("connect", "tcp:127.0.0.1:1")], "Device validation failed for \"x\": Invalid value for device option \"listen\": address 127.0.0.1: missing port in address"),
            (&[("type", "proxy"), ("listen", "tcp:127.0.0.1:5"), ("connect", "tcp:127.0.0.1:1"), ("bind", "foo")], "Device validation failed for \"x\": Invalid value for device option \"bind\": Invalid binding side given. Must be \"host\" or \"instance\""),
            (&[("type", "proxy"), ("listen", "unix:/tmp/x"), ("connect", "tcp:127.0.0.1:1"), ("mode", "999")], "Device validation failed for \"x\": Invalid value for device option \"mode\": Invalid value for an octal file mode"),
            (&[("type", "proxy"), ("listen", "tcp:127.0.0.1:5"), ("connect", "tcp:127.0.0.1:1"), ("proxy_protocol", "maybe")], "Device validation failed for \"x\": Invalid value for device option \"proxy_protocol\": Invalid value for a boolean \"maybe\""),
            (&[("type", "unix-char")], "Device validation failed for \"x\": Unix device entry is missing the required \"source\" or \"path\" property"),
            (&[("type", "unix-char"), ("path", "/dev/x"), ("major", "abc")], "Device validation failed for \"x\": Invalid value for device option \"major\": Invalid value for a UNIX device number"),
            (&[("type", "unix-char"), ("path", "/dev/x"), ("uid", "-1")], "Device validation failed for \"x\": Invalid value for device option \"uid\": Invalid value for a UNIX ID"),
            (&[("type", "unix-char"), ("path", "/dev/x"), ("required", "maybe")], "Device validation failed for \"x\": Invalid value for device option \"required\": Invalid value for a boolean \"maybe\""),
        ];
        for (pairs, want) in cases {
            let err = check_device("x", &dev(pairs)).unwrap_err();
            assert_eq!(err.to_string(), *want, "{pairs:?}");
        }
        for ok in [
            &[
                ("type", "nic"),
                ("nictype", "p2p"),
                ("name", "eth5"),
                ("mtu", "1400"),
                ("hwaddr", "00:16:3e:00:00:11"),
                ("host_name", "vethtest1"),
            ][..],
            &[("type", "nic"), ("nictype", "bridged"), ("parent", "br0")],
            &[
                ("type", "proxy"),
                ("listen", "tcp:127.0.0.1:22"),
                ("connect", "tcp:127.0.0.1:1"),
            ],
            &[
                ("type", "unix-char"),
                ("source", "/dev/null"),
                ("path", "/dev/mynull"),
                ("uid", "1000"),
                ("mode", "0600"),
            ],
        ] {
            check_device("x", &dev(ok)).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
        let nat = check_device(
            "x",
            &dev(&[
                ("type", "proxy"),
                ("listen", "tcp:127.0.0.1:5"),
                ("connect", "tcp:127.0.0.1:1"),
                ("nat", "true"),
            ]),
        )
        .unwrap_err();
        assert!(nat.is_not_implemented());
        let macvlan = check_device(
            "x",
            &dev(&[("type", "nic"), ("nictype", "macvlan"), ("parent", "eth0")]),
        )
        .unwrap_err();
        assert!(macvlan.is_not_implemented());
    }

    #[test]
    fn check_names_unique_refuses_two_nics_named_alike() {
        let devices: BTreeMap<String, BTreeMap<String, String>> = [
            (
                "a".to_string(),
                dev(&[("type", "nic"), ("nictype", "p2p"), ("name", "eth0")]),
            ),
            (
                "b".to_string(),
                dev(&[("type", "nic"), ("nictype", "p2p"), ("name", "eth0")]),
            ),
        ]
        .into();
        assert_eq!(
            nic::check_names_unique(&devices).unwrap_err().to_string(),
            "Device validation failed for \"b\": Invalid value for device option \"name\": Duplicate NIC name detected \"eth0\""
        );
    }
}
