//! `nic` devices (`p2p` and `bridged`): the runtime's NIC specs from the expanded devices and
//! their volatile keys, and the veth plumbing over rtnetlink. At start the container's monitor
//! creates each pair between clone and init (peer named and up inside, `lo` up as liblxc
//! does); a NIC hot-plugged into a running container arrives down, as in LXD. Removing the
//! host end removes the pair; removal of a missing end is a no-op.

use std::os::fd::AsFd;

use lxd_api::{ConfigMap, DevicesMap};
use lxd_network::netlink::RtSocket;
use lxd_network::{link, names, netns};
use lxd_runtime::container::NicSpec;
use lxd_shared::config::devices::nic::{nic_type, NicType};

fn get<'a>(map: &'a ConfigMap, key: &str) -> &'a str {
    map.get(key).map(String::as_str).unwrap_or("")
}

/// The NIC devices among `devices` that this server runs, by name.
pub fn nics(devices: &DevicesMap) -> impl Iterator<Item = (&String, &ConfigMap, NicType)> {
    devices.iter().filter_map(|(name, dev)| {
        if get(dev, "type") != "nic" {
            return None;
        }
        nic_type(name, dev).ok().map(|t| (name, dev, t))
    })
}

fn host_mtu(name: &str) -> Option<u32> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The spec of one NIC about to start, from its config and the instance's volatile keys
/// (`host_name` is generated unless set). Errors are LXD's, without the device prefix.
pub fn spec_for(
    device: &str,
    dev: &ConfigMap,
    kind: NicType,
    config: &ConfigMap,
) -> Result<NicSpec, String> {
    let name = match get(dev, "name") {
        "" => super::volatile::key(config, device, "name").unwrap_or(""),
        n => n,
    };
    if name.is_empty() {
        return Err("Requires name property to start".into());
    }
    let hwaddr = match get(dev, "hwaddr") {
        "" => super::volatile::key(config, device, "hwaddr").map(str::to_string),
        h => Some(h.to_string()),
    };
    let bridge = match kind {
        NicType::Bridged => {
            let parent = get(dev, "parent");
            if !std::path::Path::new("/sys/class/net").join(parent).exists() || parent.is_empty() {
                return Err(format!("Parent device {parent:?} doesn't exist"));
            }
            Some(parent.to_string())
        }
        NicType::P2p => None,
    };
    let mtu = match get(dev, "mtu") {
        "" => bridge.as_deref().and_then(host_mtu),
        m => Some(
            m.parse()
                .map_err(|_| format!("Invalid MTU specified: {m}"))?,
        ),
    };
    let host_name = match get(dev, "host_name") {
        "" => names::random_dev_name("veth"),
        h => h.to_string(),
    };
    Ok(NicSpec {
        device: device.to_string(),
        host_name,
        name: name.to_string(),
        hwaddr,
        mtu,
        bridge,
    })
}

/// Specs of every NIC among the expanded `devices`, or the first device that cannot start.
pub fn start_specs(devices: &DevicesMap, config: &ConfigMap) -> Result<Vec<NicSpec>, String> {
    nics(devices)
        .map(|(name, dev, kind)| {
            spec_for(name, dev, kind, config)
                .map_err(|e| format!("Failed to start device {name:?}: {e}"))
        })
        .collect()
}

