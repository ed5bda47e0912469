//! `/1.0/certificates`: the trust store. Listing, showing, editing (PUT/PATCH with ETags) and
//! removing entries live here; adding one (by a trusted caller, or by an untrusted one with
//! the trust password or a join token) is in [`add`], join tokens in [`tokens`].

pub mod add;
pub mod tokens;

use axum::body::Bytes;
use axum::extract::{Path, State};
use lxd_api::certificate::{Certificate, CertificatePut};
use lxd_db::certificates::CertificateRow;

use crate::api::caller::Caller;
use crate::api::extract::{parse_json, IfMatch, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

/// The certificate types LXD knows (`CertificateAPITypeToDBType`).
pub const TYPES: &[&str] = &["client", "server", "metrics"];

/// Check an API certificate type.
pub fn check_type(kind: &str) -> Result<(), ApiError> {
    if TYPES.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::bad_request("Invalid certificate type"))
    }
}

/// The API object of a stored certificate (projects always a list, as LXD's `ToAPI`).
pub fn to_api(row: &CertificateRow) -> Certificate {
    Certificate {
        put: CertificatePut {
            name: row.name.clone(),
            kind: row.kind.clone(),
            restricted: row.restricted,
            projects: Some(row.projects.clone()),
            certificate: row.certificate.clone(),
        },
        fingerprint: row.fingerprint.clone(),
    }
}

fn url(fingerprint: &str) -> String {
    format!("/1.0/certificates/{fingerprint}")
}

fn not_found_text(e: lxd_db::DbError) -> ApiError {
    match e {
        lxd_db::DbError::NotFound(_) => ApiError::not_found("Certificate not found"),
        other => other.into(),
    }
}

fn find(state: &AppState, prefix: &str) -> Result<CertificateRow, ApiError> {
    state
        .db
        .read(|c| lxd_db::certificates::get_by_prefix(c, prefix))
        .map_err(not_found_text)
}

/// `GET /1.0/certificates` (URLs, or objects with recursion).
pub async fn get_certificates(State(state): State<AppState>, params: Params) -> ApiResult {
    let rows = state.db.read(lxd_db::certificates::list)?;
    if params.recursion() > 0 {
        let certs: Vec<Certificate> = rows.iter().map(to_api).collect();
        return Ok(ApiResponse::sync(certs));
    }
    let urls: Vec<String> = rows.iter().map(|r| url(&r.fingerprint)).collect();
    Ok(ApiResponse::sync(urls))
}

/// `GET /1.0/certificates/{fingerprint}` (a unique prefix is enough).
pub async fn get_certificate(
    State(state): State<AppState>,
    Path(fingerprint): Path<String>,
) -> ApiResult {
    let cert = to_api(&find(&state, &fingerprint)?);
    Ok(ApiResponse::sync_etag(&cert, &cert))
}

/// `PUT /1.0/certificates/{fingerprint}`: replace name, type, restriction, projects and
/// (when given) the certificate itself.
pub async fn put_certificate(
    State(state): State<AppState>,
    Path(fingerprint): Path<String>,
    if_match: IfMatch,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    let current = find(&state, &fingerprint)?;
    if_match.check(&to_api(&current))?;
    let req: CertificatePut = parse_json(&body)?;
    update(&state, &caller, current, req).await
}

/// `PATCH /1.0/certificates/{fingerprint}`: the fields the body names change.
pub async fn patch_certificate(
    State(state): State<AppState>,
    Path(fingerprint): Path<String>,
    if_match: IfMatch,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    let current = find(&state, &fingerprint)?;
    let api = to_api(&current);
    if_match.check(&api)?;
    let changes: serde_json::Map<String, serde_json::Value> = parse_json(&body)?;
    let mut merged = serde_json::to_value(&api.put).map_err(ApiError::internal)?;
    if let Some(obj) = merged.as_object_mut() {
        for (k, v) in changes {
            obj.insert(k, v);
        }
    }
    let req: CertificatePut =
        serde_json::from_value(merged).map_err(|e| ApiError::bad_request(format!("json: {e}")))?;
    update(&state, &caller, current, req).await
}

