//! The request core: one HTTP/1.1 exchange per call over a fresh connection, the envelope
//! decoded, API errors turned into [`ClientError::Api`], ETags read and sent as `If-Match`.

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use lxd_api::{Response, ResponseType};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::tls::go_tls_error_text;
use crate::transport::{go_io_text, Connector};
use crate::{ClientError, Result};

/// User agent sent on every request.
pub const USER_AGENT: &str = "LXD 5.0.2";

/// An undecoded answer: status, headers and body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A handle on one LXD server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    connector: Connector,
    project: Option<String>,
    target: Option<String>,
}

impl Client {
    /// A client using `connector`, in the default project.
    pub fn new(connector: Connector) -> Self {
        Self {
            connector,
            project: None,
            target: None,
        }
    }

    /// A client of the local daemon (`$LXD_DIR/unix.socket`).
    pub fn local() -> Self {
        Self::new(Connector::local())
    }

    /// The same server, addressing `project` (an empty name means the default).
    pub fn with_project(mut self, project: &str) -> Self {
        self.project = (!project.is_empty()).then(|| project.to_string());
        self
    }

    /// The same server, addressing cluster member `target` (Go's `UseTarget`; empty = none).
    pub fn with_target(mut self, target: &str) -> Self {
        self.target = (!target.is_empty()).then(|| target.to_string());
        self
    }

    /// The project requests are scoped to, if any.
    pub fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// The connector in use.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Adds `?target=` and `?project=` to an API path when a member or project is selected
    /// and the path does not name one already.
    pub fn url_with_project(&self, path: &str) -> String {
        let mut out = path.to_string();
        let query = |s: &str| {
            s.split_once('?')
                .map(|(_, q)| q.to_string())
                .unwrap_or_default()
        };
        let has = |s: &str, key: &str| {
            query(s)
                .split('&')
                .any(|kv| kv.split('=').next() == Some(key))
        };
        let mut add = |key: &str, value: &Option<String>| {
            if let Some(v) = value {
                let named = has(&out, key) || (key == "project" && has(&out, "all-projects"));
                if !named {
                    let sep = if out.contains('?') { '&' } else { '?' };
                    out = format!("{out}{sep}{key}={v}");
                }
            }
        };
        add("target", &self.target);
        add("project", &self.project);
        out
    }

    /// Sends one request to `path` (absolute, e.g. `/1.0/profiles`) and returns the raw answer.
    pub async fn raw_request(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        etag: Option<&str>,
    ) -> Result<RawResponse> {
        let mut builder = self.request_builder(method, path)?;
        if body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        if let Some(tag) = etag.filter(|t| !t.is_empty()) {
            builder = builder.header(http::header::IF_MATCH, tag);
        }
        let req = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let resp = self.send(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }

    /// A request to `path` with the `Host` and `User-Agent` headers every request carries.
    pub fn request_builder(&self, method: &str, path: &str) -> Result<http::request::Builder> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| ClientError::Request(format!("Bad method {method:?}")))?;
        Ok(Request::builder()
            .method(method)
            .uri(self.connector.request_target(path))
            .header(http::header::HOST, self.connector.host())
            .header(http::header::USER_AGENT, USER_AGENT))
    }

    /// Sends a built request over a fresh connection; the answer's body is left unread so
    /// large downloads can stream.
    pub async fn send<B>(&self, req: Request<B>) -> Result<http::Response<Incoming>>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let stream = self.connector.connect().await.map_err(|e| {
            let path = req.uri().to_string();
            let path = path
                .strip_prefix(&self.connector.request_target(""))
                .unwrap_or(&path);
            connect_error(&self.connector, req.method().as_str(), path, &e)
        })?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(sender.send_request(req).await?)
    }

    /// Sends a request with a JSON body and decodes the envelope. Returns it with the ETag.
    pub async fn query(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        etag: Option<&str>,
    ) -> Result<(Response, String)> {
        let url = self.url_with_project(path);
        let data = body.map(serde_json::to_vec).transpose()?;
        let raw = self.raw_request(method, &url, data, etag).await?;
        parse_envelope(&raw, &format!("{}{url}", self.connector.base_url()))
    }

    /// Like [`Client::query`] with any serializable body.
    pub async fn query_with<B: Serialize>(
        &self,
        method: &str,
        path: &str,
        body: &B,
        etag: Option<&str>,
    ) -> Result<(Response, String)> {
        let value = serde_json::to_value(body)?;
        self.query(method, path, Some(&value), etag).await
    }

    /// GETs `path` and decodes the metadata as `T`; returns it with the ETag.
    pub async fn get_struct<T: DeserializeOwned>(&self, path: &str) -> Result<(T, String)> {
        let (resp, etag) = self.query("GET", path, None, None).await?;
        Ok((metadata_as(resp.metadata)?, etag))
    }
}

/// Decodes an envelope, turning an error envelope into [`ClientError::Api`]. `url` names the
/// request in errors (a full URL, or an API path on the local socket).
pub fn parse_envelope(raw: &RawResponse, url: &str) -> Result<(Response, String)> {
    let etag = raw
        .headers
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let resp: Response = match serde_json::from_slice(&raw.body) {
        Ok(r) => r,
        Err(e) if raw.status != 200 => {
            let reason = http::StatusCode::from_u16(raw.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or_default();
            let _ = e;
            // `url` is a full URL, or an API path on the local socket.
            let shown = if url.starts_with('/') {
                format!("http://unix.socket{url}")
            } else {
                url.to_string()
            };
            return Err(ClientError::Decode(format!(
                "Failed to fetch {shown}: {} {reason}",
                raw.status
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if resp.kind == ResponseType::Error {
        let code = if resp.error_code != 0 {
            resp.error_code
        } else {
            raw.status
        };
        return Err(ClientError::Api {
            code,
            message: resp.error,
        });
    }
    Ok((resp, etag))
}

/// Decodes envelope metadata into a typed value.
pub fn metadata_as<T: DeserializeOwned>(metadata: Value) -> Result<T> {
    Ok(serde_json::from_value(metadata)?)
}

/// Go's wording of a failed connection: `Get "<url>": <reason>`.
pub fn connect_error(
    connector: &Connector,
    method: &str,
    path: &str,
    e: &std::io::Error,
) -> ClientError {
    let reason = match connector {
        Connector::Unix(_) => format!(
            "dial unix {}: connect: {}",
            connector.endpoint(),
            go_io_text(e)
        ),
        Connector::Https(_) => match e.get_ref().and_then(|r| r.downcast_ref::<rustls::Error>()) {
            Some(tls) => go_tls_error_text(tls),
            None => e.to_string(),
        },
    };
    let mut m = method.to_lowercase();
    if let Some(f) = m.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    ClientError::Connect {
        method: m,
        url: format!("{}{path}", connector.base_url()),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_envelope_non_json_error_names_the_full_url() {
        let raw = RawResponse {
            status: 404,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"404 page not found"),
        };
        let e = parse_envelope(&raw, "https://127.0.0.1:8443/1.0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Failed to fetch https://127.0.0.1:8443/1.0: 404 Not Found"
        );
        let e = parse_envelope(&raw, "/1.0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Failed to fetch http://unix.socket/1.0: 404 Not Found"
        );
    }

    #[test]
    fn url_with_project_target_and_project_are_added_once() {
        let c = Client::local().with_project("p1").with_target("m1");
        assert_eq!(c.url_with_project("/1.0/x"), "/1.0/x?target=m1&project=p1");
        assert_eq!(
            c.url_with_project("/1.0/x?target=m2&all-projects=true"),
            "/1.0/x?target=m2&all-projects=true"
        );
    }
}
