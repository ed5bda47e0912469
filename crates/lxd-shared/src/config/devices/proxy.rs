//! `proxy` devices: the `listen`/`connect` address syntax (`tcp:ADDR:PORTS`, `udp:...`,
//! `unix:/path` or `unix:@abstract`) parsed as LXD's `ProxyParseAddr` does, and the device's
//! checks with LXD's texts.

use std::collections::BTreeMap;

use super::rules::{self, Rule};

/// The transport of a proxy address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnType {
    Tcp,
    Udp,
    Unix,
}

impl ConnType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Unix => "unix",
        }
    }
}

/// A parsed proxy address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAddress {
    pub conn_type: ConnType,
    /// The host part (may be empty: every address) or the socket path (`@name` when abstract).
    pub address: String,
    /// Ports, ranges expanded (none for unix sockets).
    pub ports: Vec<u64>,
    pub abstract_socket: bool,
}

impl ProxyAddress {
    /// `host:port` for the `index`th port (IPv6 hosts in brackets).
    pub fn socket_address(&self, index: usize) -> String {
        let port = self.ports.get(index).or(self.ports.first()).copied();
        let host = if self.address.contains(':') {
            format!("[{}]", self.address)
        } else if self.address.is_empty() {
            "0.0.0.0".to_string()
        } else {
            self.address.clone()
        };
        format!("{host}:{}", port.unwrap_or(0))
    }
}

/// Go's `net.SplitHostPort`, with its error texts.
fn split_host_port(text: &str) -> Result<(String, String), String> {
    let fail = |why: &str| Err(format!("address {text}: {why}"));
    if let Some(rest) = text.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return fail("missing ']' in address");
        };
        let host = &rest[..end];
        return match &rest[end + 1..] {
            "" => fail("missing port in address"),
            tail => match tail.strip_prefix(':') {
                Some(port) if !port.contains(':') => Ok((host.to_string(), port.to_string())),
                Some(_) => fail("too many colons in address"),
                None => fail("missing port in address"),
            },
        };
    }
    let Some(colon) = text.rfind(':') else {
        return fail("missing port in address");
    };
    let (host, port) = (&text[..colon], &text[colon + 1..]);
    if host.contains(':') {
        return fail("too many colons in address");
    }
    if host.contains(['[', ']']) || port.contains(['[', ']']) {
        return fail("unexpected '[' or ']' in address");
    }
    Ok((host.to_string(), port.to_string()))
}

fn parse_int(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .map_err(|_| format!("strconv.ParseInt: parsing {text:?}: invalid syntax"))
}

/// One `PORT` or `FIRST-LAST` entry: its first port and how many it covers.
fn parse_port_range(text: &str) -> Result<(i64, i64), String> {
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() > 2 {
        return Err(format!("Invalid port range {text:?}"));
    }
    let base = parse_int(parts[0])?;
    let mut size = 1;
    if let Some(end) = parts.get(1) {
        let end = parse_int(end)?;
        if end <= base {
            return Err("End port should be higher than start port".into());
        }
        size = end - base + 1;
    }
    Ok((base, size))
}

/// Parse `listen` or `connect`.
pub fn parse_address(data: &str) -> Result<ProxyAddress, String> {
    let (proto, rest) = match data.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (data, None),
    };
    let conn_type = match proto {
        "tcp" => ConnType::Tcp,
        "udp" => ConnType::Udp,
        "unix" => ConnType::Unix,
        other => return Err(format!("Unknown protocol type {other:?}")),
    };
    let rest = rest.filter(|r| !r.is_empty()).ok_or("Missing address")?;
    if conn_type == ConnType::Unix {
        return Ok(ProxyAddress {
            conn_type,
            address: rest.to_string(),
            ports: Vec::new(),
            abstract_socket: rest.starts_with('@'),
        });
    }
    let (host, port) = split_host_port(rest)?;
    if !host.is_empty() {
        rules::is_address(&host)?;
    }
    let mut ports = Vec::new();
    for entry in port.split(',') {
        let (first, count) = parse_port_range(entry)?;
        ports.extend((0..count).map(|i| (first + i) as u64));
    }
    if ports.is_empty() {
        return Err("At least one port is required".into());
    }
    Ok(ProxyAddress {
        conn_type,
        address: host,
        ports,
        abstract_socket: false,
    })
}

fn address_rule(value: &str) -> Result<(), String> {
    parse_address(value).map(|_| ())
}

fn bind_rule(value: &str) -> Result<(), String> {
    if ["host", "instance", "guest", "container"].contains(&value) {
        Ok(())
    } else {
        Err("Invalid binding side given. Must be \"host\" or \"instance\"".into())
    }
}

/// The option checks of a proxy device, in order; `listen` and `connect` are checked even
/// when unset (an empty address has an unknown protocol).
pub const RULES: &[(&str, Rule, bool)] = &[
    ("listen", address_rule, true),
    ("connect", address_rule, true),
    ("bind", bind_rule, false),
    ("mode", rules::is_octal_mode, false),
    ("nat", rules::is_bool, false),
    ("gid", rules::is_unix_id, false),
    ("uid", rules::is_unix_id, false),
    ("security.uid", rules::is_unix_id, false),
    ("security.gid", rules::is_unix_id, false),
    ("proxy_protocol", rules::is_bool, false),
];

