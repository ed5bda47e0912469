//! The interfaces of the calling thread's network namespace as LXD reports them in an
//! instance's state: flags turned into `type` and `state`, MTU, MAC, 64-bit counters and
//! addresses, whose `scope` LXD derives from the address itself (loopback is `local`,
//! `169.254/16` and `fe80::/10`-style link-local addresses are `link`, the rest `global`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use crate::netlink::{NetlinkError, RtSocket};

/// One address of an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `inet` or `inet6`.
    pub family: &'static str,
    pub address: String,
    pub prefix_len: u8,
    /// `global`, `link` or `local`.
    pub scope: &'static str,
}

/// Traffic counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub packets_received: u64,
    pub packets_sent: u64,
    pub errors_received: u64,
    pub errors_sent: u64,
    pub dropped_received: u64,
    pub dropped_sent: u64,
}

/// One interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    pub index: u32,
    /// `broadcast`, `loopback`, `point-to-point` or `unknown`.
    pub kind: &'static str,
    /// `up` or `down`.
    pub state: &'static str,
    pub mtu: u32,
    /// Empty for loopback.
    pub hwaddr: String,
    pub counters: Counters,
    pub addresses: Vec<Address>,
}

/// LXD's scope of an address, from its text.
pub fn scope_of(address: &str) -> &'static str {
    if address.starts_with("127") || address == "::1" {
        "local"
    } else if address.starts_with("169.254") || address.starts_with("fe80:") {
        "link"
    } else {
        "global"
    }
}

fn kind_of(flags: LinkFlags) -> &'static str {
    if flags.contains(LinkFlags::Pointopoint) {
        "point-to-point"
    } else if flags.contains(LinkFlags::Loopback) {
        "loopback"
    } else if flags.contains(LinkFlags::Broadcast) {
        "broadcast"
    } else {
        "unknown"
    }
}

fn from_link(link: &LinkMessage) -> Option<(String, Interface)> {
    let flags = link.header.flags;
    let mut name = None;
    let mut iface = Interface {
        index: link.header.index,
        kind: kind_of(flags),
        state: if flags.contains(LinkFlags::Up) {
            "up"
        } else {
            "down"
        },
        ..Default::default()
    };
    for attr in &link.attributes {
        match attr {
            LinkAttribute::IfName(n) => name = Some(n.clone()),
            LinkAttribute::Mtu(m) => iface.mtu = *m,
            LinkAttribute::Address(a) if !flags.contains(LinkFlags::Loopback) => {
                iface.hwaddr = crate::names::format_mac(a)
            }
            LinkAttribute::Stats64(s) => {
                iface.counters = Counters {
                    bytes_received: s.rx_bytes,
                    bytes_sent: s.tx_bytes,
                    packets_received: s.rx_packets,
                    packets_sent: s.tx_packets,
                    errors_received: s.rx_errors,
                    errors_sent: s.tx_errors,
                    dropped_received: s.rx_dropped,
                    dropped_sent: s.tx_dropped,
                }
            }
            _ => {}
        }
    }
    Some((name?, iface))
}

fn from_address(message: &AddressMessage) -> Option<(u32, Address)> {
    // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS the peer.
    let ip = message
        .attributes
        .iter()
        .find_map(|a| match a {
            AddressAttribute::Local(ip) => Some(*ip),
            _ => None,
        })
        .or_else(|| {
            message.attributes.iter().find_map(|a| match a {
                AddressAttribute::Address(ip) => Some(*ip),
                _ => None,
            })
        })?;
    let family = match ip {
        IpAddr::V4(_) => "inet",
        IpAddr::V6(_) => "inet6",
    };
    let address = ip.to_string();
    Some((
        message.header.index,
        Address {
            family,
            scope: scope_of(&address),
            address,
            prefix_len: message.header.prefix_len,
        },
    ))
}

/// Every interface of the socket's namespace, by name.
pub fn list(sock: &mut RtSocket) -> Result<BTreeMap<String, Interface>, NetlinkError> {
    let mut out = BTreeMap::new();
    for message in sock.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))? {
        if let RouteNetlinkMessage::NewLink(link) = message {
            if let Some((name, iface)) = from_link(&link) {
                out.insert(name, iface);
            }
        }
    }
    let addresses = sock.dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?;
    for message in addresses {
        if let RouteNetlinkMessage::NewAddress(addr) = message {
            if let Some((index, address)) = from_address(&addr) {
                if let Some(iface) = out.values_mut().find(|i| i.index == index) {
                    iface.addresses.push(address);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_of_follows_lxd_prefix_rules() {
        assert_eq!(scope_of("127.0.0.1"), "local");
        assert_eq!(scope_of("::1"), "local");
        assert_eq!(scope_of("169.254.3.4"), "link");
        assert_eq!(scope_of("fe80::216:3eff:fe00:1"), "link");
        assert_eq!(scope_of("10.0.3.5"), "global");
        assert_eq!(scope_of("2001:db8::1"), "global");
    }

    #[test]
    fn kind_of_prefers_point_to_point_then_loopback() {
        assert_eq!(kind_of(LinkFlags::Loopback | LinkFlags::Up), "loopback");
        assert_eq!(kind_of(LinkFlags::Broadcast), "broadcast");
        assert_eq!(
            kind_of(LinkFlags::Pointopoint | LinkFlags::Broadcast),
            "point-to-point"
        );
        assert_eq!(kind_of(LinkFlags::empty()), "unknown");
    }
}
