//! The source's side of a push mode image copy (`POST /1.0/images/<fp>/export`): upload the
//! image's files to the target's `POST /1.0/images` as a caller holding the token the target
//! handed out (`X-LXD-fingerprint`, `X-LXD-secret`; raw for a unified image, multipart
//! `metadata` + `rootfs` for a split one, as LXD's client sends them), then wait for the
//! target's operation with the secret in its metadata.

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use http_body_util::StreamBody;
use hyper::body::Frame;
use tokio_util::io::ReaderStream;

use super::http::HttpsClient;
use super::RemoteError;
use crate::image_store;
use crate::paths::Paths;

/// The largest API reply read.
const MAX_REPLY: usize = 1 << 20;

/// Where to push: the target's URL and certificate, its token and project.
#[derive(Debug, Clone)]
pub struct PushTarget {
    pub url: String,
    pub certificate: String,
    pub secret: String,
    pub project: String,
}

type Chunks = BoxStream<'static, Result<Bytes, std::io::Error>>;

async fn file_stream(path: &std::path::Path) -> Result<(Chunks, u64), RemoteError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| RemoteError::Io(format!("Failed to open {}: {e}", path.display())))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| RemoteError::Io(e.to_string()))?
        .len();
    Ok((ReaderStream::new(file).boxed(), len))
}

fn bytes(text: String) -> Chunks {
    stream::once(async move { Ok(Bytes::from(text)) }).boxed()
}

/// A multipart body with the parts `metadata` and `rootfs`, as Go's `CreateFormFile` writes them.
async fn multipart(
    boundary: &str,
    parts: [(&str, String, &std::path::Path); 2],
) -> Result<Chunks, RemoteError> {
    let mut chunks: Vec<Chunks> = Vec::new();
    for (i, (name, filename, path)) in parts.into_iter().enumerate() {
        let lead = if i == 0 { "" } else { "\r\n" };
        chunks.push(bytes(format!(
            "{lead}--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )));
        chunks.push(file_stream(path).await?.0);
    }
    chunks.push(bytes(format!("\r\n--{boundary}--\r\n")));
    Ok(stream::iter(chunks).flatten().boxed())
}

fn envelope(
    url: &str,
    status: http::StatusCode,
    body: &[u8],
) -> Result<serde_json::Value, RemoteError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| RemoteError::Remote(format!("Invalid reply from {url} ({status}): {e}")))?;
    if value["type"] == "error" {
        let text = value["error"].as_str().unwrap_or("Unknown error");
        return Err(RemoteError::Remote(text.to_string()));
    }
    Ok(value)
}

/// Upload the image `fingerprint` to `target` and wait until the target has recorded it.
pub async fn push_image(
    paths: &Paths,
    fingerprint: &str,
    target: &PushTarget,
) -> Result<(), RemoteError> {
    let client = HttpsClient::new(super::tls::client_config(paths, &target.certificate)?);
    let base = target.url.trim_end_matches('/');
    let project = match target.project.as_str() {
        "" | "default" => String::new(),
        p => format!("?project={}", super::lxd_protocol::encode(p)),
    };
    let url = format!("{base}/1.0/images{project}");
    let main = image_store::image_file(paths, fingerprint);
    let rootfs = image_store::rootfs_file(paths, fingerprint);
    let mut headers = vec![
        ("X-LXD-fingerprint", fingerprint.to_string()),
        ("X-LXD-secret", target.secret.clone()),
        ("X-LXD-filename", fingerprint.to_string()),
    ];
    let body = if rootfs.exists() {
        let boundary = uuid::Uuid::new_v4().simple().to_string();
        headers.push((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ));
        let parts = [
            ("metadata", fingerprint.to_string(), main.as_path()),
            ("rootfs", format!("{fingerprint}.rootfs"), rootfs.as_path()),
        ];
        multipart(&boundary, parts).await?
    } else {
        let (chunks, len) = file_stream(&main).await?;
        headers.push(("Content-Type", "application/octet-stream".to_string()));
        headers.push(("Content-Length", len.to_string()));
        chunks
    };
    let body = StreamBody::new(body.map(|chunk| chunk.map(Frame::data)));
    let (status, reply) = client.post(&url, &headers, body).await?;
    let op = envelope(&url, status, &reply)?;
    let id = op["metadata"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let secret = op["metadata"]["metadata"]["secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if id.is_empty() {
        return Err(RemoteError::Remote(format!(
            "No operation in the reply from {url}"
        )));
    }
    let wait = format!(
        "{base}/1.0/operations/{id}/wait?secret={}&timeout=-1",
        super::lxd_protocol::encode(&secret)
    );
    let (status, reply) = client.get_bytes(&wait, MAX_REPLY).await?;
    let done = envelope(&wait, status, &reply)?;
    let meta = &done["metadata"];
    if meta["status_code"] != 200 {
        return Err(RemoteError::Remote(format!(
            "Failed operation {:?}: {:?}",
            meta["status"].as_str().unwrap_or_default(),
            meta["err"].as_str().unwrap_or_default()
        )));
    }
    Ok(())
}
