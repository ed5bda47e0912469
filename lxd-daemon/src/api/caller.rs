//! Who is calling: the connection's identity (peer credentials of the UNIX socket, or the TLS
//! client certificate and address of an HTTPS connection), attached per connection, and what
//! the caller may do, decided per request by [`super::auth`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::events::Requestor;

/// The client certificate an HTTPS connection presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    /// DER of the last certificate the client sent (LXD takes the last of the chain).
    pub der: Vec<u8>,
    /// Its SHA-256 fingerprint.
    pub fingerprint: String,
}

/// What a caller may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Access {
    /// Everything: the UNIX socket, or an unrestricted trusted certificate.
    #[default]
    Admin,
    /// A trusted certificate restricted to some projects.
    Restricted { projects: Vec<String> },
    /// An HTTPS caller whose certificate (if any) is not in the trust store.
    Untrusted,
}

/// Identity of the connection a request came on.
#[derive(Debug, Clone, Default)]
pub struct ConnInfo {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub pid: Option<i32>,
    /// `unix` or `tls`.
    pub protocol: &'static str,
    /// The client's address (HTTPS).
    pub remote: Option<SocketAddr>,
    /// The client certificate (HTTPS).
    pub peer: Option<Arc<PeerCert>>,
    /// Filled in per request by the authorisation layer.
    pub access: Access,
}

impl ConnInfo {
    /// A UNIX socket connection with no credentials (in-process tests).
    pub fn unix() -> Self {
        Self {
            protocol: "unix",
            ..Default::default()
        }
    }

    /// An HTTPS connection from `remote` presenting `peer`.
    pub fn tls(remote: SocketAddr, peer: Option<PeerCert>) -> Self {
        Self {
            protocol: "tls",
            remote: Some(remote),
            peer: peer.map(Arc::new),
            access: Access::Untrusted,
            ..Default::default()
        }
    }
}

/// The caller of a request (root over the socket when the connection carries no info, as in
/// in-process tests).
#[derive(Debug, Clone)]
pub struct Caller(pub ConnInfo);

impl Caller {
    /// Whether the caller is trusted at all (LXD's `checkTrustedClient`).
    pub fn is_trusted(&self) -> bool {
        self.0.access != Access::Untrusted
    }

    /// Whether the caller may do anything (LXD's `UserIsAdmin`).
    pub fn is_admin(&self) -> bool {
        self.0.access == Access::Admin
    }

    /// Whether the caller may see the private objects of `project` (for images: otherwise
    /// only public ones), as LXD's `allowProjectPermission(..., "view")`.
    pub fn can_view(&self, project: &str) -> bool {
        match &self.0.access {
            Access::Admin => true,
            Access::Restricted { projects } => projects.iter().any(|p| p == project),
            Access::Untrusted => false,
        }
    }

    /// The client certificate of an HTTPS caller.
    pub fn peer(&self) -> Option<&PeerCert> {
        self.0.peer.as_deref()
    }

    /// The requestor recorded in lifecycle events.
    pub fn requestor(&self) -> Requestor {
        if self.0.protocol == "tls" {
            return Requestor {
                username: self
                    .peer()
                    .map(|p| p.fingerprint.clone())
                    .unwrap_or_default(),
                protocol: "tls".to_string(),
                address: self.0.remote.map(|a| a.to_string()).unwrap_or_default(),
            };
        }
        let uid = self.0.uid.unwrap_or(0);
        let username = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        Requestor {
            username,
            protocol: self.0.protocol.to_string(),
            address: "@".to_string(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let info = parts
            .extensions
            .get::<ConnInfo>()
            .cloned()
            .unwrap_or_else(ConnInfo::unix);
        Ok(Caller(info))
    }
}
