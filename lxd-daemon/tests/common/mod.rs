//! Helpers for the API tier: a daemon state over a temporary `LXD_DIR`, driven through the
//! router without a socket.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lxd_daemon::events::EventBus;
use lxd_daemon::facts::HostFacts;
use lxd_daemon::paths::Paths;
use lxd_daemon::state::{AppState, Daemon};
use serde_json::Value;
use tower::ServiceExt;

/// A state over a fresh temporary directory (kept alive by the returned guard).
pub fn state() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    paths.create().unwrap();
    let db = lxd_db::Database::open(&paths.database()).unwrap();
    (
        dir,
        Daemon::new(paths, db, HostFacts::default(), EventBus::default()),
    )
}

/// A response: status, headers and the parsed envelope (or raw text).
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn metadata(&self) -> Value {
        self.json()["metadata"].clone()
    }

    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Send one request through the router.
pub async fn call(state: &AppState, method: &str, uri: &str, body: Option<&str>) -> Reply {
    call_with(state, method, uri, body, &[]).await
}

/// Send one request with extra headers.
pub async fn call_with(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let body = body.unwrap_or("").as_bytes().to_vec();
    call_bytes(state, method, uri, body, headers).await
}

/// Send a request with a binary body.
pub async fn call_bytes(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Body::from(body)).unwrap();
    let resp = lxd_daemon::api::router::app(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Reply {
        status,
        headers,
        text,
        bytes,
    }
}
