//! The proxy helper (LXD's `forkproxy`), run as `lxd forkproxy SPEC`: a forked child joins
//! the listening side's namespaces (the container's, or stays on the host), binds the
//! listeners and hands them over a socket pair; the helper then joins the connecting side's
//! namespaces and relays every connection (TCP and UNIX streams) or datagram (UDP) to the
//! target. It prints `Status: Started` once it relays, or `Error: ...` when it cannot.

mod relay;

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use lxd_shared::config::devices::proxy::{check_startable, parse_address, ConnType, ProxyAddress};
use nix::sys::wait::waitpid;
use nix::unistd::ForkResult;
use serde::{Deserialize, Serialize};

use super::namespaces::{self, Wanted};

/// Everything the helper needs, written by the daemon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxySpec {
    pub listen: String,
    pub connect: String,
    /// The container's init when the listening side is the container; `None` for the host.
    pub listen_pid: Option<i32>,
    /// The container's init when the connecting side is the container; `None` for the host.
    pub connect_pid: Option<i32>,
    /// Owner and mode of a listening UNIX socket file (ids of the listening side).
    pub listen_uid: Option<u32>,
    pub listen_gid: Option<u32>,
    pub listen_mode: Option<u32>,
    /// Identity the relay takes once set up (`security.uid`/`security.gid`).
    pub security_uid: Option<u32>,
    pub security_gid: Option<u32>,
    /// Send a PROXY protocol v1 header to TCP targets.
    pub proxy_protocol: bool,
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("{0}")]
    Address(String),
    #[error("Failed to listen on {0}: {1}")]
    Listen(String, std::io::Error),
    #[error("Failed to setns to {0} namespaces: {1}")]
    Enter(&'static str, namespaces::EnterError),
    #[error("Failed to create the listener process: {0}")]
    Fork(lxd_sys::spawn::SpawnError),
    #[error("Failed to receive the listeners: {0}")]
    Receive(String),
    #[error("Failed to switch to uid {0} and gid {1}")]
    Identity(u32, u32),
}

fn wanted_for(addr: &ProxyAddress) -> Wanted {
    Wanted {
        net: true,
        mnt: addr.conn_type == ConnType::Unix && !addr.abstract_socket,
    }
}

/// Listen where `spec` says (already in the listening side's namespaces).
fn bind_listeners(spec: &ProxySpec, listen: &ProxyAddress) -> Result<Vec<OwnedFd>, ProxyError> {
    let fail = |what: String, e| ProxyError::Listen(what, e);
    match listen.conn_type {
        ConnType::Unix => {
            let fd =
                relay::bind_unix(&listen.address).map_err(|e| fail(listen.address.clone(), e))?;
            if !listen.abstract_socket {
                let path = std::path::Path::new(&listen.address);
                if spec.listen_uid.is_some() || spec.listen_gid.is_some() {
                    std::os::unix::fs::chown(path, spec.listen_uid, spec.listen_gid)
                        .map_err(|e| fail(listen.address.clone(), e))?;
                }
                let mode = spec.listen_mode.unwrap_or(0o644);
                std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
                    .map_err(|e| fail(listen.address.clone(), e))?;
            }
            Ok(vec![fd])
        }
        kind => (0..listen.ports.len())
            .map(|i| {
                let addr = listen.socket_address(i);
                relay::bind_inet(kind, &addr).map_err(|e| fail(addr, e))
            })
            .collect(),
    }
}

/// The listener child: join the listening side, bind, send the fds, exit.
fn listener_child(spec: &ProxySpec, listen: &ProxyAddress, sock: UnixStream) -> i32 {
    let result = (|| {
        if let Some(pid) = spec.listen_pid {
            namespaces::enter(pid, wanted_for(listen))
                .map_err(|e| ProxyError::Enter("listener", e))?;
        }
        bind_listeners(spec, listen)
    })();
    match result {
        Ok(fds) => {
            let borrowed: Vec<_> = fds.iter().map(|f| f.as_fd()).collect();
            match lxd_sys::fdpass::send_fds(sock.as_fd(), b"L", &borrowed) {
                Ok(_) => 0,
                Err(e) => {
                    println!("Error: Failed to send the listeners: {e}");
                    1
                }
            }
        }
        Err(e) => {
            println!("Error: {e}");
            1
        }
    }
}

/// Run the proxy until killed. Returns only when it could not start.
pub fn run(spec: &ProxySpec) -> Result<(), ProxyError> {
    let listen = parse_address(&spec.listen).map_err(ProxyError::Address)?;
    let connect = parse_address(&spec.connect).map_err(ProxyError::Address)?;
    check_startable(&listen, &connect).map_err(ProxyError::Address)?;
    let (parent_sock, child_sock) =
        UnixStream::pair().map_err(|e| ProxyError::Receive(e.to_string()))?;
    let fds = match lxd_sys::spawn::fork_process().map_err(ProxyError::Fork)? {
        ForkResult::Child => {
            drop(parent_sock);
            std::process::exit(listener_child(spec, &listen, child_sock));
        }
        ForkResult::Parent { child } => {
            drop(child_sock);
            let mut buf = [0u8; 1];
            let received = lxd_sys::fdpass::recv_fds(parent_sock.as_fd(), &mut buf);
            let _ = waitpid(child, None);
            match received {
                Ok((n, fds)) if n > 0 && !fds.is_empty() => fds,
                Ok(_) => return Err(ProxyError::Receive("the listener process failed".into())),
                Err(e) => return Err(ProxyError::Receive(e.to_string())),
            }
        }
    };
    if let Some(pid) = spec.connect_pid {
        namespaces::enter(pid, wanted_for(&connect))
            .map_err(|e| ProxyError::Enter("connector", e))?;
    }
    if spec.security_uid.is_some() || spec.security_gid.is_some() {
        let (uid, gid) = (
            spec.security_uid.unwrap_or(0),
            spec.security_gid.unwrap_or(0),
        );
        let ok = nix::unistd::setgid(nix::unistd::Gid::from_raw(gid)).is_ok()
            && nix::unistd::setuid(nix::unistd::Uid::from_raw(uid)).is_ok();
        if !ok {
            return Err(ProxyError::Identity(uid, gid));
        }
    }
    println!("Status: Started");
    relay::serve(fds, &listen, &connect, spec.proxy_protocol);
    Ok(())
}
