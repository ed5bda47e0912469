//! Devices of running containers that need namespace work from a single-threaded helper:
//! mounts added to and removed from a running container (`lxd forkmount`), and the proxy
//! helper (`lxd forkproxy`) that listens on one side and connects on the other. Host-side
//! setup (device nodes, veth pairs, pid files) is the daemon's; this module never touches
//! daemon state.

pub mod mount;
pub mod namespaces;
pub mod proxy;
