//! Certificate and join-token helpers of `lxc config trust`: reading a PEM certificate file
//! as lxc's `ReadCert` does, the common name and validity dates the trust list shows, and
//! certificate add tokens (built from a token operation, printed as base64 JSON).

use anyhow::{anyhow, bail, Result};
use base64::Engine;
use lxd_api::certificate::CertificateAddToken;
use lxd_api::Operation;
use serde_json::Value;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Standard base64.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The DER of the first PEM block of `text` (Go's `pem.Decode`).
fn pem_first_block(text: &str) -> Option<Vec<u8>> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start..];
    let header_end = rest.find('\n')?;
    let body = &rest[header_end + 1..];
    let end = body.find("-----END ")?;
    let b64: String = body[..end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// lxc's `ReadCert`: the DER of the certificate in a PEM file.
pub fn read_cert_file(path: &str) -> Result<Vec<u8>> {
    let text = std::fs::read(path).map_err(|e| {
        let reason = e
            .raw_os_error()
            .map(go_errno_text)
            .unwrap_or_else(|| e.to_string());
        anyhow!("open {path}: {reason}")
    })?;
    let der = pem_first_block(&String::from_utf8_lossy(&text))
        .ok_or_else(|| anyhow!("Invalid certificate file"))?;
    X509Certificate::from_der(&der).map_err(|_| anyhow!("x509: malformed certificate"))?;
    Ok(der)
}

/// The lower-case text Go gives an errno.
fn go_errno_text(code: i32) -> String {
    let text = std::io::Error::from_raw_os_error(code).to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// What the trust list shows of a certificate.
pub struct CertSummary {
    pub common_name: String,
    /// `Jan 2, 2006 at 3:04pm (MST)`.
    pub issued: String,
    pub expires: String,
}

fn list_date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%b %-d, %Y at %-I:%M%P (UTC)").to_string())
        .unwrap_or_default()
}

impl CertSummary {
    /// Parse a stored PEM certificate (`Invalid certificate` when it has no PEM block).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let der = pem_first_block(pem).ok_or_else(|| anyhow!("Invalid certificate"))?;
        let (_, cert) =
            X509Certificate::from_der(&der).map_err(|_| anyhow!("x509: malformed certificate"))?;
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(Self {
            common_name,
            issued: list_date(cert.validity().not_before.timestamp()),
            expires: list_date(cert.validity().not_after.timestamp()),
        })
    }
}

/// Go's zero time, which a token without expiry carries.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// lxc's `ToCertificateAddToken`: the token a token operation stands for.
pub fn token_from_operation(op: &Operation) -> Result<CertificateAddToken> {
    let meta = op.metadata.clone().unwrap_or_default();
    let Some(request) = meta.get("request").and_then(Value::as_object) else {
        bail!("Operation request is not a map");
    };
    let client_name = request
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("Failed to get client name"))?;
    let text = |k: &str| {
        meta.get(k)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| anyhow!("Operation {k} is not a string"))
    };
    let addresses = meta
        .get("addresses")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("Operation addresses is not a list"))?
        .iter()
        .map(|a| a.as_str().map(String::from))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| anyhow!("Operation address is not a string"))?;
    Ok(CertificateAddToken {
        client_name: client_name.to_string(),
        fingerprint: text("fingerprint")?,
        addresses,
        secret: text("secret")?,
        expires_at: meta
            .get("expiresAt")
            .and_then(Value::as_str)
            .unwrap_or(ZERO_TIME)
            .to_string(),
    })
}

/// The token as lxc prints it: base64 of its JSON.
pub fn encode_token(token: &CertificateAddToken) -> String {
    base64_encode(serde_json::to_string(token).unwrap_or_default().as_bytes())
}

/// The EXPIRES AT cell: `2006/01/02 15:04 MST`, empty for a token that does not expire.
pub fn token_expiry_text(expires_at: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(expires_at) {
        Ok(t) if t.timestamp() > 0 => t
            .with_timezone(&chrono::Utc)
            .format("%Y/%m/%d %H:%M UTC")
            .to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_from_operation_encodes_as_lxc_prints_it() {
        let op: Operation = serde_json::from_value(serde_json::json!({
            "id": "x", "class": "token", "description": "Executing operation",
            "created_at": "2026-12-05T21:35:15Z", "updated_at": "2026-12-05T21:35:15Z",
            "status": "Running", "status_code": 103, "resources": null,
            "metadata": {
                "addresses": ["127.0.0.1:18443"],
                "fingerprint": "038aa77b62fda1c51690a869e2e0b61378b7ffee1443fec005c680aa85e7ccaa",
                "request": {"name": "foo", "type": "client", "restricted": false, "projects": [],
                            "certificate": "", "password": "", "token": true},
                "secret": "aabf47050786e8866c13756d1e44888fd7b23cb8777a3a1323d02869db30d32d"
            },
            "may_cancel": true, "err": "", "location": "none"
        }))
        .unwrap();
        let token = token_from_operation(&op).unwrap();
        // What the real `lxc config trust add --name foo` printed for this operation.
        assert_eq!(
            encode_token(&token),
            "eyJjbGllbnRfbmFtZSI6ImZvbyIsImZpbmdlcnByaW50IjoiMDM4YWE3N2I2MmZkYTFjNTE2OTBhODY5ZTJlMGI2MTM3OGI3ZmZlZTE0NDNmZWMwMDVjNjgwYWE4NWU3Y2NhYSIsImFkZHJlc3NlcyI6WyIxMjcuMC4wLjE6MTg0NDMiXSwic2VjcmV0IjoiYWFiZjQ3MDUwNzg2ZTg4NjZjMTM3NTZkMWU0NDg4OGZkN2IyM2NiODc3N2EzYTEzMjNkMDI4NjlkYjMwZDMyZCIsImV4cGlyZXNfYXQiOiIwMDAxLTAxLTAxVDAwOjAwOjAwWiJ9"
        );
        assert_eq!(token_expiry_text(&token.expires_at), "");
        assert_eq!(
            token_expiry_text("2026-12-06T10:04:00.5Z"),
            "2026/12/06 10:04 UTC"
        );
    }

    #[test]
    fn read_cert_file_errors_as_lxc() {
        let dir = std::env::temp_dir().join(format!("trust-cert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.crt");
        std::fs::write(&bad, "not a cert").unwrap();
        let err = read_cert_file(bad.to_str().unwrap()).unwrap_err();
        assert_eq!(err.to_string(), "Invalid certificate file");
        let missing = dir.join("missing.crt");
        let err = read_cert_file(missing.to_str().unwrap()).unwrap_err();
        assert!(
            err.to_string().ends_with(": no such file or directory"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
