//! How bytes reach the daemon: the [`Connector`] opens a [`Stream`].
//!
//! Only the local UNIX socket exists today. HTTPS (`core.https_address`, client certificates)
//! will be another `Connector` variant whose stream is a TLS stream; nothing above this module
//! needs to change when it arrives.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connector {
    /// HTTP over a UNIX socket at this path.
    Unix(PathBuf),
}

impl Connector {
    /// The local daemon's socket: `$LXD_DIR/unix.socket`, `LXD_DIR` defaulting to `/var/lib/lxd`.
    pub fn local() -> Self {
        Self::Unix(default_socket_path())
    }

    /// The `Host` header value used on requests (`unix.socket` for local connections).
    pub fn host(&self) -> &'static str {
        match self {
            Self::Unix(_) => "unix.socket",
        }
    }

    /// Human form of the endpoint for error messages.
    pub fn endpoint(&self) -> String {
        match self {
            Self::Unix(p) => p.display().to_string(),
        }
    }

    /// Opens a fresh connection.
    pub async fn connect(&self) -> io::Result<Stream> {
        match self {
            Self::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
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
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
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
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
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
}
