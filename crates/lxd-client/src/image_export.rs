//! Image download (`GET /1.0/images/<fp>/export`) as LXD's Go client reads it: a unified image
//! is the raw body named by `Content-Disposition`; a split image is `multipart/form-data` with
//! the parts `metadata` then `rootfs` (or `rootfs.img`). The sha256 of what was written must
//! start with the requested fingerprint.

use std::io::Write;

use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use crate::multipart::{parse_media_type, Event, MultipartReader};
use crate::progress::{ProgressFn, ProgressStyle, ProgressTracker};
use crate::{Client, ClientError, Result};

/// What an export wrote (Go's `ImageFileResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFileResponse {
    pub meta_size: i64,
    pub meta_name: String,
    pub rootfs_size: i64,
    pub rootfs_name: String,
}

fn write_err(e: std::io::Error) -> ClientError {
    ClientError::Transfer(e.to_string())
}

/// Where the parts of a split image go while it streams in.
struct SplitSink<'a> {
    meta: &'a mut dyn Write,
    rootfs: &'a mut dyn Write,
    part: usize,
    resp: ImageFileResponse,
}

impl SplitSink<'_> {
    fn apply(&mut self, event: Event, hash: &mut Sha256) -> Result<()> {
        match event {
            Event::PartStart { name, filename } => {
                self.part += 1;
                let valid = match self.part {
                    1 => name == "metadata",
                    2 => name == "rootfs" || name == "rootfs.img",
                    _ => false,
                };
                if !valid {
                    return Err(ClientError::Transfer("Invalid multipart image".into()));
                }
                if self.part == 1 {
                    self.resp.meta_name = filename;
                } else {
                    self.resp.rootfs_name = filename;
                }
            }
            Event::Data(d) => {
                hash.update(&d);
                if self.part == 1 {
                    self.meta.write_all(&d).map_err(write_err)?;
                    self.resp.meta_size += d.len() as i64;
                } else {
                    self.rootfs.write_all(&d).map_err(write_err)?;
                    self.resp.rootfs_size += d.len() as i64;
                }
            }
            Event::PartEnd => {}
        }
        Ok(())
    }
}

impl Client {
    /// Downloads image `fingerprint` into `meta` (and `rootfs` for split images). `progress`
    /// receives `"<pct>% (<speed>/s)"` texts.
    pub async fn get_image_file(
        &self,
        fingerprint: &str,
        secret: &str,
        meta: &mut dyn Write,
        rootfs: Option<&mut dyn Write>,
        progress: Option<ProgressFn>,
    ) -> Result<ImageFileResponse> {
        let mut url = self.url_with_project(&format!(
            "{}/export",
            crate::images::image_path(fingerprint)
        ));
        if !secret.is_empty() {
            let sep = if url.contains('?') { '&' } else { '?' };
            url = format!(
                "{url}{sep}secret={}",
                crate::image_upload::query_escape(secret)
            );
        }
        let req = self
            .request_builder("GET", &url)?
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let header = |name: http::header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let mut body = resp.into_body();
        if status != 200 {
            let data = body.collect().await?.to_bytes();
            let raw = crate::RawResponse {
                status,
                headers: headers.clone(),
                body: data,
            };
            crate::client::parse_envelope(&raw, &url)?;
            return Err(ClientError::Unexpected(format!(
                "Unexpected status {status} from {url}"
            )));
        }
        let length: i64 = header(http::header::CONTENT_LENGTH).parse().unwrap_or(-1);
        let mut tracker =
            progress.map(|handler| ProgressTracker::new(length, ProgressStyle::Percent, handler));
        let (ctype, ctype_params) = parse_media_type(&header(http::header::CONTENT_TYPE));
        let mut hash = Sha256::new();
        let resp = if ctype == "multipart/form-data" {
            let Some(rootfs) = rootfs else {
                return Err(ClientError::Transfer(
                    "Multi-part image but only one target file provided".into(),
                ));
            };
            let boundary = ctype_params.get("boundary").cloned().unwrap_or_default();
            let mut reader = MultipartReader::new(&boundary);
            let mut sink = SplitSink {
                meta,
                rootfs,
                part: 0,
                resp: ImageFileResponse::default(),
            };
            while let Some(frame) = body.frame().await {
                let Ok(data) = frame?.into_data() else {
                    continue;
                };
                if let Some(t) = tracker.as_mut() {
                    t.update(data.len());
                }
                for event in reader.feed(&data).map_err(ClientError::Transfer)? {
                    sink.apply(event, &mut hash)?;
                }
                if reader.finished() {
                    break;
                }
            }
            if sink.part < 2 {
                return Err(ClientError::Transfer("multipart: NextPart: EOF".into()));
            }
            sink.resp
        } else {
            let disposition = header(http::header::CONTENT_DISPOSITION);
            if disposition.trim().is_empty() {
                return Err(ClientError::Transfer("mime: no media type".into()));
            }
            let (_, params) = parse_media_type(&disposition);
            let Some(filename) = params.get("filename").cloned() else {
                return Err(ClientError::Transfer(
                    "No filename in Content-Disposition header".into(),
                ));
            };
            let mut resp = ImageFileResponse {
                meta_name: filename,
                ..Default::default()
            };
            while let Some(frame) = body.frame().await {
                let Ok(data) = frame?.into_data() else {
                    continue;
                };
                if let Some(t) = tracker.as_mut() {
                    t.update(data.len());
                }
                hash.update(&data);
                meta.write_all(&data).map_err(write_err)?;
                resp.meta_size += data.len() as i64;
            }
            resp
        };
        let got: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if !fingerprint.is_empty() && !got.starts_with(fingerprint) {
            return Err(ClientError::Transfer(format!(
                "Image fingerprint doesn't match. Got {got} expected {fingerprint}"
            )));
        }
        Ok(resp)
    }
}
