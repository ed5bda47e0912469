//! A simplestreams remote read by the client, as lxc 5.0.2's `ConnectSimpleStreams` does:
//! `streams/v1/index.json` and the products files it lists are fetched over HTTPS (trusting
//! the pinned `servercerts/NAME.crt`, else the system CA store and `SSL_CERT_FILE`) the first
//! time a question needs them, kept in memory only (lxc sets no cache directory), and turned
//! into LXD images and aliases by `lxd-simplestreams`. Also downloads an image's files for
//! relay copies, checking their SHA-256.

use std::io::Write;

use anyhow::{anyhow, bail, Result};
use http_body_util::BodyExt;
use lxd_api::image::{Image, ImageAliasesEntry};
use lxd_client::Client;
use lxd_simplestreams::{Catalog, DownloadFile, FileRole};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// One simplestreams server and, once read, its catalog.
#[derive(Debug)]
pub struct SimplestreamsRemote {
    /// The server URL without a trailing slash (`GetConnectionInfo().URL`).
    url: String,
    /// The pinned certificate (PEM, may be empty), handed to daemons that pull from it.
    certificate: String,
    client: Client,
    catalog: OnceCell<Catalog>,
}

/// The files of a simplestreams image as downloaded for a relay copy.
#[derive(Debug)]
pub struct DownloadedImage {
    pub meta: std::fs::File,
    pub meta_name: String,
    pub rootfs: Option<(std::fs::File, String)>,
}

