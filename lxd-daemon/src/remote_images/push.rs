//! The source's side of a push mode image copy (`POST /1.0/images/<fp>/export`): upload the
//! image's files to the target's `POST /1.0/images` as a caller holding the token the target
//! handed out (`X-LXD-fingerprint`, `X-LXD-secret`; raw for a unified image, multipart
//! `metadata` + `rootfs` for a split one, as LXD's client sends them), then wait for the
//! target's operation with the secret in its metadata.

use futures_util::stream::StreamExt;
use http_body_util::StreamBody;
use hyper::body::Frame;
use tokio_util::io::ReaderStream;

use super::http::HttpsClient;
use super::lxd_protocol::parse_envelope;
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

async fn file_stream(
    path: &std::path::Path,
) -> Result<(image_store::ByteStream, u64), RemoteError> {
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
            ("metadata", fingerprint.to_string(), main),
            ("rootfs", format!("{fingerprint}.rootfs"), rootfs),
        ];
        image_store::multipart_stream(&boundary, parts)
            .await
            .map_err(|e| RemoteError::Io(format!("Failed to open the image files: {e}")))?
    } else {
        let (chunks, len) = file_stream(&main).await?;
        headers.push(("Content-Type", "application/octet-stream".to_string()));
        headers.push(("Content-Length", len.to_string()));
        chunks
    };
    let body = StreamBody::new(body.map(|chunk| chunk.map(Frame::data)));
    let (_, reply) = client.post(&url, &headers, body).await?;
    let op = parse_envelope(&url, &reply)?;
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
    let (_, reply) = client.get_bytes(&wait, MAX_REPLY).await?;
    let done = parse_envelope(&wait, &reply)?;
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
