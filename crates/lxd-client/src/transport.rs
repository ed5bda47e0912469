//! How bytes reach the daemon: the [`Connector`] opens a [`Stream`], over the local UNIX
//! socket or over TCP + TLS to an HTTPS remote (`https://host:port`). Nothing above this
//! module knows which: requests, downloads and websockets all run on a [`Stream`].

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::tls::TlsError;

/// How long one TCP connection attempt may take (Go's `RFC3493Dialer`).
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub enum Connector {
    /// HTTP over a UNIX socket at this path.
    Unix(PathBuf),
    /// HTTPS to a remote server.
    Https(HttpsEndpoint),
}

/// An HTTPS server: its address and the TLS configuration used to reach it.
#[derive(Debug, Clone)]
pub struct HttpsEndpoint {
    /// `https://host:port`, as requests are named in errors (no trailing slash).
    base_url: String,
    /// The host to dial (IPv6 without brackets).
    host: String,
    port: u16,
    /// `host:port` for the `Host` header.
    authority: String,
    /// A path prefix before `/1.0` (empty for LXD servers at the root).
    path_prefix: String,
    tls: Arc<ClientConfig>,
}

impl HttpsEndpoint {
    /// Parses `https://host[:port][/prefix]` (port 443 when absent, as Go's HTTP client does).
    pub fn new(url: &str, tls: Arc<ClientConfig>) -> Result<Self, TlsError> {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| TlsError::Setup(format!("Not an https URL: {url}")))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = split_host_port(authority)
            .ok_or_else(|| TlsError::Setup(format!("Invalid address: {url}")))?;
        let port = port.unwrap_or(443);
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Self {
            base_url: format!("https://{}{}", authority_as_written(rest), path),
            host,
            port,
            authority,
            path_prefix: path.to_string(),
            tls,
        })
    }

    /// `https://host:port` as given.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Opens TCP to the first address that answers, then the TLS session.
    async fn connect(&self) -> io::Result<TlsStream<TcpStream>> {
        let tcp = self.dial().await?;
        let name = match self.host.parse::<std::net::IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(self.host.clone())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
        };
        TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
    }

    async fn dial(&self) -> io::Result<TcpStream> {
        let target = format!("{}:{}", self.host_for_lookup(), self.port);
        let addrs: Vec<_> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("lookup {}: {}", self.host, go_io_text(&e)),
                )
            })?
            .collect();
        let mut failures = Vec::new();
        for addr in addrs {
            match tokio::time::timeout(DIAL_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                Ok(Err(e)) => failures.push((
                    e.kind(),
                    format!("dial tcp {addr}: connect: {}", go_io_text(&e)),
                )),
                Err(_) => failures.push((
                    io::ErrorKind::TimedOut,
                    format!("dial tcp {addr}: i/o timeout"),
                )),
            }
        }
        let kind = failures
            .first()
            .map(|f| f.0)
            .unwrap_or(io::ErrorKind::NotFound);
        let list: Vec<String> = failures.into_iter().map(|f| f.1).collect();
        Err(io::Error::new(
            kind,
            format!("Unable to connect to: {target} ([{}])", list.join(" ")),
        ))
    }

    fn host_for_lookup(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

/// The authority part of `rest` (`host:port/...` → `host:port`).
fn authority_as_written(rest: &str) -> &str {
    rest.split('/').next().unwrap_or_default()
}

/// Splits `host[:port]` and `[v6][:port]`.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            Some((host.to_string(), Some(port.parse().ok()?)))
        }
        Some(_) => Some((authority.to_string(), None)),
        None if authority.is_empty() => None,
        None => Some((authority.to_string(), None)),
    }
}

/// Go's wording of common socket errors (`connection refused`, ...), without Rust's
/// `(os error N)` suffix.
pub fn go_io_text(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            let s = s.split(" (os error").next().unwrap_or_default().to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                None => s,
            }
        }
    }
}

