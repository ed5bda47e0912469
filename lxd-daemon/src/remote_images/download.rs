//! Downloading one file with its sha256 checked, resuming instead of restarting: the bytes
//! received so far stay in a partial file named after the expected hash, and an interrupted
//! transfer (dropped connection, stalled body, daemon restart) continues with an HTTP `Range`
//! request from where it stopped. A file whose hash does not match is deleted, partial and
//! all, so a corrupted source never leaves anything behind.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use lxd_image::fingerprint::Fingerprinter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::http::{HttpsClient, IDLE_TIMEOUT};
use super::progress::Progress;
use super::RemoteError;

/// How many times one download resumes after an interruption before giving up.
const MAX_RESUMES: u32 = 8;

/// The directory (under `images/`) that keeps partial downloads across restarts.
pub const PARTIAL_DIR: &str = "partial";

/// One file to fetch.
pub struct FileDownload<'a> {
    pub url: String,
    /// Expected lower-case hex sha256.
    pub sha256: String,
    /// Where the bytes go; complete and verified when [`fetch_resumable`] returns.
    pub target: PathBuf,
    /// Progress label (`metadata`, `rootfs`), or none for LXD-protocol exports.
    pub label: Option<&'a str>,
}

/// The partial file for content with this sha256.
pub fn partial_path(images_dir: &Path, sha256: &str, suffix: &str) -> PathBuf {
    images_dir
        .join(PARTIAL_DIR)
        .join(format!("{sha256}{suffix}"))
}

/// How a single transfer attempt ended.
enum Attempt {
    /// The body was complete.
    Complete,
    /// The connection broke or stalled; the bytes so far are on disk.
    Interrupted(String),
    /// The server ignored or refused the range: start again from zero.
    Restart,
}

/// Fetch `download.url` into `download.target`, resuming from what is there; returns the size.
pub async fn fetch_resumable(
    client: &HttpsClient,
    download: &FileDownload<'_>,
    progress: &Progress,
) -> Result<u64, RemoteError> {
    fetch_resumable_from(client, download, progress, None).await
}

/// [`fetch_resumable`] whose first attempt uses `first`, a response the caller already has
/// to the request [`first_request_offset`] describes.
pub async fn fetch_resumable_from(
    client: &HttpsClient,
    download: &FileDownload<'_>,
    progress: &Progress,
    mut first: Option<hyper::Response<hyper::body::Incoming>>,
) -> Result<u64, RemoteError> {
    if let Some(dir) = download.target.parent() {
        create_private_dir(dir).await?;
    }
    let mut interruptions = 0;
    loop {
        let mut hash = Fingerprinter::new();
        let have = hash_existing(&download.target, &mut hash).await?;
        match attempt(client, download, have, hash.clone(), progress, first.take()).await? {
            (Attempt::Complete, hash) => {
                let size = hash.size();
                let got = hash.finish();
                if got != download.sha256 {
                    let _ = tokio::fs::remove_file(&download.target).await;
                    return Err(RemoteError::HashMismatch {
                        url: download.url.clone(),
                        got,
                        expected: download.sha256.clone(),
                    });
                }
                return Ok(size);
            }
            (Attempt::Restart, _) => {
                truncate(&download.target).await?;
                interruptions += 1;
            }
            (Attempt::Interrupted(why), _) => {
                interruptions += 1;
                tracing::info!(url = %download.url, reason = %why, "Image download interrupted, resuming");
                if interruptions > MAX_RESUMES {
                    return Err(RemoteError::Http(format!(
                        "Failed to download {}: {why}",
                        download.url
                    )));
                }
            }
        }
        if interruptions > MAX_RESUMES {
            return Err(RemoteError::Http(format!(
                "Failed to download {}: the server does not resume",
                download.url
            )));
        }
        tokio::time::sleep(Duration::from_millis(250 * u64::from(interruptions))).await;
    }
}

