//! A minimal HTTP client over the daemon's own socket, for the daemon's sub-commands (the
//! daemon does not depend on `lxd-client`).

use std::path::Path;

use anyhow::{anyhow, Context};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// One request; returns the envelope's metadata, or its error as an `Err`.
pub async fn request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .with_context(|| format!("Failed to connect to the daemon at {}", socket.display()))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = hyper::Request::builder()
        .method(method)
        .uri(format!("http://unix.socket{path}"))
        .header("Host", "unix.socket")
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(payload)))?;
    let resp = sender.send_request(req).await?;
    let bytes = resp.into_body().collect().await?.to_bytes();
    let envelope: lxd_api::Response =
        serde_json::from_slice(&bytes).context("Bad response from the daemon")?;
    if envelope.kind == lxd_api::ResponseType::Error {
        return Err(anyhow!(envelope.error));
    }
    Ok(envelope.metadata)
}

/// The daemon's socket from `LXD_DIR`.
pub fn socket_path() -> std::path::PathBuf {
    crate::paths::Paths::from_env().socket()
}

/// Run `fut` on a small current-thread runtime.
pub fn block_on<F: std::future::Future>(fut: F) -> anyhow::Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(fut))
}
