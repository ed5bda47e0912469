//! Getting trusted by a remote server, the client half of `lxc remote add`: the server's
//! certificate fetched without verification (for the fingerprint prompt and token checks),
//! join tokens decoded, and `POST /1.0/certificates` with a trust password or token.

use base64::Engine;
use lxd_api::certificate::{CertificateAddToken, CertificatesPost};
use rustls::pki_types::CertificateDer;
use thiserror::Error;

use crate::tls::certificate_fetch_config;
use crate::transport::{Connector, HttpsEndpoint};
use crate::{Client, ClientError, Result};

/// Why a string is not a join token (`shared.CertificateTokenDecode`'s texts).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("Not a base64 string")]
    Base64,
    #[error("Not a certificate add token")]
    Json,
    #[error("No client name in certificate add token")]
    NoClientName,
    #[error("No server addresses in certificate add token")]
    NoAddresses,
    #[error("No secret in certificate add token")]
    NoSecret,
    #[error("No certificate fingerprint in certificate add token")]
    NoFingerprint,
}

/// Decodes a join token (base64 of the JSON `CertificateAddToken`), checking it names a
/// client, addresses, a secret and a fingerprint.
pub fn decode_certificate_token(
    input: &str,
) -> std::result::Result<CertificateAddToken, TokenError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(input)
        .map_err(|_| TokenError::Base64)?;
    // Go fills absent fields with zero values, so a token missing one is reported by name.
    let value: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| TokenError::Json)?;
    let object = value.as_object().ok_or(TokenError::Json)?;
    let text = |key: &str| -> std::result::Result<String, TokenError> {
        match object.get(key) {
            None | Some(serde_json::Value::Null) => Ok(String::new()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(TokenError::Json),
        }
    };
    let addresses = match object.get("addresses") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| TokenError::Json)?,
    };
    let token = CertificateAddToken {
        client_name: text("client_name")?,
        fingerprint: text("fingerprint")?,
        addresses,
        secret: text("secret")?,
        expires_at: text("expires_at")?,
    };
    if token.client_name.is_empty() {
        return Err(TokenError::NoClientName);
    }
    if token.addresses.is_empty() {
        return Err(TokenError::NoAddresses);
    }
    if token.secret.is_empty() {
        return Err(TokenError::NoSecret);
    }
    if token.fingerprint.is_empty() {
        return Err(TokenError::NoFingerprint);
    }
    Ok(token)
}

/// The certificate an HTTPS server presents, accepted without verification
/// (`shared.GetRemoteCertificate`). `url` is `https://host:port`.
pub async fn fetch_server_certificate(url: &str) -> Result<CertificateDer<'static>> {
    let (config, slot) = certificate_fetch_config()?;
    let connector = Connector::Https(HttpsEndpoint::new(url, config)?);
    let stream = connector
        .connect()
        .await
        .map_err(|e| crate::client::connect_error(&connector, "GET", "", &e))?;
    drop(stream);
    slot.take().ok_or_else(|| ClientError::Connect {
        method: "Get".into(),
        url: url.to_string(),
        reason: "Unable to read remote TLS certificate".into(),
    })
}

impl Client {
    /// `POST /1.0/certificates` from an untrusted client: asks the server to trust the TLS
    /// client certificate of this connection, authorised by `post.password` (a trust
    /// password or a join token).
    pub async fn request_trust(&self, post: &CertificatesPost) -> Result<()> {
        self.query_with("POST", "/1.0/certificates", post, None)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    #[test]
    fn decode_certificate_token_reads_lxd_token() {
        let token = encode(
            r#"{"client_name":"tok1","fingerprint":"ddd9","addresses":["127.0.0.1:44435"],"secret":"daf1","expires_at":"0001-01-01T00:00:00Z"}"#,
        );
        let t = decode_certificate_token(&token).unwrap();
        assert_eq!(t.client_name, "tok1");
        assert_eq!(t.addresses, vec!["127.0.0.1:44435".to_string()]);
        assert_eq!(t.fingerprint, "ddd9");
        assert_eq!(t.secret, "daf1");
    }

    #[test]
    fn decode_certificate_token_missing_fields_are_refused() {
        let no_secret = encode(
            r#"{"client_name":"a","fingerprint":"f","addresses":["h:1"],"secret":"","expires_at":""}"#,
        );
        assert_eq!(
            decode_certificate_token(&no_secret),
            Err(TokenError::NoSecret)
        );
        let no_addr = encode(
            r#"{"client_name":"a","fingerprint":"f","addresses":[],"secret":"s","expires_at":""}"#,
        );
        assert_eq!(
            decode_certificate_token(&no_addr),
            Err(TokenError::NoAddresses)
        );
    }

    #[test]
    fn decode_certificate_token_addresses_are_not_tokens() {
        assert_eq!(
            decode_certificate_token("127.0.0.1:8443"),
            Err(TokenError::Base64)
        );
        assert_eq!(decode_certificate_token("host1"), Err(TokenError::Base64));
        assert_eq!(
            decode_certificate_token(&encode("{}")),
            Err(TokenError::NoClientName)
        );
        assert_eq!(
            decode_certificate_token(&encode("[1]")),
            Err(TokenError::Json)
        );
    }
}
