//! ETags as LXD computes them: the SHA-256 of the JSON encoding of an object, with the trailing
//! newline and HTML escaping of Go's `json.Encoder`.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hex ETag of `value` (without quotes).
pub fn etag_hash<T: Serialize + ?Sized>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(go_html_escape(&json).as_bytes());
    hasher.update(b"\n");
    hex::encode(hasher.finalize())
}

/// Go's encoder escapes `<`, `>` and `&` inside strings; do the same so hashes agree.
fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn etag_hash_default_profile_matches_lxd_capture() {
        let data = json!([{}, "Default LXD profile", {"root": {"path": "/", "pool": "default", "type": "disk"}}]);
        assert_eq!(
            etag_hash(&data),
            "8cb40dbe07deeb44295647c061b7053fee37b053bff1a8351d608b71289fd132"
        );
    }

    #[test]
    fn etag_hash_escapes_html_characters() {
        assert_eq!(go_html_escape(r#""a<b>&""#), r#""a\u003cb\u003e\u0026""#);
    }
}
