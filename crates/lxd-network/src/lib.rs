//! Host networking for instances, over rtnetlink (netlink-packet-route on a plain, blocking
//! netlink socket): veth pairs whose peer is created straight in a container's network
//! namespace, bridge ports, removal, and the state of a namespace's interfaces (addresses,
//! counters, MTU, flags) as LXD reports it.
//!
//! Everything here acts on the network namespace of the calling thread; [`netns::run_in`]
//! runs a closure on a short-lived thread inside another namespace (a network namespace may
//! be entered per thread, so this is safe in a multi-threaded daemon). It never touches the
//! database or decides names and keys: the daemon does.

pub mod interfaces;
pub mod link;
pub mod names;
pub mod netlink;
pub mod netns;

pub use netlink::NetlinkError;