impl Connector {
    /// The local daemon's socket: `$LXD_DIR/unix.socket`, `LXD_DIR` defaulting to `/var/lib/lxd`.
    pub fn local() -> Self {
        Self::Unix(default_socket_path())
    }

    /// The `Host` header value used on requests (`unix.socket` for local connections).
    pub fn host(&self) -> &str {
        match self {
            Self::Unix(_) => "unix.socket",
            Self::Https(e) => &e.authority,
        }
    }

    /// The URL requests are named by in errors: `http://unix.socket` or `https://host:port`.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Unix(_) => "http://unix.socket",
            Self::Https(e) => &e.base_url,
        }
    }

    /// The websocket URL scheme (`ws` or `wss`).
    pub fn websocket_scheme(&self) -> &'static str {
        match self {
            Self::Unix(_) => "ws",
            Self::Https(_) => "wss",
        }
    }

    /// The request target for an API path (`/1.0/...`), with the server's path prefix.
    pub fn request_target(&self, path: &str) -> String {
        match self {
            Self::Https(e) if !e.path_prefix.is_empty() => format!("{}{path}", e.path_prefix),
            _ => path.to_string(),
        }
    }

    /// True for HTTPS connections.
    pub fn is_https(&self) -> bool {
        matches!(self, Self::Https(_))
    }

    /// Human form of the endpoint for error messages.
    pub fn endpoint(&self) -> String {
        match self {
            Self::Unix(p) => p.display().to_string(),
            Self::Https(e) => e.base_url.clone(),
        }
    }

    /// Opens a fresh connection.
    pub async fn connect(&self) -> io::Result<Stream> {
        match self {
            Self::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
            Self::Https(e) => Ok(Stream::Tls(Box::new(e.connect().await?))),
        }
    }
}

/// The daemon's directory, `$LXD_DIR` or `/var/lib/lxd`.
pub fn lxd_dir() -> PathBuf {
    match std::env::var_os("LXD_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from("/var/lib/lxd"),
    }
}

/// `$LXD_DIR/unix.socket`.
pub fn default_socket_path() -> PathBuf {
    lxd_dir().join("unix.socket")
}

/// Resolves a `unix://` remote address: empty means the default socket.
pub fn unix_socket_from_addr(addr: &str) -> PathBuf {
    let rest = addr.trim_start_matches("unix:").trim_start_matches("//");
    if rest.is_empty() {
        default_socket_path()
    } else {
        Path::new(rest).to_path_buf()
    }
}

/// A connected byte stream to the daemon.
#[derive(Debug)]
pub enum Stream {
    Unix(UnixStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_socket_from_addr_with_path_uses_it() {
        assert_eq!(
            unix_socket_from_addr("unix:///run/x.sock"),
            PathBuf::from("/run/x.sock")
        );
    }

    #[test]
    fn split_host_port_reads_v4_v6_and_names() {
        assert_eq!(
            split_host_port("127.0.0.1:8443"),
            Some(("127.0.0.1".into(), Some(8443)))
        );
        assert_eq!(split_host_port("[::1]:9"), Some(("::1".into(), Some(9))));
        assert_eq!(split_host_port("[::1]"), Some(("::1".into(), None)));
        assert_eq!(split_host_port("host"), Some(("host".into(), None)));
        assert_eq!(split_host_port("host:x"), None);
    }

    #[test]
    fn https_endpoint_keeps_base_url_and_prefix() {
        let config = crate::tls::client_config(&crate::tls::TlsSettings::default()).unwrap();
        let e = HttpsEndpoint::new("https://[::1]:8443/sub/", config).unwrap();
        assert_eq!(e.base_url(), "https://[::1]:8443/sub");
        let c = Connector::Https(e);
        assert_eq!(c.host(), "[::1]:8443");
        assert_eq!(c.request_target("/1.0"), "/sub/1.0");
    }
}
