//! Websockets over the daemon connection: operation sockets (`/1.0/operations/<id>/websocket`)
//! and the plumbing shared with the events listener, over the UNIX socket or TLS alike.

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use crate::transport::Stream;
use crate::{Client, ClientError, Result};

/// A websocket connected to the daemon.
pub type DaemonSocket = WebSocketStream<Stream>;

/// Percent-escapes a path segment the way Go's `url.PathEscape` does.
pub fn escape_path(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b',' | b':' | b'=' | b'@'
            );
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// Upgrades `path` (absolute API path with query) to a websocket.
    pub async fn connect_websocket(&self, path: &str) -> Result<DaemonSocket> {
        let connector = self.connector();
        let url = format!(
            "{}://{}{}",
            connector.websocket_scheme(),
            connector.host(),
            connector.request_target(path)
        );
        let request = url
            .into_client_request()
            .map_err(|e| ClientError::Websocket(e.to_string()))?;
        let stream = connector
            .connect()
            .await
            .map_err(|e| crate::client::connect_error(connector, "GET", path, &e))?;
        let config =
            WebSocketConfig::default().read_buffer_size(lxd_shared::WEBSOCKET_READ_BUFFER_SIZE);
        let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| ClientError::Websocket(e.to_string()))?;
        Ok(ws)
    }

    /// Connects to an operation's websocket with its `secret`.
    pub async fn connect_operation_websocket(
        &self,
        id: &str,
        secret: &str,
    ) -> Result<DaemonSocket> {
        let path = format!("/1.0/operations/{id}/websocket?secret={secret}");
        self.connect_websocket(&self.url_with_project(&path)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_path_with_space_and_slash_is_encoded() {
        assert_eq!(escape_path("a b/c"), "a%20b%2Fc");
    }
}
