//! Instance files (`/1.0/instances/<name>/files?path=`) as LXD's Go client uses them: GET
//! returns a file's bytes, a symlink's target or (as a JSON envelope) a directory's entries,
//! with ownership and type in `X-LXD-*` headers; POST creates a file, directory or symlink;
//! DELETE removes one. Bodies are held in memory; this module never touches local files.

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Full};

use crate::instances::{instance_path, query_escape};
use crate::{Client, ClientError, Result};

/// What `GET .../files` answered (Go's `InstanceFileResponse` plus the body).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceFileResponse {
    pub uid: i64,
    pub gid: i64,
    /// Permission bits, or −1 when the header was missing.
    pub mode: i64,
    /// `file`, `directory` or `symlink`.
    pub kind: String,
    /// A directory's entry names.
    pub entries: Vec<String>,
    /// A file's content or a symlink's target.
    pub content: Bytes,
}

/// What `POST .../files` sends (Go's `InstanceFileArgs`); −1 leaves a value out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFileArgs {
    pub uid: i64,
    pub gid: i64,
    pub mode: i64,
    /// `file`, `directory` or `symlink` (empty: not sent).
    pub kind: String,
    /// `overwrite` or `append` (empty: not sent).
    pub write_mode: String,
    pub content: Bytes,
}

impl Default for InstanceFileArgs {
    fn default() -> Self {
        Self {
            uid: -1,
            gid: -1,
            mode: -1,
            kind: String::new(),
            write_mode: String::new(),
            content: Bytes::new(),
        }
    }
}

/// Go's `shared.ParseLXDFileHeaders`: uid, gid, mode (perm bits, −1 if absent) and type.
pub fn parse_file_headers(headers: &HeaderMap) -> (i64, i64, i64, String) {
    let get = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let uid = get("X-LXD-uid").parse().unwrap_or(-1);
    let gid = get("X-LXD-gid").parse().unwrap_or(-1);
    let raw = get("X-LXD-mode");
    let mode = match raw.parse::<i64>() {
        Err(_) => -1,
        Ok(decimal) => parse_int_base0(&raw).map_or(decimal, |m| m & 0o777),
    };
    let mut kind = get("X-LXD-type");
    if kind.is_empty() {
        kind = "file".into();
    }
    (uid, gid, mode, kind)
}

/// Go's `strconv.ParseInt(s, 0, 0)`: `0x`, `0o`, `0b` and leading-zero octal prefixes.
pub fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let body = body.replace('_', "");
    if body.is_empty() {
        return None;
    }
    let v = i64::from_str_radix(&body, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn files_url(client: &Client, instance: &str, path: &str) -> String {
    client.url_with_project(&format!(
        "{}/files?path={}",
        instance_path(instance),
        query_escape(path)
    ))
}

impl Client {
    /// `GET /1.0/instances/<name>/files?path=<path>`.
    pub async fn get_instance_file(
        &self,
        instance: &str,
        path: &str,
    ) -> Result<InstanceFileResponse> {
        let url = files_url(self, instance, path);
        let raw = self.raw_request("GET", &url, None, None).await?;
        if raw.status != 200 {
            crate::client::parse_envelope(&raw, &url)?;
        }
        let (uid, gid, mode, kind) = parse_file_headers(&raw.headers);
        let mut resp = InstanceFileResponse {
            uid,
            gid,
            mode,
            kind,
            ..Default::default()
        };
        if resp.kind == "directory" {
            let (envelope, _) = crate::client::parse_envelope(&raw, &url)?;
            resp.entries = match envelope.metadata {
                serde_json::Value::Null => Vec::new(),
                other => serde_json::from_value(other)?,
            };
        } else {
            resp.content = raw.body;
        }
        Ok(resp)
    }

    /// `POST /1.0/instances/<name>/files?path=<path>` with the `X-LXD-*` headers of `args`.
    pub async fn create_instance_file(
        &self,
        instance: &str,
        path: &str,
        args: InstanceFileArgs,
    ) -> Result<()> {
        let url = files_url(self, instance, path);
        let mut builder = self.request_builder("POST", &url)?;
        if args.uid > -1 {
            builder = builder.header("X-LXD-uid", args.uid.to_string());
        }
        if args.gid > -1 {
            builder = builder.header("X-LXD-gid", args.gid.to_string());
        }
        if args.mode > -1 {
            builder = builder.header("X-LXD-mode", format!("{:04o}", args.mode));
        }
        if !args.kind.is_empty() {
            builder = builder.header("X-LXD-type", args.kind.as_str());
        }
        if !args.write_mode.is_empty() {
            builder = builder.header("X-LXD-write", args.write_mode.as_str());
        }
        let req = builder
            .body(Full::new(args.content))
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let resp = self.send(req).await?;
        let raw = crate::RawResponse {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.into_body().collect().await?.to_bytes(),
        };
        crate::client::parse_envelope(&raw, &url)?;
        Ok(())
    }

    /// `DELETE /1.0/instances/<name>/files?path=<path>`.
    pub async fn delete_instance_file(&self, instance: &str, path: &str) -> Result<()> {
        let path = format!(
            "{}/files?path={}",
            instance_path(instance),
            query_escape(path)
        );
        self.query("DELETE", &path, None, None).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_int_base0_leading_zero_is_octal() {
        assert_eq!(parse_int_base0("0644"), Some(0o644));
        assert_eq!(parse_int_base0("0x1f"), Some(31));
        assert_eq!(parse_int_base0("420"), Some(420));
        assert_eq!(parse_int_base0("09"), None);
    }

    #[test]
    fn parse_file_headers_missing_values_are_minus_one_and_file() {
        let (uid, gid, mode, kind) = parse_file_headers(&HeaderMap::new());
        assert_eq!((uid, gid, mode, kind.as_str()), (-1, -1, -1, "file"));
    }

    #[test]
    fn parse_file_headers_octal_mode_is_masked() {
        let mut h = HeaderMap::new();
        h.insert("X-LXD-mode", "0755".parse().unwrap());
        h.insert("X-LXD-uid", "1000".parse().unwrap());
        let (uid, _, mode, _) = parse_file_headers(&h);
        assert_eq!((uid, mode), (1000, 0o755));
    }
}
