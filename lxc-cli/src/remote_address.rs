//! Remote addresses as `lxc remote add` reads them: what Go's `url.Parse` makes of
//! `host`, `host:port`, `[v6]:port`, `https://...`, `unix://...` and socket paths, and the
//! address lxc stores (`https://host:8443` by default, IPv6 bracketed, or `unix://PATH`).

use std::os::unix::fs::FileTypeExt;

use anyhow::{bail, Result};

/// The HTTPS port LXD listens on when an address names none.
const HTTPS_DEFAULT_PORT: u16 = 8443;

/// What Go's `url.Parse` makes of a remote address, as far as `lxc remote add` looks.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedAddress {
    pub scheme: Option<String>,
    pub host: String,
}

/// Parses `addr` as lxc does, including its fallbacks for `host:port` forms that Go's URL
/// parser refuses or reads as a scheme.
pub fn parse_address(addr: &str) -> ParsedAddress {
    let scheme_end = scheme_length(addr);
    let Some(len) = scheme_end else {
        // Unparsable (a colon in the first path segment, or a leading colon): all host.
        return ParsedAddress {
            scheme: None,
            host: addr.to_string(),
        };
    };
    if len == 0 {
        return ParsedAddress::default();
    }
    let scheme = addr[..len].to_lowercase();
    let rest = &addr[len + 1..];
    if let Some(authority) = rest.strip_prefix("//") {
        let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        return ParsedAddress {
            scheme: Some(scheme),
            host: host.to_string(),
        };
    }
    if !addr.contains("://") && scheme != "unix" {
        // Go reads `host:port` as scheme `host`; lxc puts it back as a host.
        return ParsedAddress {
            scheme: None,
            host: addr.to_string(),
        };
    }
    ParsedAddress {
        scheme: Some(scheme),
        host: String::new(),
    }
}

/// `Some(n)`: a scheme of `n` bytes before a colon (0: no scheme, a path); `None`: Go's
/// parser fails (leading colon, or a colon in a scheme-less first segment).
fn scheme_length(addr: &str) -> Option<usize> {
    for (i, c) in addr.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => continue,
            '0'..='9' | '+' | '-' | '.' if i > 0 => continue,
            ':' if i == 0 => return None,
            ':' => return Some(i),
            _ => break,
        }
    }
    let first_segment = addr.split('/').next().unwrap_or_default();
    if first_segment.contains(':') {
        None
    } else {
        Some(0)
    }
}

/// The address lxc stores: `https://host:port` (port 8443 by default, IPv6 bracketed) or
/// `unix://PATH`.
pub fn normalise_address(addr: &str, parsed: &ParsedAddress) -> Result<String> {
    let scheme = match parsed.scheme.as_deref() {
        Some(s) if s != "unix" && s != "https" => {
            bail!("Invalid URL scheme \"{s}\" in \"{addr}\"")
        }
        Some(s) => s.to_string(),
        None if addr.starts_with('/') => "unix".into(),
        None if is_unix_socket(addr) => "unix".into(),
        None => "https".into(),
    };
    if scheme == "unix" {
        let path = addr.strip_prefix("unix:").unwrap_or(addr);
        let path = path.strip_prefix("//").unwrap_or(path);
        return Ok(format!("unix://{path}"));
    }
    let host = if parsed.host.is_empty() {
        addr
    } else {
        &parsed.host
    };
    let (mut host, port) = match split_host_port(host) {
        Some((h, p)) => (h, p),
        None => (host.to_string(), HTTPS_DEFAULT_PORT.to_string()),
    };
    if host.contains(':') && !host.starts_with('[') {
        host = format!("[{host}]");
    }
    Ok(format!("{scheme}://{host}:{port}"))
}

/// Go's `net.SplitHostPort`: `host:port` or `[v6]:port`; `None` without a port.
fn split_host_port(hostport: &str) -> Option<(String, String)> {
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        let port = rest.strip_prefix(':')?;
        return Some((host.to_string(), port.to_string()));
    }
    let (host, port) = hostport.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host.to_string(), port.to_string()))
}

fn is_unix_socket(path: &str) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(addr: &str) -> String {
        normalise_address(addr, &parse_address(addr)).unwrap()
    }

    #[test]
    fn normalise_address_forms_match_lxc() {
        assert_eq!(normal("127.0.0.1:44435"), "https://127.0.0.1:44435");
        assert_eq!(normal("127.0.0.1"), "https://127.0.0.1:8443");
        assert_eq!(normal("host"), "https://host:8443");
        assert_eq!(normal("localhost:9000"), "https://localhost:9000");
        assert_eq!(normal("https://h:1/some/path"), "https://h:1");
        assert_eq!(normal("https://h"), "https://h:8443");
        assert_eq!(normal("[::1]:8443"), "https://[::1]:8443");
        assert_eq!(normal("::1"), "https://[::1]:8443");
        assert_eq!(normal("unix:///run/x.socket"), "unix:///run/x.socket");
        assert_eq!(normal("/run/x.socket"), "unix:///run/x.socket");
    }

    #[test]
    fn normalise_address_other_scheme_is_refused() {
        let e = normalise_address("http://x:2", &parse_address("http://x:2")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid URL scheme \"http\" in \"http://x:2\""
        );
    }

    #[test]
    fn parse_address_simplestreams_needs_https_scheme() {
        assert_eq!(parse_address("127.0.0.1:2").scheme, None);
        assert_eq!(
            parse_address("https://images.example/x").scheme.as_deref(),
            Some("https")
        );
    }
}
