//! Errors of the client crate: transport, HTTP, API error envelopes, decoding and websockets.
//!
//! The `Display` of an API error is LXD's message alone, because the CLI prints
//! `Error: <message>` exactly as the Go client does.

use thiserror::Error;

/// Anything that can go wrong talking to LXD.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The server could not be reached (socket, TCP or TLS handshake), worded as Go's
    /// HTTP client words it: `Get "http://unix.socket/1.0": dial unix ...`.
    #[error("{method} \"{url}\": {reason}")]
    Connect {
        method: String,
        url: String,
        reason: String,
    },
    /// HTTP-level failure on an established connection.
    #[error("HTTP request failed")]
    Http(#[from] hyper::Error),
    /// A request could not be built (bad method or path).
    #[error("Invalid request: {0}")]
    Request(String),
    /// The daemon answered with an error envelope.
    #[error("{message}")]
    Api { code: u16, message: String },
    /// The body could not be decoded.
    #[error("{0}")]
    Decode(String),
    /// The response was not the kind the caller expected.
    #[error("{0}")]
    Unexpected(String),
    /// A websocket failed to connect or broke.
    #[error("Websocket failure: {0}")]
    Websocket(String),
    /// A downloaded or uploaded file could not be read or written, or did not check out.
    #[error("{0}")]
    Transfer(String),
    /// TLS could not be set up (bad client certificate, pinned certificate or CA).
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// An operation finished in failure; carries the operation's `err`.
    #[error("{0}")]
    OperationFailed(String),
}

impl ClientError {
    /// The HTTP status of an API error, if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for a 404 from the daemon.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

impl From<serde_json::Error> for ClientError {
    fn from(e: serde_json::Error) -> Self {
        Self::Decode(e.to_string())
    }
}
