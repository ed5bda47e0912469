//! API errors and the one place they are mapped to HTTP status codes.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lxd_db::DbError;

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    BadRequest(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    PreconditionFailed(String),
    Internal(String),
    NotImplemented(String),
    Unavailable(String),
}

impl ApiError {
    /// 400 with a message.
    pub fn bad_request(msg: impl std::fmt::Display) -> Self {
        Self::BadRequest(msg.to_string())
    }

    /// 500 with a message.
    pub fn internal(msg: impl std::fmt::Display) -> Self {
        Self::Internal(msg.to_string())
    }

    /// 404 with a message.
    pub fn not_found(msg: impl std::fmt::Display) -> Self {
        Self::NotFound(msg.to_string())
    }

    /// LXD's plain "not implemented" error.
    pub fn not_implemented() -> Self {
        Self::NotImplemented("not implemented".into())
    }

    /// The HTTP status and message.
    pub fn parts(&self) -> (StatusCode, &str) {
        match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Self::Conflict(m) => (StatusCode::CONFLICT, m),
            Self::PreconditionFailed(m) => (StatusCode::PRECONDITION_FAILED, m),
            Self::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
            Self::NotImplemented(m) => (StatusCode::NOT_IMPLEMENTED, m),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.parts().1)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            DbError::AlreadyExists(_) => Self::Conflict(e.to_string()),
            DbError::Ambiguous(_) => Self::BadRequest(e.to_string()),
            other => {
                tracing::error!(error = ?other, "Database failure");
                Self::Internal(other.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, msg) = self.parts();
        let body = lxd_api::Response::error(status.as_u16(), msg);
        let mut resp = (status, super::response::json_body(&body)).into_response();
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            "X-Content-Type-Options",
            HeaderValue::from_static("nosniff"),
        );
        resp
    }
}
