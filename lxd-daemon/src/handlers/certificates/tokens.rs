//! Join tokens (`lxc config trust add` without a certificate): a `token` operation holding
//! the request, a random secret, the server certificate's fingerprint and the addresses the
//! server listens on; the client sends the token (base64 JSON of `CertificateAddToken`) as
//! its password, which consumes the operation. Deleting the operation revokes the token.

use std::sync::Arc;

use base64::Engine;
use lxd_api::certificate::{CertificateAddToken, CertificatesPost};
use lxd_api::{OperationClass, StatusCode};
use rand::RngCore;
use serde_json::{json, Map, Value};

use crate::api::ApiError;
use crate::operations::{Op, OpSpec};
use crate::state::AppState;

/// What the operations list calls a token operation in 5.0.2.
const DESCRIPTION: &str = "Executing operation";

/// A random 32-byte secret in hex (LXD's `RandomCryptoString`).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Start a token operation for `req` (already checked: client type, listening server).
pub fn create(
    state: &AppState,
    mut req: CertificatesPost,
    addresses: Vec<String>,
    fingerprint: String,
    expires_at: Option<String>,
) -> Arc<Op> {
    if req.put.projects.is_none() {
        req.put.projects = Some(Vec::new());
    }
    // Keys in the order Go's map encoding gives them (sorted).
    let mut meta = Map::new();
    meta.insert("addresses".into(), json!(addresses));
    if let Some(t) = expires_at {
        meta.insert("expiresAt".into(), Value::String(t));
    }
    meta.insert("fingerprint".into(), Value::String(fingerprint));
    meta.insert("request".into(), request_value(&req));
    meta.insert("secret".into(), Value::String(random_secret()));
    let spec = OpSpec {
        class: OperationClass::Token,
        description: DESCRIPTION.to_string(),
        project: "default".to_string(),
        resources: None,
        metadata: Some(meta),
        may_cancel: true,
        secrets: Default::default(),
    };
    state
        .operations
        .start(spec, |_op| std::future::pending::<Result<(), String>>())
}

/// The request as Go marshals `api.CertificatesPost` (all fields, in struct order).
fn request_value(req: &CertificatesPost) -> Value {
    json!({
        "name": req.put.name,
        "type": req.put.kind,
        "restricted": req.put.restricted,
        "projects": req.put.projects,
        "certificate": req.put.certificate,
        "password": req.password,
        "token": req.token,
    })
}

/// LXD's `CertificateTokenDecode`: base64 JSON with a name, addresses, secret and fingerprint.
pub fn decode(text: &str) -> Option<CertificateAddToken> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    let token: Value = serde_json::from_slice(&bytes).ok()?;
    let field = |k: &str| {
        token
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let addresses: Vec<String> = token
        .get("addresses")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let decoded = CertificateAddToken {
        client_name: field("client_name"),
        fingerprint: field("fingerprint"),
        addresses,
        secret: field("secret"),
        expires_at: field("expires_at"),
    };
    let complete = !decoded.client_name.is_empty()
        && !decoded.addresses.is_empty()
        && !decoded.secret.is_empty()
        && !decoded.fingerprint.is_empty();
    complete.then_some(decoded)
}

/// LXD's `JoinTokenDecode` (cluster join tokens), only to refuse them as LXD does when no
/// cluster join operation exists.
pub fn is_cluster_join_token(text: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) else {
        return false;
    };
    let Ok(token) = serde_json::from_slice::<Value>(&bytes) else {
        return false;
    };
    let has = |k: &str| {
        token
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let addresses = token
        .get("addresses")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    has("server_name") && addresses && has("secret") && has("fingerprint")
}

/// Find the running token operation with `secret`, consume it (tokens are single use) and
/// return the request it was made for. `Ok(None)` when no operation matches.
pub fn consume(state: &AppState, secret: &str) -> Result<Option<CertificatesPost>, ApiError> {
    // Image tokens (`POST /1.0/images/<fp>/secret`, push copies) name their image.
    let found = state.operations.find_token("default", secret, |op, api| {
        op.status() == StatusCode::Running && api.resources.is_none()
    });
    let Some((op, meta)) = found else {
        return Ok(None);
    };
    if let Err(e) = op.cancel() {
        return Err(ApiError::internal(format!(
            "Failed to cancel operation {:?}: {e}",
            op.id
        )));
    }
    if let Some(expiry) = meta.get("expiresAt").and_then(Value::as_str) {
        let expired = chrono::DateTime::parse_from_rfc3339(expiry)
            .map(|t| chrono::Utc::now() > t)
            .unwrap_or(false);
        if expired {
            return Err(ApiError::Forbidden("Token has expired".into()));
        }
    }
    let request = meta.get("request").cloned().unwrap_or(Value::Null);
    serde_json::from_value(request)
        .map(Some)
        .map_err(|_| ApiError::internal("Bad certificate add operation data"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reads_lxd_tokens_and_refuses_incomplete_ones() {
        // A token printed by the real `lxc config trust add` on LXD 5.0.2.
        let real = "eyJjbGllbnRfbmFtZSI6ImZvbyIsImZpbmdlcnByaW50IjoiMDM4YWE3N2I2MmZkYTFjNTE2OTBhODY5ZTJlMGI2MTM3OGI3ZmZlZTE0NDNmZWMwMDVjNjgwYWE4NWU3Y2NhYSIsImFkZHJlc3NlcyI6WyIxMjcuMC4wLjE6MTg0NDMiXSwic2VjcmV0IjoiYWFiZjQ3MDUwNzg2ZTg4NjZjMTM3NTZkMWU0NDg4OGZkN2IyM2NiODc3N2EzYTEzMjNkMDI4NjlkYjMwZDMyZCIsImV4cGlyZXNfYXQiOiIwMDAxLTAxLTAxVDAwOjAwOjAwWiJ9";
        let t = decode(real).unwrap();
        assert_eq!(t.client_name, "foo");
        assert_eq!(t.addresses, ["127.0.0.1:18443"]);
        assert_eq!(t.expires_at, "0001-01-01T00:00:00Z");
        assert!(!is_cluster_join_token(real));
        assert!(decode("sekret").is_none());
        let no_secret = base64::engine::general_purpose::STANDARD
            .encode(r#"{"client_name":"a","fingerprint":"f","addresses":["x"]}"#);
        assert!(decode(&no_secret).is_none());
    }
}
