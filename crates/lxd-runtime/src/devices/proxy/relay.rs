//! The proxy's relays, one thread per listener: streams (TCP and UNIX) are accepted and
//! copied both ways by a thread per direction, each half closing its write side at end of
//! stream; UDP datagrams are tracked per client, each client getting its own connected socket
//! to the target whose replies go back through the listener (a session idle for 30 minutes
//! ends, as in LXD).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::OwnedFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lxd_shared::config::devices::proxy::{ConnType, ProxyAddress};
use nix::sys::socket::{shutdown, Shutdown};

/// How long a UDP session may stay idle.
const UDP_SESSION_IDLE: Duration = Duration::from_secs(30 * 60);

/// Bind a UNIX stream listener on a path (an existing file is replaced) or an abstract name
/// (`@name`).
pub fn bind_unix(address: &str) -> std::io::Result<OwnedFd> {
    let listener = match address.strip_prefix('@') {
        Some(name) => {
            UnixListener::bind_addr(&std::os::unix::net::SocketAddr::from_abstract_name(name)?)?
        }
        None => {
            let _ = std::fs::remove_file(address);
            UnixListener::bind(address)?
        }
    };
    Ok(listener.into())
}

/// Bind a TCP listener or a UDP socket on `addr` (`host:port`).
pub fn bind_inet(kind: ConnType, addr: &str) -> std::io::Result<OwnedFd> {
    Ok(match kind {
        ConnType::Udp => UdpSocket::bind(addr)?.into(),
        _ => TcpListener::bind(addr)?.into(),
    })
}

fn connect_target(connect: &ProxyAddress, index: usize) -> std::io::Result<OwnedFd> {
    let port_index = if connect.ports.len() > 1 { index } else { 0 };
    Ok(match connect.conn_type {
        ConnType::Tcp => TcpStream::connect(connect.socket_address(port_index))?.into(),
        ConnType::Udp => {
            let target: SocketAddr = connect
                .socket_address(port_index)
                .parse()
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
            let socket = UdpSocket::bind(unspecified_for(&target))?;
            socket.connect(target)?;
            socket.into()
        }
        ConnType::Unix => match connect.address.strip_prefix('@') {
            Some(name) => UnixStream::connect_addr(
                &std::os::unix::net::SocketAddr::from_abstract_name(name)?,
            )?
            .into(),
            None => UnixStream::connect(&connect.address)?.into(),
        },
    })
}

fn unspecified_for(target: &SocketAddr) -> SocketAddr {
    match target {
        SocketAddr::V4(_) => "0.0.0.0:0".parse().unwrap_or(*target),
        SocketAddr::V6(_) => "[::]:0".parse().unwrap_or(*target),
    }
}

/// Copy `from` into `to` until end of stream, then close `to` for writing.
fn pipe(from: OwnedFd, to: OwnedFd) {
    let mut reader = File::from(from);
    let half = to.try_clone();
    let mut writer = File::from(to);
    let _ = std::io::copy(&mut reader, &mut writer);
    if let Ok(half) = half {
        let _ = shutdown(std::os::fd::AsRawFd::as_raw_fd(&half), Shutdown::Write);
    }
}

/// The PROXY protocol v1 line for a TCP client.
fn proxy_header(client: &TcpStream) -> String {
    match (client.peer_addr(), client.local_addr()) {
        (Ok(peer), Ok(local)) => {
            let family = if peer.is_ipv4() { "TCP4" } else { "TCP6" };
            format!(
                "PROXY {family} {} {} {} {}\r\n",
                peer.ip(),
                local.ip(),
                peer.port(),
                local.port()
            )
        }
        _ => "PROXY UNKNOWN\r\n".to_string(),
    }
}

fn relay_stream(client: OwnedFd, header: Option<String>, connect: &ProxyAddress, index: usize) {
    let target = match connect_target(connect, index) {
        Ok(t) => t,
        Err(e) => {
            println!("Warning: Failed to connect to target: {e}");
            return;
        }
    };
    if let Some(header) = header {
        if let Ok(fd) = target.try_clone() {
            let _ = File::from(fd).write_all(header.as_bytes());
        }
    }
    let (Ok(client2), Ok(target2)) = (client.try_clone(), target.try_clone()) else {
        return;
    };
    std::thread::spawn(move || pipe(client2, target2));
    pipe(target, client);
}

fn serve_stream(
    listener: OwnedFd,
    listen: ConnType,
    connect: Arc<ProxyAddress>,
    index: usize,
    proxy: bool,
) {
    let send_header = proxy && connect.conn_type == ConnType::Tcp;
    match listen {
        ConnType::Unix => {
            let listener = UnixListener::from(listener);
            for client in listener.incoming().flatten() {
                let connect = connect.clone();
                let header = send_header.then(|| "PROXY UNKNOWN\r\n".to_string());
                std::thread::spawn(move || relay_stream(client.into(), header, &connect, index));
            }
        }
        _ => {
            let listener = TcpListener::from(listener);
            for client in listener.incoming().flatten() {
                let connect = connect.clone();
                let header = send_header.then(|| proxy_header(&client));
                std::thread::spawn(move || relay_stream(client.into(), header, &connect, index));
            }
        }
    }
}

type Sessions = Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>>;

fn serve_udp(listener: OwnedFd, connect: Arc<ProxyAddress>, index: usize) {
    let listener = Arc::new(UdpSocket::from(listener));
    let sessions: Sessions = Arc::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let Ok((n, client)) = listener.recv_from(&mut buf) else {
            continue;
        };
        let existing = sessions.lock().ok().and_then(|s| s.get(&client).cloned());
        let session = match existing {
            Some(s) => s,
            None => {
                let Ok(fd) = connect_target(&connect, index) else {
                    println!("Warning: Failed to connect to target");
                    continue;
                };
                let socket = Arc::new(UdpSocket::from(fd));
                if let Ok(mut s) = sessions.lock() {
                    s.insert(client, socket.clone());
                }
                let (reply, back, table) = (socket.clone(), listener.clone(), sessions.clone());
                std::thread::spawn(move || {
                    let _ = reply.set_read_timeout(Some(UDP_SESSION_IDLE));
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = reply.recv(&mut buf) {
                        let _ = back.send_to(&buf[..n], client);
                    }
                    if let Ok(mut s) = table.lock() {
                        s.remove(&client);
                    }
                });
                socket
            }
        };
        let _ = session.send(&buf[..n]);
    }
}

/// Relay on every listener until the process is killed.
pub fn serve(listeners: Vec<OwnedFd>, listen: &ProxyAddress, connect: &ProxyAddress, proxy: bool) {
    let connect = Arc::new(connect.clone());
    let kind = listen.conn_type;
    let threads: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(index, fd)| {
            let connect = connect.clone();
            std::thread::spawn(move || match kind {
                ConnType::Udp => serve_udp(fd, connect, index),
                other => serve_stream(fd, other, connect, index, proxy),
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}