impl SimplestreamsRemote {
    /// The server at `url`, reached with `client` (an HTTPS client whose base is `url`).
    pub fn new(url: &str, certificate: String, client: Client) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            certificate,
            client,
            catalog: OnceCell::new(),
        }
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The pinned certificate, empty when the system CA store is trusted.
    pub fn certificate(&self) -> &str {
        &self.certificate
    }

    /// GETs `path` (relative to the server URL) and returns its body, failing as Go's
    /// simplestreams client does on any status but 200.
    async fn get(&self, path: &str) -> Result<bytes::Bytes> {
        let target = format!("/{}", path.trim_start_matches('/'));
        let raw = self.client.raw_request("GET", &target, None, None).await?;
        if raw.status != 200 {
            bail!(
                "Unable to fetch {}/{}: {}",
                self.url,
                path.trim_start_matches('/'),
                status_text(raw.status)
            );
        }
        Ok(raw.body)
    }

    /// Reads the index and products files into a catalog (once per process).
    async fn catalog(&self) -> Result<&Catalog> {
        self.catalog
            .get_or_try_init(|| async {
                let index_path = "streams/v1/index.json";
                let body = self
                    .get(index_path)
                    .await
                    .map_err(|e| anyhow!("Failed parsing stream: {e}"))?;
                let stream = lxd_simplestreams::parse_index(index_path, &body)
                    .map_err(|e| anyhow!("Failed parsing stream: {e}"))?;
                let mut products = Vec::new();
                for path in stream.image_paths() {
                    let body = self
                        .get(path)
                        .await
                        .map_err(|e| anyhow!("Failed parsing products: {e}"))?;
                    products.push(
                        lxd_simplestreams::parse_products(path, &body)
                            .map_err(|e| anyhow!("Failed parsing products: {e}"))?,
                    );
                }
                Ok::<Catalog, anyhow::Error>(Catalog::build(
                    &self.url,
                    host_architecture(),
                    &products,
                ))
            })
            .await
    }

    /// Every image (`ListImages`).
    pub async fn images(&self) -> Result<Vec<Image>> {
        Ok(self.catalog().await?.images().to_vec())
    }

    /// The image whose fingerprint starts with `prefix` (`GetImage`, with its error prefix).
    pub async fn image(&self, prefix: &str) -> Result<Image> {
        let catalog = self.catalog().await?;
        let image = catalog
            .image(prefix)
            .map_err(|e| anyhow!("Failed getting image: {e}"))?;
        Ok(image.clone())
    }

    /// Every alias (`ListAliases`).
    pub async fn aliases(&self) -> Result<Vec<ImageAliasesEntry>> {
        Ok(self.catalog().await?.list_aliases())
    }

    /// An alias of type `kind`, or of containers then virtual machines when `kind` is empty
    /// (`GetImageAlias`, `GetImageAliasType`).
    pub async fn alias(&self, kind: &str, name: &str) -> Result<ImageAliasesEntry> {
        let catalog = self.catalog().await?;
        if !kind.is_empty() {
            return Ok(catalog.alias(kind, name)?);
        }
        match catalog.alias("container", name) {
            Ok(a) => Ok(a),
            Err(_) => Ok(catalog.alias("virtual-machine", name)?),
        }
    }

    /// Downloads the metadata and rootfs files of the image whose fingerprint starts with
    /// `prefix` into anonymous temporary files, checking each file's SHA-256.
    pub async fn download(
        &self,
        prefix: &str,
        mut progress: impl FnMut(&str),
    ) -> Result<DownloadedImage> {
        let catalog = self.catalog().await?;
        let files = catalog.files(prefix)?.to_vec();
        let meta = files
            .iter()
            .find(|f| f.role == FileRole::Meta)
            .ok_or_else(|| anyhow!("Couldn't find the requested image"))?;
        let rootfs = files.iter().find(|f| f.role == FileRole::Root);
        let meta_file = self.download_file(meta, "metadata", &mut progress).await?;
        let rootfs = match rootfs {
            Some(file) => Some((
                self.download_file(file, "rootfs", &mut progress).await?,
                base_name(&file.path),
            )),
            None => None,
        };
        Ok(DownloadedImage {
            meta: meta_file,
            meta_name: base_name(&meta.path),
            rootfs,
        })
    }

    async fn download_file(
        &self,
        file: &DownloadFile,
        what: &str,
        progress: &mut impl FnMut(&str),
    ) -> Result<std::fs::File> {
        let target = format!("/{}", file.path.trim_start_matches('/'));
        let req = self
            .client
            .request_builder("GET", &target)?
            .body(http_body_util::Empty::<bytes::Bytes>::new())?;
        let resp = self.client.send(req).await?;
        if resp.status() != http::StatusCode::OK {
            bail!(
                "Unable to fetch {}/{}: {}",
                self.url,
                file.path.trim_start_matches('/'),
                status_text(resp.status().as_u16())
            );
        }
        let mut out = tempfile::tempfile()?;
        let mut hasher = Sha256::new();
        let mut body = resp.into_body();
        let mut received: u64 = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame?;
            if let Ok(data) = frame.into_data() {
                hasher.update(&data);
                out.write_all(&data)?;
                received += data.len() as u64;
                if let Ok(size @ 1..) = u64::try_from(file.size) {
                    let percent = received * 100 / size;
                    progress(&format!("{what}: {percent}%"));
                }
            }
        }
        let digest = hex(&hasher.finalize());
        if !file.sha256.is_empty() && digest != file.sha256 {
            bail!(
                "Hash mismatch for {}: {digest} != {}",
                file.path,
                file.sha256
            );
        }
        use std::io::Seek;
        out.rewind()?;
        Ok(out)
    }
}

/// The host's architecture by LXD's canonical name (`x86_64`, `aarch64`, ...).
fn host_architecture() -> &'static str {
    lxd_simplestreams::arch::canonical_name(std::env::consts::ARCH)
        .unwrap_or(std::env::consts::ARCH)
}

fn base_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Go's `Response.Status` text: `404 Not Found`.
fn status_text(code: u16) -> String {
    match http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{code} {reason}"),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_reads_like_go() {
        assert_eq!(status_text(404), "404 Not Found");
        assert_eq!(status_text(599), "599");
    }

    #[test]
    fn base_name_keeps_the_last_member() {
        assert_eq!(base_name("images/x/lxd.tar.xz"), "lxd.tar.xz");
    }
}
