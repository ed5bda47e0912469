//! A small HTTPS client for image servers (hyper 1 over tokio-rustls): GET, and POST for
//! pushing an image; one connection per request, redirects followed as Go's client does (up
//! to 10), optional `Range`, and timeouts on connecting, on the response head and on a
//! stalled body so a dead server never holds the per-image download lock for long.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;

use super::RemoteError;

/// LXD's limit on the wait for a response head (`ResponseHeaderTimeout`).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a body may stall before the transfer counts as interrupted.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;
/// The `User-Agent` LXD 5.0.2 sends.
const USER_AGENT: &str = "LXD 5.0.2";

/// An `https://host[:port]/path?query` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsUrl {
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl HttpsUrl {
    /// Parse an absolute `https://` URL.
    pub fn parse(url: &str) -> Result<Self, RemoteError> {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| RemoteError::Http(format!("Unsupported URL {url:?}: only https")))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| RemoteError::Http(format!("Invalid URL {url:?}")))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        let port = match port {
            None | Some("") => 443,
            Some(p) => p
                .parse()
                .map_err(|_| RemoteError::Http(format!("Invalid port in URL {url:?}")))?,
        };
        if host.is_empty() {
            return Err(RemoteError::Http(format!("Invalid URL {url:?}")));
        }
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        Ok(Self { host, port, path })
    }

    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 443 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Resolve a `Location` header against this URL.
    fn resolve(&self, location: &str) -> String {
        if location.starts_with("https://") || location.starts_with("http://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("https://{}{location}", self.authority())
        } else {
            let dir = self.path.rsplit_once('/').map_or("", |(d, _)| d);
            format!("https://{}{dir}/{location}", self.authority())
        }
    }
}

/// `base` joined with a relative `path` (`shared.JoinUrls`).
pub fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// A client for one image server's TLS settings.
#[derive(Clone)]
pub struct HttpsClient {
    tls: Arc<ClientConfig>,
}

impl HttpsClient {
    pub fn new(tls: Arc<ClientConfig>) -> Self {
        Self { tls }
    }

    /// `GET url`, from byte `range_from` on when given; redirects are followed.
    pub async fn get(
        &self,
        url: &str,
        range_from: Option<u64>,
    ) -> Result<hyper::Response<Incoming>, RemoteError> {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let parsed = HttpsUrl::parse(&url)?;
            let response = self.get_once(&parsed, range_from).await?;
            let status = response.status();
            if status.is_redirection() && status != http::StatusCode::NOT_MODIFIED {
                if let Some(location) = response
                    .headers()
                    .get(http::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                {
                    url = parsed.resolve(location);
                    continue;
                }
            }
            return Ok(response);
        }
        Err(RemoteError::Http(format!(
            "Stopped after {MAX_REDIRECTS} redirects"
        )))
    }