/// LXD's `doCertificateUpdate`.
async fn update(
    state: &AppState,
    caller: &Caller,
    current: CertificateRow,
    req: CertificatePut,
) -> ApiResult {
    check_type(&req.kind)?;
    let projects = req.projects.clone().unwrap_or_default();
    let mut next = CertificateRow {
        fingerprint: current.fingerprint.clone(),
        kind: req.kind.clone(),
        name: req.name.clone(),
        certificate: current.certificate.clone(),
        restricted: req.restricted,
        projects: projects.clone(),
    };
    let changes_cert = !req.certificate.is_empty() && req.certificate != current.certificate;
    if !caller.is_admin() {
        // A restricted client may only replace its own certificate.
        if current.restricted != req.restricted
            || current.name != req.name
            || current.projects != projects
        {
            return Err(ApiError::Forbidden(
                "Only the certificate can be changed".into(),
            ));
        }
        next.projects = current.projects.clone();
        if changes_cert
            && caller.peer().map(|p| p.fingerprint.as_str()) != Some(current.fingerprint.as_str())
        {
            return Err(ApiError::Forbidden("Certificate cannot be changed".into()));
        }
    }
    if changes_cert {
        let der = crate::tls::x509::pem_certificate_der(&req.certificate).ok_or_else(|| {
            ApiError::bad_request("Invalid certificate material: x509: malformed certificate")
        })?;
        let facts = crate::tls::x509::facts(&der)
            .map_err(|e| ApiError::bad_request(format!("Invalid certificate material: {e}")))?;
        crate::tls::x509::validate(&facts, chrono::Utc::now().timestamp())
            .map_err(ApiError::bad_request)?;
        next.certificate = crate::tls::x509::pem_encode("CERTIFICATE", &der);
        next.fingerprint = crate::tls::x509::fingerprint(&der);
    }
    let old = current.fingerprint.clone();
    state
        .db
        .write(move |c| lxd_db::certificates::update(c, &old, &next))
        .await
        .map_err(project_not_found_text)?;
    state.trust.reload(&state.db);
    state.events.lifecycle(
        "default",
        "certificate-updated",
        url(&current.fingerprint),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

/// A missing project named by a certificate is reported as LXD does.
pub fn project_not_found_text(e: lxd_db::DbError) -> ApiError {
    match e {
        lxd_db::DbError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
        lxd_db::DbError::AlreadyExists(_) => {
            ApiError::Conflict("Certificate already in trust store".into())
        }
        other => other.into(),
    }
}

/// `DELETE /1.0/certificates/{fingerprint}`.
pub async fn delete_certificate(
    State(state): State<AppState>,
    Path(fingerprint): Path<String>,
    caller: Caller,
) -> ApiResult {
    let current = find(&state, &fingerprint)?;
    let fp = current.fingerprint.clone();
    state
        .db
        .write(move |c| lxd_db::certificates::delete(c, &fp))
        .await
        .map_err(not_found_text)?;
    state.trust.reload(&state.db);
    state.events.lifecycle(
        "default",
        "certificate-deleted",
        url(&fingerprint),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_api_etag_matches_lxd_for_the_same_certificate() {
        // `GET /1.0/certificates/a785...` on the real LXD 5.0.2 answered this object with
        // `ETag: "6dcf5f19..."`.
        let row = CertificateRow {
            fingerprint: "a785bd8509ce3fe96940d92b74401f26682f02c1750b06e3d4e2f18704939da4".into(),
            kind: "client".into(),
            name: "foo".into(),
            certificate: "-----BEGIN CERTIFICATE-----\nMIIB0TCCAVegAwIBAgIRAKC/X6lpzCnG0upJfvmGNvIwCgYIKoZIzj0EAwMwMDEc\nMBoGA1UEChMTbGludXhjb250YWluZXJzLm9yZzEQMA4GA1UEAwwHcm9vdEB2bTAe\nFw0yNjEyMDUyMTM1MjBaFw0zNjEyMDIyMTM1MjBaMDAxHDAaBgNVBAoTE2xpbnV4\nY29udGFpbmVycy5vcmcxEDAOBgNVBAMMB3Jvb3RAdm0wdjAQBgcqhkjOPQIBBgUr\ngQQAIgNiAAQRQcNLIsvCGFsoyNzfdNgiyENh3L5riTN/orgIjZekpTqJmyPXxoAF\nBUpl1gQyKMR/fu975vwgOtMSxvaeVt3znkqgmUUzF8/n2izg7ZBeTzEuCMjVi41j\nXkPoZn2pgOujNTAzMA4GA1UdDwEB/wQEAwIFoDATBgNVHSUEDDAKBggrBgEFBQcD\nAjAMBgNVHRMBAf8EAjAAMAoGCCqGSM49BAMDA2gAMGUCMQCQYsLVzYoA8UjV/j5a\ngDDzxDBzICtlKEVwvIjPwTGKcwNYPCd8m/ItLhNUBtF0logCMDzByaYpMPGjmeqX\nIZQDoYuKTvPMM4YwafSU8mTlNAcm0Mq4LS1Mr3ocRz9RADZFOQ==\n-----END CERTIFICATE-----\n".into(),
            restricted: false,
            projects: Vec::new(),
        };
        assert_eq!(
            lxd_shared::etag::etag_hash(&to_api(&row)),
            "6dcf5f1909d2cd555d729df508a5132cc060c6b25d83af094df2e17953a2c55d"
        );
    }
}
