//! Another LXD as image server (`client/lxd_images.go`, public access): aliases and images
//! through its REST API (`?secret=` for a private image), files through
//! `/1.0/images/<fp>/export`, unified (one file, resumable with `Range`) or split (multipart
//! `metadata` + `rootfs`).

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use http_body_util::BodyExt;
use lxd_api::image::{Image, ImageAliasesEntry};
use lxd_image::fingerprint::Fingerprinter;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;

use super::download::{
    fetch_resumable_from, first_request_offset, partial_path, status_text, FileDownload,
};
use super::http::HttpsClient;
use super::progress::Progress;
use super::RemoteError;
use crate::paths::Paths;

/// The largest API reply read.
const MAX_REPLY: usize = 16 << 20;

/// An LXD server used as image source.
pub struct LxdServer {
    base: String,
    project: String,
    client: HttpsClient,
}

/// Where a downloaded export landed.
pub struct Exported {
    pub meta: PathBuf,
    pub rootfs: Option<PathBuf>,
    pub fingerprint: String,
}

impl LxdServer {
    /// The server at `url`, trusting the system roots and `certificate` (its PEM).
    pub fn new(
        paths: &Paths,
        url: &str,
        certificate: &str,
        project: &str,
    ) -> Result<Self, RemoteError> {
        Ok(Self {
            base: url.trim_end_matches('/').to_string(),
            project: project.to_string(),
            client: HttpsClient::new(super::tls::client_config(paths, certificate)?),
        })
    }

    /// `/1.0<path>` with the project and `extra` query parameters.
    fn url(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut query: Vec<String> = Vec::new();
        if !self.project.is_empty() && self.project != "default" {
            query.push(format!("project={}", encode(&self.project)));
        }
        for (k, v) in extra {
            if !v.is_empty() {
                query.push(format!("{k}={}", encode(v)));
            }
        }
        let mut url = format!("{}/1.0{path}", self.base);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }

    async fn query<T: DeserializeOwned>(&self, url: &str) -> Result<T, RemoteError> {
        let (_, body) = self.client.get_bytes(url, MAX_REPLY).await?;
        let envelope = parse_envelope(url, &body)?;
        serde_json::from_value(envelope["metadata"].clone())
            .map_err(|e| RemoteError::Remote(format!("Invalid reply from {url}: {e}")))
    }

    /// `GET /1.0/images/aliases/<name>`; `kind` (when set) must match the alias's type.
    pub async fn alias(&self, kind: &str, name: &str) -> Result<ImageAliasesEntry, RemoteError> {
        let entry: ImageAliasesEntry = self
            .query(&self.url(&format!("/images/aliases/{}", encode(name)), &[]))
            .await?;
        if !kind.is_empty() && entry.kind != kind {
            return Err(RemoteError::Remote(
                "Alias doesn't exist for the specified type".into(),
            ));
        }
        Ok(entry)
    }

    /// `GET /1.0/images/<fingerprint>[?secret=]`.
    pub async fn image(&self, fingerprint: &str, secret: &str) -> Result<Image, RemoteError> {
        self.query(&self.url(
            &format!("/images/{}", encode(fingerprint)),
            &[("secret", secret)],
        ))
        .await
    }