    /// A connection to `url`'s server, ready for one request with a body of type `B`.
    async fn connect<B>(
        &self,
        url: &HttpsUrl,
    ) -> Result<hyper::client::conn::http1::SendRequest<B>, RemoteError>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let fail = |e: &dyn std::fmt::Display| {
            RemoteError::Http(format!(
                "Failed to connect to https://{}: {e}",
                url.authority()
            ))
        };
        let server_name = ServerName::try_from(url.host.clone()).map_err(|e| fail(&e))?;
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let connect = async {
            let tcp = tokio::net::TcpStream::connect((url.host.as_str(), url.port))
                .await
                .map_err(|e| fail(&e))?;
            let _ = tcp.set_nodelay(true);
            connector
                .connect(server_name, tcp)
                .await
                .map_err(|e| fail(&e))
        };
        let tls = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| fail(&"timed out"))??;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| fail(&e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    async fn get_once(
        &self,
        url: &HttpsUrl,
        range_from: Option<u64>,
    ) -> Result<hyper::Response<Incoming>, RemoteError> {
        let fail = |e: &dyn std::fmt::Display| {
            RemoteError::Http(format!(
                "Failed to connect to https://{}: {e}",
                url.authority()
            ))
        };
        let mut sender = self.connect(url).await?;
        let mut request = hyper::Request::get(url.path.as_str())
            .header(http::header::HOST, url.authority())
            .header(http::header::USER_AGENT, USER_AGENT);
        if let Some(from) = range_from.filter(|f| *f > 0) {
            request = request.header(http::header::RANGE, format!("bytes={from}-"));
        }
        let request = request
            .body(http_body_util::Empty::<Bytes>::new())
            .map_err(|e| fail(&e))?;
        tokio::time::timeout(HEAD_TIMEOUT, sender.send_request(request))
            .await
            .map_err(|_| fail(&"timed out waiting for the response"))?
            .map_err(|e| fail(&e))
    }

    /// `POST url` with `headers` and a streamed `body` (an image upload); no redirects. The
    /// response is awaited for as long as the upload takes.
    pub async fn post<B>(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: B,
    ) -> Result<(http::StatusCode, Bytes), RemoteError>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let parsed = HttpsUrl::parse(url)?;
        let fail = |e: &dyn std::fmt::Display| {
            RemoteError::Http(format!(
                "Failed to send to https://{}: {e}",
                parsed.authority()
            ))
        };
        let mut sender = self.connect(&parsed).await?;
        let mut request = hyper::Request::post(parsed.path.as_str())
            .header(http::header::HOST, parsed.authority())
            .header(http::header::USER_AGENT, USER_AGENT);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request.body(body).map_err(|e| fail(&e))?;
        let response = sender.send_request(request).await.map_err(|e| fail(&e))?;
        let status = response.status();
        let body = tokio::time::timeout(IDLE_TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| fail(&"timed out reading the response"))?
            .map_err(|e| fail(&e))?;
        Ok((status, body.to_bytes()))
    }

    /// `GET url` and the whole body (small documents: JSON indexes and API replies), with its
    /// status.
    pub async fn get_bytes(
        &self,
        url: &str,
        limit: usize,
    ) -> Result<(http::StatusCode, Bytes), RemoteError> {
        let response = self.get(url, None).await?;
        let status = response.status();
        let mut body = response.into_body();
        let mut out = Vec::new();
        loop {
            let frame = tokio::time::timeout(IDLE_TIMEOUT, body.frame())
                .await
                .map_err(|_| RemoteError::Http(format!("Timed out reading {url}")))?;
            match frame {
                None => break,
                Some(Err(e)) => {
                    return Err(RemoteError::Http(format!("Failed reading {url}: {e}")))
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        out.extend_from_slice(&data);
                        if out.len() > limit {
                            return Err(RemoteError::Http(format!("{url} is too large")));
                        }
                    }
                }
            }
        }
        Ok((status, Bytes::from(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_host_port_and_path() {
        let u = HttpsUrl::parse("https://127.0.0.1:8443/releases/streams/v1/index.json").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("127.0.0.1", 8443));
        assert_eq!(u.path, "/releases/streams/v1/index.json");
        let u = HttpsUrl::parse("https://cloud-images.ubuntu.com").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("cloud-images.ubuntu.com", 443, "/")
        );
        let u = HttpsUrl::parse("https://[::1]:9/x?y=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 9, "/x?y=1")
        );
        assert!(HttpsUrl::parse("http://example/").is_err());
        assert!(HttpsUrl::parse("https://h:notaport/").is_err());
    }

    #[test]
    fn redirects_resolve_against_the_request() {
        let u = HttpsUrl::parse("https://h:1/a/b/c.json").unwrap();
        assert_eq!(u.resolve("/x"), "https://h:1/x");
        assert_eq!(u.resolve("d.json"), "https://h:1/a/b/d.json");
        assert_eq!(u.resolve("https://o/p"), "https://o/p");
    }

    #[test]
    fn join_keeps_one_slash() {
        assert_eq!(
            join("https://h/releases/", "/streams/v1/index.json"),
            "https://h/releases/streams/v1/index.json"
        );
        assert_eq!(join("https://h", "images/x"), "https://h/images/x");
    }
}
