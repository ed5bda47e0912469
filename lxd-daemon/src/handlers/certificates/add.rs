//! `POST /1.0/certificates`, in LXD's order of checks: a trusted caller adds a certificate
//! (base64 DER in `certificate`) or asks for a join token (`token: true`); an untrusted HTTPS
//! caller adds its own TLS client certificate by giving a join token or the trust password as
//! `password`. Wrong passwords and unknown tokens are refused with 403.

use axum::body::Bytes;
use axum::extract::State;
use lxd_api::certificate::CertificatesPost;
use lxd_db::certificates::CertificateRow;

use super::{check_type, project_not_found_text, tokens};
use crate::api::caller::Caller;
use crate::api::extract::parse_json;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::server::addresses::{interface_addresses, listen_addresses};
use crate::state::AppState;
use crate::tls::x509;

fn not_authorized() -> ApiError {
    ApiError::Forbidden("not authorized".into())
}

/// Check an untrusted caller's password or token; with a token, the request becomes the one
/// the token was made for (the caller may not change anything).
fn authorise_untrusted(
    state: &AppState,
    caller: &Caller,
    req: CertificatesPost,
    trust_password: &str,
) -> Result<CertificatesPost, ApiError> {
    if req.token || req.password.is_empty() {
        return Err(not_authorized());
    }
    if tokens::is_cluster_join_token(&req.password) {
        return Err(ApiError::Forbidden(
            "No matching cluster join operation found".into(),
        ));
    }
    if let Some(token) = tokens::decode(&req.password) {
        let Some(made_for) = tokens::consume(state, &token.secret)? else {
            return Err(ApiError::Forbidden(
                "No matching certificate add operation found".into(),
            ));
        };
        let mut next = CertificatesPost::default();
        next.put.name = made_for.put.name;
        next.put.kind = made_for.put.kind;
        next.put.restricted = made_for.put.restricted;
        next.put.projects = made_for.put.projects;
        return Ok(next);
    }
    if trust_password.is_empty() || !crate::secrets::verify_password(trust_password, &req.password)
    {
        let ip = caller.0.remote.map(|a| a.to_string()).unwrap_or_default();
        tracing::warn!(url = "/1.0/certificates", ip = %ip, "Bad trust password");
        return Err(not_authorized());
    }
    Ok(req)
}

/// `POST /1.0/certificates`
pub async fn post_certificates(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    let mut req: CertificatesPost = parse_json(&body)?;
    let config = state.db.read(lxd_db::server_config::get_all)?;
    let https_address = config
        .get("core.https_address")
        .cloned()
        .unwrap_or_default();
    if req.token && !req.put.certificate.is_empty() {
        return Err(ApiError::bad_request(
            "Can't use certificate if token is requested",
        ));
    }
    if req.token {
        if req.put.kind != "client" {
            return Err(ApiError::bad_request(
                "Tokens can only be issued for client certificates",
            ));
        }
        if https_address.is_empty() {
            return Err(ApiError::bad_request(
                "Can't issue token when server isn't listening on network",
            ));
        }
    }
    if caller.is_trusted() && req.put.certificate.is_empty() && !req.token {
        return Err(ApiError::bad_request("Client is already trusted"));
    }
    if !caller.is_admin() {
        let password = config
            .get("core.trust_password")
            .cloned()
            .unwrap_or_default();
        req = authorise_untrusted(&state, &caller, req, &password)?;
    }
    check_type(&req.put.kind)?;

    let der = if !req.put.certificate.is_empty() {
        let der = x509::decode_base64(&req.put.certificate).map_err(ApiError::bad_request)?;
        x509::facts(&der)
            .map_err(|e| ApiError::bad_request(format!("Invalid certificate material: {e}")))?;
        der
    } else if req.token {
        return create_token(&state, req, &https_address);
    } else if caller.0.protocol == "tls" {
        match caller.peer() {
            Some(peer) => peer.der.clone(),
            None => return Err(ApiError::bad_request("No client certificate provided")),
        }
    } else {
        return Err(ApiError::bad_request("Can't use TLS data on non-TLS link"));
    };

    let facts = x509::facts(&der)
        .map_err(|e| ApiError::bad_request(format!("Invalid certificate material: {e}")))?;
    x509::validate(&facts, chrono::Utc::now().timestamp()).map_err(ApiError::bad_request)?;
    let fingerprint = x509::fingerprint(&der);
    let name = if !req.put.name.is_empty() {
        req.put.name.clone()
    } else if !facts.common_name.is_empty() {
        facts.common_name.clone()
    } else {
        caller
            .0
            .remote
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    };
    let row = CertificateRow {
        fingerprint: fingerprint.clone(),
        kind: req.put.kind.clone(),
        name,
        certificate: x509::pem_encode("CERTIFICATE", &der),
        restricted: req.put.restricted,
        projects: req.put.projects.clone().unwrap_or_default(),
    };
    state
        .db
        .write(move |c| {
            if lxd_db::certificates::get_by_prefix(c, &row.fingerprint).is_ok() {
                return Err(lxd_db::DbError::AlreadyExists("certificate"));
            }
            lxd_db::certificates::create(c, &row)
        })
        .await
        .map_err(project_not_found_text)?;
    state.trust.reload(&state.db);
    let location = format!("/1.0/certificates/{fingerprint}");
    state.events.lifecycle(
        "default",
        "certificate-created",
        location.clone(),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created { location })
}

fn create_token(state: &AppState, req: CertificatesPost, https_address: &str) -> ApiResult {
    let addresses = listen_addresses(https_address, &interface_addresses());
    let fingerprint = state
        .server_cert()
        .map_err(ApiError::internal)?
        .fingerprint
        .clone();
    let config = state.db.read(lxd_db::server_config::get_all)?;
    let expiry = config
        .get("core.remote_token_expiry")
        .cloned()
        .unwrap_or_default();
    let expires_at = crate::time::expiry_after(chrono::Utc::now(), &expiry)
        .map_err(ApiError::internal)?
        .map(crate::time::go_rfc3339);
    let op = tokens::create(state, req, addresses, fingerprint, expires_at);
    Ok(ApiResponse::operation(&op))
}