/// The checks across options, once each option is valid on its own.
pub fn check_combination(dev: &BTreeMap<String, String>) -> Result<(), String> {
    let get = |k: &str| dev.get(k).map(String::as_str).unwrap_or("");
    let is_true = |k: &str| crate::config::values::parse_bool(get(k)) == Some(true);
    let listen = parse_address(get("listen"))?;
    let connect = parse_address(get("connect"))?;
    let listen_unix = listen.conn_type == ConnType::Unix;
    if (!listen_unix && connect.ports.len() > listen.ports.len())
        || (listen_unix && connect.ports.len() > 1)
    {
        return Err("Mismatch between listen port(s) and connect port(s) count".into());
    }
    if is_true("proxy_protocol") && (!get("connect").starts_with("tcp") || is_true("nat")) {
        return Err("The PROXY header can only be sent to tcp servers in non-nat mode".into());
    }
    if (!listen_unix || listen.abstract_socket)
        && (!get("uid").is_empty() || !get("gid").is_empty() || !get("mode").is_empty())
    {
        return Err(
            "Only proxy devices for non-abstract unix sockets can carry uid, gid, or mode properties"
                .into(),
        );
    }
    Ok(())
}

/// What the proxy helper itself refuses when it starts (LXD's forkproxy): udp to anything
/// but udp, and port counts that cannot be paired.
pub fn check_startable(listen: &ProxyAddress, connect: &ProxyAddress) -> Result<(), String> {
    if listen.conn_type == ConnType::Udp && connect.conn_type != ConnType::Udp {
        return Err("Proxying from udp to non-udp protocol is not supported".into());
    }
    let (l, c) = (listen.ports.len(), connect.ports.len());
    if connect.conn_type != ConnType::Unix && ((l > 1 && c > 1 && l != c) || (l == 1 && c > 1)) {
        return Err("Invalid port range".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_address_follows_lxd_and_go_texts() {
        let a = parse_address("tcp:127.0.0.1:80,8000-8002").unwrap();
        assert_eq!(a.conn_type, ConnType::Tcp);
        assert_eq!(a.ports, vec![80, 8000, 8001, 8002]);
        assert_eq!(a.socket_address(2), "127.0.0.1:8001");
        let v6 = parse_address("udp:[::1]:53").unwrap();
        assert_eq!(
            (v6.address.as_str(), v6.socket_address(0).as_str()),
            ("::1", "[::1]:53")
        );
        let u = parse_address("unix:@sock").unwrap();
        assert!(u.abstract_socket && u.ports.is_empty());
        assert_eq!(parse_address("").unwrap_err(), "Unknown protocol type \"\"");
        assert_eq!(
            parse_address("foo:1").unwrap_err(),
            "Unknown protocol type \"foo\""
        );
        assert_eq!(parse_address("tcp:").unwrap_err(), "Missing address");
        assert_eq!(
            parse_address("tcp:127.0.0.1").unwrap_err(),
            "address 127.0.0.1: missing port in address"
        );
        assert_eq!(
            parse_address("tcp:1.2.3:5").unwrap_err(),
            "Not an IP address \"1.2.3\""
        );
        assert_eq!(
            parse_address("tcp:1.2.3.4:x").unwrap_err(),
            "strconv.ParseInt: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            parse_address("tcp:1.2.3.4:5-3").unwrap_err(),
            "End port should be higher than start port"
        );
    }

    #[test]
    fn check_combination_refuses_what_lxd_refuses() {
        let dev = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let err = check_combination(&dev(&[
            ("listen", "tcp:127.0.0.1:5"),
            ("connect", "tcp:127.0.0.1:1"),
            ("mode", "0777"),
        ]))
        .unwrap_err();
        assert!(
            err.starts_with("Only proxy devices for non-abstract"),
            "{err}"
        );
        assert_eq!(
            check_combination(&dev(&[
                ("listen", "tcp:127.0.0.1:5"),
                ("connect", "tcp:127.0.0.1:1,2"),
            ]))
            .unwrap_err(),
            "Mismatch between listen port(s) and connect port(s) count"
        );
        assert!(check_combination(&dev(&[
            ("listen", "unix:/tmp/s"),
            ("connect", "tcp:127.0.0.1:1"),
            ("mode", "0600"),
        ]))
        .is_ok());
        let udp = parse_address("udp:127.0.0.1:5").unwrap();
        let tcp = parse_address("tcp:127.0.0.1:5").unwrap();
        assert_eq!(
            check_startable(&udp, &tcp).unwrap_err(),
            "Proxying from udp to non-udp protocol is not supported"
        );
        let range = parse_address("tcp:127.0.0.1:1-3").unwrap();
        let two = parse_address("tcp:127.0.0.1:1,2").unwrap();
        assert_eq!(
            check_startable(&range, &two).unwrap_err(),
            "Invalid port range"
        );
    }
}
