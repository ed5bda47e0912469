//! Network addresses as LXD spells them: the canonical listen address of
//! `core.https_address` (port 8443 when none is given, `[::]` and `:port` forms) and the
//! addresses a listener is reachable on (expanded over the host's interfaces for a wildcard),
//! shown in `environment.addresses` and put into join tokens.

use std::net::IpAddr;

/// LXD's default HTTPS port.
pub const HTTPS_DEFAULT_PORT: u16 = 8443;

/// Split `host:port` as Go's `net.SplitHostPort` does (IPv6 hosts in brackets).
pub fn split_host_port(address: &str) -> Option<(String, String)> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?;
        return Some((host.to_string(), port.to_string()));
    }
    let (host, port) = address.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host.to_string(), port.to_string()))
}

/// Go's `net.JoinHostPort`: brackets around hosts that contain a colon.
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// LXD's `CanonicalNetworkAddress`: a bare IP or host name gets the default port, IPv6
/// addresses are bracketed, a trailing colon means the default port.
pub fn canonical_network_address(address: &str, default_port: u16) -> String {
    match split_host_port(address) {
        None => match address.parse::<IpAddr>() {
            Ok(ip) => join_host_port(&ip.to_string(), &default_port.to_string()),
            Err(_) => format!("{address}:{default_port}"),
        },
        Some((host, port)) if port.is_empty() => join_host_port(&host, &default_port.to_string()),
        Some(_) => address.to_string(),
    }
}

/// The address to bind for a canonical listen address (an empty host means every address).
pub fn bind_address(canonical: &str) -> String {
    match split_host_port(canonical) {
        Some((host, port)) if host.is_empty() => format!("[::]:{port}"),
        _ => canonical.to_string(),
    }
}

/// Go's `IP.IsGlobalUnicast`.
fn is_global_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_link_local()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unicast_link_local())
        }
    }
}

/// The host's interface addresses, in interface order.
pub fn interface_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter_map(|a| a.address)
        .filter_map(|sa| {
            if let Some(v4) = sa.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                sa.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

/// LXD's `ListenAddresses`: the addresses clients can reach a listener on `configured` at;
/// a wildcard host expands to every global unicast address of `interfaces` (IPv4 only for
/// `0.0.0.0`).
pub fn listen_addresses(configured: &str, interfaces: &[IpAddr]) -> Vec<String> {
    if configured.is_empty() {
        return Vec::new();
    }
    let unwrapped = configured.trim_matches(|c| c == '[' || c == ']');
    let with_port = if unwrapped.parse::<IpAddr>().is_ok() || !unwrapped.contains(':') {
        join_host_port(unwrapped, &HTTPS_DEFAULT_PORT.to_string())
    } else {
        configured.to_string()
    };
    let Some((host, port)) = split_host_port(&with_port) else {
        return Vec::new();
    };
    if host.is_empty() || host == "0.0.0.0" || host == "::" {
        interfaces
            .iter()
            .filter(|ip| is_global_unicast(ip))
            .filter(|ip| host != "0.0.0.0" || ip.is_ipv4())
            .map(|ip| join_host_port(&ip.to_string(), &port))
            .collect()
    } else {
        vec![join_host_port(&host, &port)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_network_address_forms() {
        assert_eq!(
            canonical_network_address("127.0.0.1", 8443),
            "127.0.0.1:8443"
        );
        assert_eq!(canonical_network_address("::1", 8443), "[::1]:8443");
        assert_eq!(canonical_network_address("[::]", 8443), "[::]:8443");
        assert_eq!(canonical_network_address("[::]:", 8443), "[::]:8443");
        assert_eq!(canonical_network_address(":9443", 8443), ":9443");
        assert_eq!(canonical_network_address("host", 8443), "host:8443");
        assert_eq!(canonical_network_address("1.2.3.4:99", 8443), "1.2.3.4:99");
        assert_eq!(bind_address(":9443"), "[::]:9443");
    }

    #[test]
    fn listen_addresses_expand_wildcards_over_global_unicast() {
        let ifs: Vec<IpAddr> = ["127.0.0.1", "10.1.2.3", "fe80::1", "2001:db8::5"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(listen_addresses("", &ifs), Vec::<String>::new());
        assert_eq!(
            listen_addresses("127.0.0.1:18443", &ifs),
            ["127.0.0.1:18443"]
        );
        assert_eq!(listen_addresses("127.0.0.1", &ifs), ["127.0.0.1:8443"]);
        assert_eq!(listen_addresses("0.0.0.0:1", &ifs), ["10.1.2.3:1"]);
        assert_eq!(
            listen_addresses("[::]", &ifs),
            ["10.1.2.3:8443", "[2001:db8::5]:8443"]
        );
        assert_eq!(listen_addresses(":7", &ifs).len(), 2);
    }
}
