//! Who is calling: peer credentials of the UNIX socket connection, attached per connection.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::events::Requestor;

/// Identity of the connection a request came on.
#[derive(Debug, Clone, Default)]
pub struct ConnInfo {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub pid: Option<i32>,
    pub protocol: &'static str,
}

/// The caller of a request (root over the socket when the connection carries no info, as in
/// in-process tests).
#[derive(Debug, Clone)]
pub struct Caller(pub ConnInfo);

impl Caller {
    /// The requestor recorded in lifecycle events.
    pub fn requestor(&self) -> Requestor {
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
            .unwrap_or(ConnInfo {
                protocol: "unix",
                ..Default::default()
            });
        Ok(Caller(info))
    }
}
