//! A simplestreams image server as the daemon reads it: `streams/v1/index.json` and the
//! products files it lists, cached in `<cache>/<sha256 of the URL>/` for an hour and served
//! from that cache when the server cannot be reached (LXD's `cachedDownload`).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use lxd_simplestreams::{Catalog, DownloadFile};
use sha2::{Digest, Sha256};

use super::download::status_text;
use super::http::{join, HttpsClient};
use super::RemoteError;
use crate::paths::Paths;

/// How long cached index and products files count as fresh.
const CACHE_EXPIRY: Duration = Duration::from_secs(3600);
/// The largest index or products document read (cloud-images' are a few MB).
const MAX_DOCUMENT: usize = 256 << 20;

/// One simplestreams server.
pub struct SimplestreamsServer {
    url: String,
    client: HttpsClient,
    cache_dir: PathBuf,
}

impl SimplestreamsServer {
    /// The server at `url`, trusting the system roots and `certificate` (PEM, may be empty).
    pub fn new(paths: &Paths, url: &str, certificate: &str) -> Result<Self, RemoteError> {
        let url = url.trim_end_matches('/').to_string();
        let digest = hex::encode(Sha256::digest(url.as_bytes()));
        Ok(Self {
            client: HttpsClient::new(super::tls::client_config(paths, certificate)?),
            cache_dir: paths.cache.join(digest),
            url,
        })
    }

    /// The server's URL without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The client (for the image files).
    pub fn client(&self) -> &HttpsClient {
        &self.client
    }

    /// The URL of a file listed in the products.
    pub fn file_url(&self, file: &DownloadFile) -> String {
        join(&self.url, &file.path)
    }

    /// Read the index and every image products file into a catalog; `fresh` skips the cached
    /// copies unless the server fails (an explicit refresh).
    pub async fn catalog(&self, fresh: bool) -> Result<Catalog, RemoteError> {
        let index_path = "streams/v1/index.json";
        let body = self
            .cached_get(index_path, fresh)
            .await
            .map_err(|e| RemoteError::Remote(format!("Failed parsing stream: {e}")))?;
        let stream = lxd_simplestreams::parse_index(index_path, &body)
            .map_err(|e| RemoteError::Remote(format!("Failed parsing stream: {e}")))?;
        let mut products = Vec::new();
        for path in stream.image_paths() {
            let body = self
                .cached_get(path, fresh)
                .await
                .map_err(|e| RemoteError::Remote(format!("Failed parsing products: {e}")))?;
            products.push(
                lxd_simplestreams::parse_products(path, &body)
                    .map_err(|e| RemoteError::Remote(format!("Failed parsing products: {e}")))?,
            );
        }
        let host = lxd_simplestreams::arch::canonical_name(std::env::consts::ARCH)
            .unwrap_or(std::env::consts::ARCH);
        Ok(Catalog::build(&self.url, host, &products))
    }

    /// `path` from the cache when fresh, else from the server (falling back to a stale
    /// cached copy when the server fails).
    async fn cached_get(&self, path: &str, fresh: bool) -> Result<Bytes, RemoteError> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let cached = self.cache_dir.join(name);
        let stale = match tokio::fs::metadata(&cached).await {
            Ok(meta) => {
                let age = meta.modified().ok().and_then(|m| m.elapsed().ok());
                let body = tokio::fs::read(&cached).await.ok().map(Bytes::from);
                match (body, age) {
                    (Some(body), Some(age)) if age <= CACHE_EXPIRY && !fresh => return Ok(body),
                    (body, _) => body,
                }
            }
            Err(_) => None,
        };
        let uri = join(&self.url, path);
        let fetched = self.client.get_bytes(&uri, MAX_DOCUMENT).await;
        let body = match fetched {
            Ok((status, body)) if status == http::StatusCode::OK => body,
            Ok((status, _)) => {
                return stale.ok_or_else(|| {
                    RemoteError::Http(format!("Unable to fetch {uri}: {}", status_text(status)))
                })
            }
            Err(e) => return stale.ok_or(e),
        };
        if tokio::fs::create_dir_all(&self.cache_dir).await.is_ok() {
            let tmp = self.cache_dir.join(format!(".{name}.tmp"));
            if tokio::fs::write(&tmp, &body).await.is_ok() {
                let _ = tokio::fs::rename(&tmp, &cached).await;
            }
        }
        Ok(body)
    }
}
