//! Links in the calling thread's network namespace: veth pairs (the peer may be created in
//! another namespace, named, addressed and up from the start), removal, bridge ports, flags
//! and MTU. Removal of a missing link is not an error, so cleanup can run any number of times.

use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;

use crate::netlink::{NetlinkError, RtSocket};

/// A veth pair to create: `host_name` stays in the caller's namespace, the peer is created in
/// `peer_netns` (or beside the host end). Both start down: a veth end cannot be opened before
/// its peer exists, so the caller brings them up afterwards, each in its own namespace.
#[derive(Debug, Clone)]
pub struct VethPair<'a> {
    pub host_name: &'a str,
    pub peer_name: &'a str,
    /// MTU of both ends (the kernel's default, 1500, when `None`).
    pub mtu: Option<u32>,
    pub peer_hwaddr: Option<[u8; 6]>,
    pub peer_netns: Option<BorrowedFd<'a>>,
}

fn named(name: &str) -> LinkMessage {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    message
}

/// Create the pair (fails with `EEXIST` when either name is taken where it is created).
pub fn create_veth(sock: &mut RtSocket, pair: &VethPair<'_>) -> Result<(), NetlinkError> {
    let mut peer = named(pair.peer_name);
    if let Some(mac) = pair.peer_hwaddr {
        peer.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    if let Some(mtu) = pair.mtu {
        peer.attributes.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(ns) = pair.peer_netns {
        peer.attributes.push(LinkAttribute::NetNsFd(ns.as_raw_fd()));
    }
    let mut host = named(pair.host_name);
    if let Some(mtu) = pair.mtu {
        host.attributes.push(LinkAttribute::Mtu(mtu));
    }
    host.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    sock.request(
        RouteNetlinkMessage::NewLink(host),
        NLM_F_CREATE | NLM_F_EXCL,
    )?;
    Ok(())
}

/// Delete a link (and, for a veth, its peer wherever it is); `Ok(false)` when there was none.
pub fn delete(sock: &mut RtSocket, name: &str) -> Result<bool, NetlinkError> {
    match sock.request(RouteNetlinkMessage::DelLink(named(name)), 0) {
        Ok(_) => Ok(true),
        Err(e) if e.errno() == Some(nix::errno::Errno::ENODEV) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The link named `name`, if any.
pub fn get(sock: &mut RtSocket, name: &str) -> Result<Option<LinkMessage>, NetlinkError> {
    match sock.request(RouteNetlinkMessage::GetLink(named(name)), 0) {
        Ok(answers) => Ok(answers.into_iter().find_map(|m| match m {
            RouteNetlinkMessage::NewLink(link) => Some(link),
            _ => None,
        })),
        Err(e) if e.errno() == Some(nix::errno::Errno::ENODEV) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The MTU of a link.
pub fn mtu(link: &LinkMessage) -> Option<u32> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Mtu(m) => Some(*m),
        _ => None,
    })
}

/// Whether a link is a Linux bridge.
pub fn is_bridge(link: &LinkMessage) -> bool {
    link.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Bridge))),
        _ => false,
    })
}

fn set(sock: &mut RtSocket, message: LinkMessage) -> Result<(), NetlinkError> {
    sock.request(RouteNetlinkMessage::SetLink(message), 0)?;
    Ok(())
}

/// Bring a link up.
pub fn set_up(sock: &mut RtSocket, name: &str) -> Result<(), NetlinkError> {
    let mut message = named(name);
    message.header.flags |= LinkFlags::Up;
    message.header.change_mask |= LinkFlags::Up;
    set(sock, message)
}

/// Make a link a port of the bridge whose index is `master`.
pub fn set_master(sock: &mut RtSocket, name: &str, master: u32) -> Result<(), NetlinkError> {
    let mut message = named(name);
    message.attributes.push(LinkAttribute::Controller(master));
    set(sock, message)
}
