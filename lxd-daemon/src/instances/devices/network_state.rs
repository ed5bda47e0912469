//! The `network` map of a running container's state: its interfaces read over rtnetlink from
//! inside its network namespace (one short-lived thread, two dumps), each NIC's host end taken
//! from the instance's volatile keys as LXD falls back to them.

use std::collections::BTreeMap;

use lxd_api::instance::{
    InstanceStateNetwork, InstanceStateNetworkAddress, InstanceStateNetworkCounters,
};
use lxd_api::{ConfigMap, DevicesMap};
use lxd_network::interfaces::{self, Interface};
use lxd_network::netlink::RtSocket;
use lxd_network::netns;

fn to_api(iface: Interface, host_name: String) -> InstanceStateNetwork {
    let c = iface.counters;
    InstanceStateNetwork {
        addresses: iface
            .addresses
            .into_iter()
            .map(|a| InstanceStateNetworkAddress {
                family: a.family.to_string(),
                address: a.address,
                netmask: a.prefix_len.to_string(),
                scope: a.scope.to_string(),
            })
            .collect(),
        counters: InstanceStateNetworkCounters {
            bytes_received: c.bytes_received as i64,
            bytes_sent: c.bytes_sent as i64,
            packets_received: c.packets_received as i64,
            packets_sent: c.packets_sent as i64,
            errors_received: c.errors_received as i64,
            errors_sent: c.errors_sent as i64,
            packets_dropped_outbound: c.dropped_sent as i64,
            packets_dropped_inbound: c.dropped_received as i64,
        },
        hwaddr: iface.hwaddr,
        host_name,
        mtu: i64::from(iface.mtu),
        state: iface.state.to_string(),
        kind: iface.kind.to_string(),
    }
}

/// Interface name inside → host end, from the NICs' config and volatile keys.
fn host_ends(devices: &DevicesMap, config: &ConfigMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (device, dev) in devices {
        if dev.get("type").map(String::as_str) != Some("nic") {
            continue;
        }
        let inside = dev
            .get("name")
            .filter(|n| !n.is_empty())
            .map(String::as_str)
            .or_else(|| super::volatile::key(config, device, "name"));
        let host = super::volatile::key(config, device, "host_name");
        if let (Some(inside), Some(host)) = (inside, host) {
            out.insert(inside.to_string(), host.to_string());
        }
    }
    out
}

/// The network state of the container whose init is `pid`; `None` when it cannot be read
/// (LXD then reports an empty map).
pub fn read(
    pid: i32,
    devices: &DevicesMap,
    config: &ConfigMap,
) -> Option<BTreeMap<String, InstanceStateNetwork>> {
    let ns = netns::of_pid(pid).ok()?;
    let found = netns::run_in(ns, || {
        let mut sock = RtSocket::open()?;
        interfaces::list(&mut sock)
    })
    .ok()?
    .ok()?;
    let hosts = host_ends(devices, config);
    Some(
        found
            .into_iter()
            .map(|(name, iface)| {
                let host = hosts.get(&name).cloned().unwrap_or_default();
                (name, to_api(iface, host))
            })
            .collect(),
    )
}
