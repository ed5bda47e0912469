//! Trusted client certificates and join tokens (`shared/api/certificate.go`).

use serde::{Deserialize, Serialize};

/// The writable part of a trust store entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertificatePut {
    #[serde(default)]
    pub name: String,
    /// `client`, `server`, `metrics` (or `unknown`).
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub restricted: bool,
    /// Go's nil slice marshals as `null`.
    #[serde(default)]
    pub projects: Option<Vec<String>>,
    /// The PEM body without its armour lines, or the whole PEM (LXD accepts both).
    #[serde(default)]
    pub certificate: String,
}

/// An entry of the trust store, as `GET /1.0/certificates/<fingerprint>` serves it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    #[serde(flatten)]
    pub put: CertificatePut,
    #[serde(default)]
    pub fingerprint: String,
}

/// Body of `POST /1.0/certificates`: a certificate to trust, authorised by the caller's
/// trust, a trust password, or a join token; or `token: true` to ask for a new token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertificatesPost {
    #[serde(flatten)]
    pub put: CertificatePut,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub token: bool,
}

/// A join token as `lxc config trust add` prints it (base64 of this JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertificateAddToken {
    pub client_name: String,
    /// The server certificate's fingerprint, so the client can check whom it talks to.
    pub fingerprint: String,
    pub addresses: Vec<String>,
    pub secret: String,
    /// RFC 3339; Go's zero time (`0001-01-01T00:00:00Z`) when the token does not expire.
    pub expires_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_serializes_in_go_field_order() {
        let cert = Certificate {
            put: CertificatePut {
                name: "c".into(),
                kind: "client".into(),
                restricted: false,
                projects: None,
                certificate: "PEM".into(),
            },
            fingerprint: "ab".into(),
        };
        assert_eq!(
            serde_json::to_string(&cert).unwrap(),
            r#"{"name":"c","type":"client","restricted":false,"projects":null,"certificate":"PEM","fingerprint":"ab"}"#
        );
    }

    #[test]
    fn certificates_post_reads_password_and_token() {
        let post: CertificatesPost =
            serde_json::from_str(r#"{"type":"client","password":"foo","token":true}"#).unwrap();
        assert_eq!(post.put.kind, "client");
        assert_eq!(post.password, "foo");
        assert!(post.token);
    }
}