fn nl(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Create `nic` for the container whose init is `pid`: the pair with its peer inside, the
/// host end up (and a port of its bridge); the peer is brought up when `up`. Nothing is left
/// behind on failure.
pub fn attach(pid: i32, nic: &NicSpec, up: bool) -> Result<(), String> {
    let ns = netns::of_pid(pid).map_err(nl)?;
    let mut sock = RtSocket::open().map_err(nl)?;
    if link::get(&mut sock, &nic.host_name).map_err(nl)?.is_some() {
        return Err(format!(
            "Failed to create the veth interfaces {:?} and {:?}: File exists",
            nic.host_name, nic.name
        ));
    }
    let hwaddr = match &nic.hwaddr {
        Some(h) => Some(names::parse_mac(h).ok_or_else(|| format!("Invalid MAC address {h:?}"))?),
        None => None,
    };
    link::create_veth(
        &mut sock,
        &link::VethPair {
            host_name: &nic.host_name,
            peer_name: &nic.name,
            mtu: nic.mtu,
            peer_hwaddr: hwaddr,
            peer_netns: Some(ns.as_fd()),
        },
    )
    .map_err(|e| {
        // The host end was free, so the name is taken inside (liblxc's wording).
        let why = match e.errno() {
            Some(nix::errno::Errno::EEXIST) => {
                "attaching specified netdev to the container failed".to_string()
            }
            _ => e.to_string(),
        };
        format!(
            "Failed to attach interface: {} to {}: {why}",
            nic.host_name, nic.name
        )
    })?;
    let configured = configure_host_end(&mut sock, nic).and_then(|()| {
        if !up {
            return Ok(());
        }
        let peer = nic.name.clone();
        netns::run_in(ns, move || {
            let mut sock = RtSocket::open()?;
            link::set_up(&mut sock, &peer)
        })
        .map_err(nl)?
        .map_err(|e| format!("Failed to bring up {}: {e}", nic.name))
    });
    if configured.is_err() {
        let _ = link::delete(&mut sock, &nic.host_name);
    }
    configured
}

fn configure_host_end(sock: &mut RtSocket, nic: &NicSpec) -> Result<(), String> {
    if let Some(bridge) = &nic.bridge {
        // A bridge port needs no link-local address of its own (LXD disables IPv6 on it).
        let _ = std::fs::write(
            format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", nic.host_name),
            "1",
        );
        let master = link::get(sock, bridge)
            .map_err(nl)?
            .ok_or_else(|| format!("Parent device {bridge:?} doesn't exist"))?;
        link::set_master(sock, &nic.host_name, master.header.index).map_err(|e| {
            format!(
                "Failed to attach interface {:?} to bridge {bridge:?}: {e}",
                nic.host_name
            )
        })?;
    }
    link::set_up(sock, &nic.host_name).map_err(|e| {
        format!(
            "Failed to bring up the veth interface {:?}: {e}",
            nic.host_name
        )
    })
}

/// At start, from the monitor between clone and init: every NIC, up, and `lo` up. Without
/// NICs nothing is touched: LXD leaves such a container's loopback down for its init to raise.
pub fn attach_at_start(pid: i32, nics: &[NicSpec]) -> Result<(), String> {
    if nics.is_empty() {
        return Ok(());
    }
    for (i, nic) in nics.iter().enumerate() {
        if let Err(e) = attach(pid, nic, true) {
            detach_all(&nics[..i]);
            return Err(format!("Failed to start device {:?}: {e}", nic.device));
        }
    }
    let ns = netns::of_pid(pid).map_err(nl)?;
    netns::run_in(ns, || {
        let mut sock = RtSocket::open()?;
        link::set_up(&mut sock, "lo")
    })
    .map_err(nl)?
    .map_err(|e| format!("Failed to bring up the loopback interface: {e}"))
}

/// After a restore, whose CRIU recreated the veth pairs (the container's ends as they were):
/// the host ends configured as a start leaves them (bridge port, up).
pub fn configure_restored(nics: &[NicSpec]) -> Result<(), String> {
    let mut sock = RtSocket::open().map_err(nl)?;
    for nic in nics {
        configure_host_end(&mut sock, nic)
            .map_err(|e| format!("Failed to start device {:?}: {e}", nic.device))?;
    }
    Ok(())
}

/// Remove a NIC by its host end (a no-op when it is gone).
pub fn detach(host_name: &str) -> Result<(), String> {
    let mut sock = RtSocket::open().map_err(nl)?;
    link::delete(&mut sock, host_name)
        .map(drop)
        .map_err(|e| format!("Failed to remove interface {host_name}: {e}"))
}

/// Remove the host ends of `nics`, ignoring failures (cleanup).
pub fn detach_all(nics: &[NicSpec]) {
    for nic in nics {
        if let Err(e) = detach(&nic.host_name) {
            tracing::warn!(interface = %nic.host_name, error = %e, "Failed to remove a NIC");
        }
    }
}
