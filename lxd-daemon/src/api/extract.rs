//! Request extraction with LXD's error behaviour: JSON bodies, query parameters, `If-Match`,
//! and the caller's identity.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest JSON body accepted by API endpoints (uploads stream separately).
pub const MAX_JSON_BODY: usize = 8 * 1024 * 1024;

/// A JSON body parsed with LXD-style error texts (400 on anything malformed).
pub struct LxdJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for LxdJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::bad_request("Request body too large")
            } else {
                ApiError::bad_request(e.body_text())
            }
        })?;
        parse_json(&bytes).map(LxdJson)
    }
}

/// Parse `bytes` as `T`, turning errors into Go-like messages.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("EOF"));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        let msg = match e.classify() {
            Category::Eof => "unexpected EOF".to_string(),
            Category::Syntax => format!(
                "invalid character in JSON at line {} column {}",
                e.line(),
                e.column()
            ),
            Category::Data => format!("json: {e}"),
            Category::Io => e.to_string(),
        };
        ApiError::BadRequest(msg)
    })
}

/// The query string as a map.
#[derive(Debug, Default, Clone)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// `?recursion=` as a number (0 when absent or invalid, as LXD treats it).
    pub fn recursion(&self) -> i64 {
        self.0
            .get("recursion")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }

    /// `?project=`, defaulting to `default`.
    pub fn project(&self) -> &str {
        self.0
            .get("project")
            .map(String::as_str)
            .filter(|p| !p.is_empty())
            .unwrap_or("default")
    }

    /// Any other parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let map = form_urlencoded_pairs(query);
        Ok(Params(map))
    }
}

fn form_urlencoded_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decode `%XX` escapes and `+` as space.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match hex_pair(bytes[i + 1], bytes[i + 2]) {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    Some(digit(hi)? * 16 + digit(lo)?)
}

/// The `If-Match` ETag sent by the client, without quotes.
pub struct IfMatch(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let tag = parts
            .headers
            .get(axum::http::header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().trim_matches('"').to_string())
            .filter(|v| !v.is_empty());
        Ok(IfMatch(tag))
    }
}

impl IfMatch {
    /// 412 when the client's ETag differs from the object's current one.
    pub fn check(&self, current: &impl serde::Serialize) -> Result<(), ApiError> {
        match &self.0 {
            Some(tag) if *tag != lxd_shared::etag::etag_hash(current) => {
                Err(ApiError::PreconditionFailed("ETag doesn't match".into()))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decode_escapes_and_plus() {
        assert_eq!(percent_decode("a%2Fb+c"), "a/b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn parse_json_truncated_body_is_unexpected_eof() {
        let err = parse_json::<serde_json::Value>(br#"{"name": "#).unwrap_err();
        assert_eq!(err, ApiError::BadRequest("unexpected EOF".into()));
    }
}