    /// Download `/1.0/images/<fp>/export` into partial files under `images_dir`, checking
    /// sha256 of everything against the fingerprint as LXD does.
    pub async fn export(
        &self,
        images_dir: &Path,
        fingerprint: &str,
        secret: &str,
        progress: &Progress,
    ) -> Result<Exported, RemoteError> {
        let url = self.url(
            &format!("/images/{}/export", encode(fingerprint)),
            &[("secret", secret)],
        );
        let unified = partial_path(images_dir, fingerprint, ".export");
        if let Some(dir) = unified.parent() {
            super::download::create_private_dir(dir).await?;
        }
        let mut have = first_request_offset(&unified).await;
        let mut response = self.client.get(&url, Some(have)).await?;
        if have > 0 && response.status() == http::StatusCode::RANGE_NOT_SATISFIABLE {
            // The partial file is not a prefix of this export: start again.
            let _ = tokio::fs::remove_file(&unified).await;
            have = 0;
            response = self.client.get(&url, None).await?;
        }
        let _ = have;
        let status = response.status();
        if !(status.is_success()) {
            let body = response.into_body().collect().await.map(|b| b.to_bytes());
            let text = body
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or_else(|| format!("Unable to fetch {url}: {}", status_text(status)));
            return Err(RemoteError::Remote(text));
        }
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        if let Ok(boundary) = multer::parse_boundary(&content_type) {
            let _ = tokio::fs::remove_file(&unified).await;
            return self
                .split_export(images_dir, fingerprint, response, &boundary, progress)
                .await;
        }
        let download = FileDownload {
            url,
            sha256: fingerprint.to_string(),
            target: unified.clone(),
            label: None,
        };
        fetch_resumable_from(&self.client, &download, progress, Some(response))
            .await
            .map_err(|e| match e {
                RemoteError::HashMismatch { got, expected, .. } => {
                    RemoteError::FingerprintMismatch { got, expected }
                }
                other => other,
            })?;
        Ok(Exported {
            meta: unified,
            rootfs: None,
            fingerprint: fingerprint.to_string(),
        })
    }

    /// A split image: the `metadata` part, then `rootfs` (or `rootfs.img`), hashed together.
    async fn split_export(
        &self,
        images_dir: &Path,
        fingerprint: &str,
        response: hyper::Response<hyper::body::Incoming>,
        boundary: &str,
        progress: &Progress,
    ) -> Result<Exported, RemoteError> {
        let total = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let stream = response.into_body().into_data_stream();
        let mut form = multer::Multipart::new(stream, boundary.to_string());
        let meta = partial_path(images_dir, fingerprint, ".meta");
        let rootfs = partial_path(images_dir, fingerprint, ".rootfs");
        let cleanup = || {
            let _ = std::fs::remove_file(&meta);
            let _ = std::fs::remove_file(&rootfs);
        };
        let mut hash = Fingerprinter::new();
        let started = std::time::Instant::now();
        let invalid = || RemoteError::Remote("Invalid multipart image".into());
        for (index, expected) in [&["metadata"][..], &["rootfs", "rootfs.img"][..]]
            .iter()
            .enumerate()
        {
            let mut field = match form.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => {
                    cleanup();
                    return Err(invalid());
                }
                Err(e) => {
                    cleanup();
                    return Err(RemoteError::Http(e.to_string()));
                }
            };
            if !expected.contains(&field.name().unwrap_or_default()) {
                cleanup();
                return Err(invalid());
            }
            let target = if index == 0 { &meta } else { &rootfs };
            let mut file = tokio::fs::File::create(target)
                .await
                .map_err(RemoteError::io)?;
            while let Some(chunk) = field.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        cleanup();
                        return Err(RemoteError::Http(e.to_string()));
                    }
                };
                file.write_all(&chunk).await.map_err(RemoteError::io)?;
                hash.update(&chunk);
                progress.bytes(None, hash.size(), total, hash.size(), started);
            }
            file.sync_all().await.map_err(RemoteError::io)?;
        }
        let got = hash.finish();
        if !got.starts_with(fingerprint) {
            cleanup();
            return Err(RemoteError::FingerprintMismatch {
                got,
                expected: fingerprint.to_string(),
            });
        }
        Ok(Exported {
            meta,
            rootfs: Some(rootfs),
            fingerprint: got,
        })
    }
}

/// An LXD API reply from `url`: the envelope, or the error it carries.
pub(crate) fn parse_envelope(url: &str, body: &[u8]) -> Result<serde_json::Value, RemoteError> {
    let envelope: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| RemoteError::Remote(format!("Invalid reply from {url}: {e}")))?;
    if envelope["type"] == "error" {
        let text = envelope["error"].as_str().unwrap_or("Unknown error");
        return Err(RemoteError::Remote(text.to_string()));
    }
    Ok(envelope)
}

/// Percent-encode a path segment or query value.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
