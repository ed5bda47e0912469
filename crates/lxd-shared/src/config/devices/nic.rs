//! `nic` devices: which NIC type a device is (`nictype`, or a managed `network`, of which this
//! server has none), the options each type takes with LXD's checks, the options this server
//! does not implement, and unique interface names across an instance's NICs.

use std::collections::BTreeMap;

use super::rules::{self, Rule};
use super::DeviceError;

/// The NIC types this server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NicType {
    /// A veth pair whose host end is left unconnected.
    P2p,
    /// A veth pair whose host end is a port of an existing host bridge (`parent`).
    Bridged,
}

/// NIC types LXD has that this server does not run.
const UNIMPLEMENTED_NICTYPES: &[&str] = &["macvlan", "sriov", "physical", "ipvlan", "routed"];

/// Options LXD accepts that change nothing here yet (traffic limits, host routes, filtering,
/// VLANs, MAAS): refused as not implemented rather than silently ignored.
const UNIMPLEMENTED_OPTIONS: &[&str] = &[
    "limits.ingress",
    "limits.egress",
    "limits.max",
    "ipv4.routes",
    "ipv6.routes",
    "ipv4.routes.external",
    "ipv6.routes.external",
    "security.mac_filtering",
    "security.ipv4_filtering",
    "security.ipv6_filtering",
    "security.port_isolation",
    "vlan",
    "vlan.tagged",
    "maas.subnet.ipv4",
    "maas.subnet.ipv6",
];

type Rules = &'static [(&'static str, Rule, bool)];

const P2P: Rules = &[
    ("name", rules::is_interface_name, false),
    ("mtu", rules::is_network_mtu, false),
    ("hwaddr", rules::is_network_mac, false),
    ("host_name", rules::any, false),
    ("limits.ingress", rules::any, false),
    ("limits.egress", rules::any, false),
    ("limits.max", rules::any, false),
    ("ipv4.routes", rules::is_network_v4_list, false),
    ("ipv6.routes", rules::is_network_v6_list, false),
    ("boot.priority", rules::is_uint32, false),
];

const BRIDGED: Rules = &[
    ("name", rules::is_interface_name, false),
    ("network", rules::any, false),
    ("parent", rules::not_empty, true),
    ("mtu", rules::is_network_mtu, false),
    ("hwaddr", rules::is_network_mac, false),
    ("host_name", rules::any, false),
    ("limits.ingress", rules::any, false),
    ("limits.egress", rules::any, false),
    ("limits.max", rules::any, false),
    ("ipv4.address", rules::is_address_v4_or_none, false),
    ("ipv6.address", rules::is_address_v6_or_none, false),
    ("ipv4.routes", rules::is_network_v4_list, false),
    ("ipv6.routes", rules::is_network_v6_list, false),
    ("ipv4.routes.external", rules::is_network_v4_list, false),
    ("ipv6.routes.external", rules::is_network_v6_list, false),
    ("security.mac_filtering", rules::any, false),
    ("security.ipv4_filtering", rules::any, false),
    ("security.ipv6_filtering", rules::any, false),
    ("security.port_isolation", rules::is_bool, false),
    ("maas.subnet.ipv4", rules::any, false),
    ("maas.subnet.ipv6", rules::any, false),
    ("boot.priority", rules::is_uint32, false),
    ("vlan", rules::is_network_vlan, false),
    ("vlan.tagged", rules::any, false),
];

fn get<'a>(dev: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    dev.get(key).map(String::as_str).unwrap_or("")
}

/// The NIC type of a device, or why it cannot be loaded.
pub fn nic_type(name: &str, dev: &BTreeMap<String, String>) -> Result<NicType, DeviceError> {
    let network = get(dev, "network");
    if !network.is_empty() {
        return Err(DeviceError::LoadFailed(
            name.to_string(),
            format!(
                "Failed to load network {network:?} for project \"default\": Network not found"
            ),
        ));
    }
    match get(dev, "nictype") {
        "p2p" => Ok(NicType::P2p),
        "bridged" => Ok(NicType::Bridged),
        t if UNIMPLEMENTED_NICTYPES.contains(&t) => Err(DeviceError::NotImplemented(
            name.to_string(),
            format!("NIC type {t:?}"),
        )),
        _ => Err(DeviceError::UnknownType(name.to_string())),
    }
}

/// Check a NIC device on its own.
pub fn check(name: &str, dev: &BTreeMap<String, String>) -> Result<(), DeviceError> {
    let kind = nic_type(name, dev)?;
    let invalid = |why: &str| Err(DeviceError::Invalid(name.to_string(), why.to_string()));
    let rules = match kind {
        NicType::P2p => P2P,
        NicType::Bridged => {
            // The parent is never a managed network here: static addresses need one.
            for v in ["4", "6"] {
                let filtering = crate::config::values::parse_bool(get(
                    dev,
                    &format!("security.ipv{v}_filtering"),
                )) == Some(true);
                let address = get(dev, &format!("ipv{v}.address"));
                if filtering && address.is_empty() {
                    return invalid(&format!("IPv{v} filtering requires a manually specified ipv{v}.address when using an unmanaged parent bridge"));
                }
                if !filtering
                    && !address.is_empty()
                    && get(dev, &format!("maas.subnet.ipv{v}")).is_empty()
                {
                    return invalid(&format!("Cannot use manually specified ipv{v}.address when using unmanaged parent bridge"));
                }
            }
            BRIDGED
        }
    };
    super::apply_rules(name, dev, rules, &["nictype"])?;
    for key in UNIMPLEMENTED_OPTIONS {
        if !get(dev, key).is_empty() {
            return Err(DeviceError::NotImplemented(
                name.to_string(),
                format!("NIC option {key:?}"),
            ));
        }
    }
    Ok(())
}

/// Check that the NICs among an instance's expanded devices have distinct `name`s.
pub fn check_names_unique(
    devices: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<(), DeviceError> {
    let mut seen: Vec<&str> = Vec::new();
    for (dev_name, dev) in devices {
        if get(dev, "type") != "nic" || get(dev, "name").is_empty() {
            continue;
        }
        let nic_name = get(dev, "name");
        if seen.contains(&nic_name) {
            return Err(DeviceError::InvalidValue(
                dev_name.clone(),
                "name".into(),
                format!("Duplicate NIC name detected {nic_name:?}"),
            ));
        }
        seen.push(nic_name);
    }
    Ok(())
}
