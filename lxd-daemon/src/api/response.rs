//! Successful responses: sync (with optional ETag), sync with `Location` (201), and async.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;

/// What a handler answers on success.
#[derive(Debug)]
pub enum ApiResponse {
    /// 200 with metadata and, for writable objects, an ETag.
    Sync {
        metadata: Value,
        etag: Option<String>,
    },
    /// 201 Created with `Location` and null metadata.
    Created { location: String },
    /// 202 with the operation object.
    Async { operation: Value, url: String },
    /// A pre-built response (raw files, websocket upgrades).
    Raw(Response),
}

/// Handler result.
pub type ApiResult = Result<ApiResponse, ApiError>;

impl ApiResponse {
    /// A sync response carrying `value`.
    pub fn sync(value: impl Serialize) -> Self {
        Self::Sync {
            metadata: to_value(value),
            etag: None,
        }
    }

    /// A sync response with an ETag computed from `etag_of` as LXD does.
    pub fn sync_etag(value: impl Serialize, etag_of: impl Serialize) -> Self {
        Self::Sync {
            metadata: to_value(value),
            etag: Some(lxd_shared::etag::etag_hash(&etag_of)),
        }
    }

    /// A 202 answer carrying the operation `op` that does the work.
    pub fn operation(op: &crate::operations::Op) -> Self {
        Self::Async {
            operation: to_value(op.to_api()),
            url: op.url(),
        }
    }

    /// The `{}` metadata of LXD's `EmptySyncResponse`.
    pub fn empty() -> Self {
        Self::Sync {
            metadata: Value::Object(Default::default()),
            etag: None,
        }
    }
}

fn to_value(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Serialise an envelope as the body text.
pub fn json_body(body: &lxd_api::Response) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

fn json_response(status: StatusCode, body: &lxd_api::Response) -> Response {
    let mut resp = (status, json_body(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

impl IntoResponse for ApiResponse {
    fn into_response(self) -> Response {
        match self {
            Self::Sync { metadata, etag } => {
                let mut resp = json_response(StatusCode::OK, &lxd_api::Response::sync(metadata));
                if let Some(tag) =
                    etag.and_then(|t| HeaderValue::from_str(&format!("\"{t}\"")).ok())
                {
                    resp.headers_mut().insert(header::ETAG, tag);
                }
                resp
            }
            Self::Created { location } => {
                let mut resp =
                    json_response(StatusCode::CREATED, &lxd_api::Response::sync(Value::Null));
                if let Ok(loc) = HeaderValue::from_str(&location) {
                    resp.headers_mut().insert(header::LOCATION, loc);
                }
                resp
            }
            Self::Async { operation, url } => {
                let body = lxd_api::Response::asynchronous(url.clone(), operation);
                let mut resp = json_response(StatusCode::ACCEPTED, &body);
                if let Ok(loc) = HeaderValue::from_str(&url) {
                    resp.headers_mut().insert(header::LOCATION, loc);
                }
                resp
            }
            Self::Raw(resp) => resp,
        }
    }
}
