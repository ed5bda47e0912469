//! Image upload (`POST /1.0/images`) as LXD's Go client sends it: a unified tarball as a raw
//! `application/octet-stream` body, a split image as `multipart/form-data` with the parts
//! `metadata` then `rootfs` (`rootfs.img` for VMs); image settings in the `X-LXD-public`,
//! `X-LXD-filename`, `X-LXD-properties` and `X-LXD-profiles` headers. The body is streamed
//! from the files (chunked, like Go's pipe), counting bytes for progress.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use lxd_api::Operation;
use tokio::io::AsyncReadExt;

use crate::progress::{ProgressFn, ProgressStyle, ProgressTracker};
use crate::{Client, ClientError, Result};

/// One file of an upload: the opened file and the name it is sent under.
#[derive(Debug)]
pub struct UploadFile {
    pub file: std::fs::File,
    pub name: String,
}

/// What `lxc image import` uploads.
#[derive(Debug)]
pub struct ImageUpload {
    /// The unified tarball, or the metadata tarball of a split image.
    pub meta: UploadFile,
    /// The rootfs of a split image.
    pub rootfs: Option<UploadFile>,
    /// `container` or `virtual-machine` (names the rootfs part `rootfs.img`).
    pub kind: String,
    pub public: bool,
    /// `X-LXD-filename` (lxc sends the metadata file's base name).
    pub filename: String,
    pub properties: BTreeMap<String, String>,
    pub profiles: Vec<String>,
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's `url.Values.Encode` of `key=value` pairs (sorted by key, stable within a key).
pub fn encode_values<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A multipart boundary as Go's `mime/multipart` makes one: 30 random bytes in hex.
fn random_boundary() -> String {
    use std::io::Read;
    let mut buf = [0u8; 30];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !filled {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
            ^ u128::from(std::process::id());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn escape_quotes(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The header block Go's `multipart.Writer.CreateFormFile` writes before a part's data.
pub fn part_header(boundary: &str, first: bool, field: &str, filename: &str) -> String {
    let lead = if first { "" } else { "\r\n" };
    format!(
        "{lead}--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        escape_quotes(field),
        escape_quotes(filename)
    )
}

pub(crate) enum Segment {
    Bytes(Bytes),
    File(tokio::fs::File),
}

struct BodyState {
    segments: VecDeque<Segment>,
    tracker: Option<ProgressTracker>,
}

/// Streams the segments in order, reporting each chunk to the tracker.
pub(crate) fn streamed_body(
    segments: Vec<Segment>,
    tracker: Option<ProgressTracker>,
) -> UnsyncBoxBody<Bytes, std::io::Error> {
    let state = BodyState {
        segments: segments.into(),
        tracker,
    };
    let s = stream::unfold(state, |mut st| async move {
        loop {
            let chunk = match st.segments.front_mut()? {
                Segment::Bytes(b) => {
                    let b = std::mem::take(b);
                    st.segments.pop_front();
                    b
                }
                Segment::File(f) => {
                    let mut buf = vec![0u8; 64 * 1024];
                    match f.read(&mut buf).await {
                        Ok(0) => {
                            st.segments.pop_front();
                            continue;
                        }
                        Ok(n) => {
                            buf.truncate(n);
                            Bytes::from(buf)
                        }
                        Err(e) => return Some((Err(e), st)),
                    }
                }
            };
            if chunk.is_empty() {
                continue;
            }
            if let Some(t) = st.tracker.as_mut() {
                t.update(chunk.len());
            }
            return Some((Ok(Frame::data(chunk)), st));
        }
    });
    StreamBody::new(s).boxed_unsync()
}

impl Client {
    /// `POST /1.0/images` with the files of `upload`; returns the started operation.
    /// `progress` receives `"<bytes> (<speed>/s)"` texts about once a second.
    pub async fn create_image_upload(
        &self,
        upload: ImageUpload,
        progress: Option<ProgressFn>,
    ) -> Result<Operation> {
        let meta = tokio::fs::File::from_std(upload.meta.file);
        let (content_type, segments) = match upload.rootfs {
            None => (
                "application/octet-stream".to_string(),
                vec![Segment::File(meta)],
            ),
            Some(rootfs) => {
                let boundary = random_boundary();
                let field = if upload.kind == "virtual-machine" {
                    "rootfs.img"
                } else {
                    "rootfs"
                };
                let segments = vec![
                    Segment::Bytes(
                        part_header(&boundary, true, "metadata", &upload.meta.name).into(),
                    ),
                    Segment::File(meta),
                    Segment::Bytes(part_header(&boundary, false, field, &rootfs.name).into()),
                    Segment::File(tokio::fs::File::from_std(rootfs.file)),
                    Segment::Bytes(format!("\r\n--{boundary}--\r\n").into()),
                ];
                (
                    format!("multipart/form-data; boundary={boundary}"),
                    segments,
                )
            }
        };
        let tracker =
            progress.map(|handler| ProgressTracker::new(0, ProgressStyle::Bytes, handler));
        let url = self.url_with_project("/1.0/images");
        let mut builder = self
            .request_builder("POST", &url)?
            .header(http::header::CONTENT_TYPE, content_type);
        if upload.public {
            builder = builder.header("X-LXD-public", "true");
        }
        if !upload.filename.is_empty() {
            builder = builder.header("X-LXD-filename", upload.filename.as_str());
        }
        if !upload.properties.is_empty() {
            let props = encode_values(
                upload
                    .properties
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            );
            builder = builder.header("X-LXD-properties", props);
        }
        if !upload.profiles.is_empty() {
            let profiles = encode_values(upload.profiles.iter().map(|p| ("profile", p.as_str())));
            builder = builder.header("X-LXD-profiles", profiles);
        }
        let req = builder
            .body(streamed_body(segments, tracker))
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        let raw = crate::RawResponse {
            status,
            headers,
            body,
        };
        let (envelope, _) = crate::client::parse_envelope(&raw, &url)?;
        serde_json::from_value(envelope.metadata)
            .map_err(|e| ClientError::Unexpected(format!("Not an operation: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_values_matches_go_url_values() {
        assert_eq!(
            encode_values([("user.a", "b c&d"), ("os", "Split")]),
            "os=Split&user.a=b+c%26d"
        );
    }

    #[test]
    fn part_header_second_part_starts_with_crlf() {
        let h = part_header("xyz", false, "rootfs", "bb.squashfs");
        assert_eq!(
            h,
            "\r\n--xyz\r\nContent-Disposition: form-data; name=\"rootfs\"; filename=\"bb.squashfs\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
    }

    #[test]
    fn random_boundary_is_sixty_hex_chars() {
        let b = random_boundary();
        assert_eq!(b.len(), 60);
        assert!(b.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