/// Create `dir` (mode 0700, like `images/`) if missing.
pub async fn create_private_dir(dir: &Path) -> Result<(), RemoteError> {
    use std::os::unix::fs::PermissionsExt;
    if tokio::fs::metadata(dir).await.is_err() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(RemoteError::io)?;
        tokio::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .await
            .map_err(RemoteError::io)?;
    }
    Ok(())
}

/// The offset a first request for `target` should ask from (the partial bytes on disk).
pub async fn first_request_offset(target: &Path) -> u64 {
    tokio::fs::metadata(target).await.map_or(0, |m| m.len())
}

/// Feed the bytes already in `path` to `hash`; returns how many there are.
async fn hash_existing(path: &Path, hash: &mut Fingerprinter) -> Result<u64, RemoteError> {
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(RemoteError::io(e)),
    };
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).await.map_err(RemoteError::io)?;
        if n == 0 {
            return Ok(hash.size());
        }
        hash.update(&buffer[..n]);
    }
}

async fn truncate(path: &Path) -> Result<(), RemoteError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(RemoteError::io(e)),
        _ => Ok(()),
    }
}

/// The start offset of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(headers: &http::HeaderMap) -> Option<u64> {
    let value = headers.get(http::header::CONTENT_RANGE)?.to_str().ok()?;
    let range = value.strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

/// One GET from `have` on, appending to the target and hashing.
async fn attempt(
    client: &HttpsClient,
    download: &FileDownload<'_>,
    have: u64,
    mut hash: Fingerprinter,
    progress: &Progress,
    first: Option<hyper::Response<hyper::body::Incoming>>,
) -> Result<(Attempt, Fingerprinter), RemoteError> {
    let fetched = match first {
        Some(response) => Ok(response),
        None => client.get(&download.url, Some(have)).await,
    };
    let response = match fetched {
        Ok(r) => r,
        // Connecting failed: worth another try only when we already have bytes to keep.
        Err(e) if have > 0 => return Ok((Attempt::Interrupted(e.to_string()), hash)),
        Err(e) => return Err(e),
    };
    let status = response.status();
    let mut offset = have;
    match status {
        http::StatusCode::PARTIAL_CONTENT
            if content_range_start(response.headers()) == Some(have) => {}
        http::StatusCode::OK if have == 0 => {}
        http::StatusCode::OK
        | http::StatusCode::PARTIAL_CONTENT
        | http::StatusCode::RANGE_NOT_SATISFIABLE
            if have > 0 =>
        {
            if status != http::StatusCode::OK {
                return Ok((Attempt::Restart, hash));
            }
            // The server sent the whole file again: start over with it.
            truncate(&download.target).await?;
            hash = Fingerprinter::new();
            offset = 0;
        }
        _ => {
            return Err(RemoteError::Http(format!(
                "Unable to fetch {}: {}",
                download.url,
                status_text(status)
            )))
        }
    }
    let length = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let total = length.map(|l| l + offset);
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&download.target)
        .await
        .map_err(RemoteError::io)?;
    let mut body = response.into_body();
    let started = Instant::now();
    let mut received: u64 = 0;
    let outcome = loop {
        let frame = match tokio::time::timeout(IDLE_TIMEOUT, body.frame()).await {
            Err(_) => break Attempt::Interrupted("the transfer stalled".into()),
            Ok(None) => break Attempt::Complete,
            Ok(Some(Err(e))) => break Attempt::Interrupted(e.to_string()),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        file.write_all(&data).await.map_err(RemoteError::io)?;
        hash.update(&data);
        received += data.len() as u64;
        progress.bytes(download.label, offset + received, total, received, started);
    };
    file.flush().await.map_err(RemoteError::io)?;
    file.sync_data().await.map_err(RemoteError::io)?;
    // A body shorter than announced is an interruption too.
    if matches!(outcome, Attempt::Complete) && total.is_some_and(|t| t > offset + received) {
        return Ok((
            Attempt::Interrupted("the connection closed early".into()),
            hash,
        ));
    }
    Ok((outcome, hash))
}

/// Go's `Response.Status` text (`404 Not Found`).
pub fn status_text(status: http::StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    )
}
