//! A streaming `multipart/form-data` reader (enough of Go's `mime/multipart` for image
//! exports) and `mime.ParseMediaType`-style header parameter parsing. Pure: bytes in, events
//! out; no I/O.

use std::collections::BTreeMap;

/// What the reader found in the bytes fed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A part begins: its form name and file name (from `Content-Disposition`).
    PartStart { name: String, filename: String },
    /// Data of the current part.
    Data(Vec<u8>),
    /// The current part ended.
    PartEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preamble,
    AfterDelimiter,
    Headers,
    Body,
    End,
}

/// Splits a multipart body into parts as chunks arrive.
#[derive(Debug)]
pub struct MultipartReader {
    dash_boundary: Vec<u8>,
    delimiter: Vec<u8>,
    buf: Vec<u8>,
    state: State,
}

/// Splits `value` (a `Content-Type` or `Content-Disposition` header) into the lower-cased media
/// type and its parameters (`boundary`, `name`, `filename`...), unquoting quoted values.
pub fn parse_media_type(value: &str) -> (String, BTreeMap<String, String>) {
    let mut parts = value.splitn(2, ';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let mut params = BTreeMap::new();
    let mut rest = parts.next().unwrap_or_default();
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        params.insert(key, value);
    }
    (media, params)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl MultipartReader {
    /// A reader for parts separated by `--<boundary>`.
    pub fn new(boundary: &str) -> Self {
        let dash_boundary = format!("--{boundary}").into_bytes();
        let mut delimiter = b"\r\n".to_vec();
        delimiter.extend_from_slice(&dash_boundary);
        Self {
            dash_boundary,
            delimiter,
            buf: Vec::new(),
            state: State::Preamble,
        }
    }

    /// True once the closing delimiter was read.
    pub fn finished(&self) -> bool {
        self.state == State::End
    }

    /// Feeds more bytes; returns the events they complete.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Event>, String> {
        self.buf.extend_from_slice(data);
        let mut events = Vec::new();
        loop {
            match self.state {
                State::Preamble => {
                    let Some(i) = find(&self.buf, &self.dash_boundary) else {
                        return Ok(events);
                    };
                    self.buf.drain(..i + self.dash_boundary.len());
                    self.state = State::AfterDelimiter;
                }
                State::AfterDelimiter => {
                    if self.buf.len() < 2 {
                        return Ok(events);
                    }
                    if self.buf.starts_with(b"--") {
                        self.state = State::End;
                        self.buf.clear();
                        return Ok(events);
                    }
                    let Some(eol) = find(&self.buf, b"\n") else {
                        return Ok(events);
                    };
                    self.buf.drain(..=eol);
                    self.state = State::Headers;
                }
                State::Headers => {
                    let Some(i) = find(&self.buf, b"\r\n\r\n") else {
                        return Ok(events);
                    };
                    let head = String::from_utf8_lossy(&self.buf[..i]).to_string();
                    self.buf.drain(..i + 4);
                    let disposition = head
                        .split("\r\n")
                        .filter_map(|l| l.split_once(':'))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
                        .map(|(_, v)| v.trim().to_string())
                        .unwrap_or_default();
                    let (_, params) = parse_media_type(&disposition);
                    events.push(Event::PartStart {
                        name: params.get("name").cloned().unwrap_or_default(),
                        filename: params.get("filename").cloned().unwrap_or_default(),
                    });
                    self.state = State::Body;
                }
                State::Body => match find(&self.buf, &self.delimiter) {
                    Some(i) => {
                        if i > 0 {
                            events.push(Event::Data(self.buf[..i].to_vec()));
                        }
                        events.push(Event::PartEnd);
                        self.buf.drain(..i + self.delimiter.len());
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        let keep = self.delimiter.len() - 1;
                        if self.buf.len() > keep {
                            let n = self.buf.len() - keep;
                            events.push(Event::Data(self.buf.drain(..n).collect()));
                        }
                        return Ok(events);
                    }
                },
                State::End => return Ok(events),
            }
        }
    }

    /// Checks the body ended where a multipart body may end.
    pub fn finish(&self) -> Result<(), String> {
        match self.state {
            State::End => Ok(()),
            _ => Err("multipart: NextPart: EOF".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_media_type_reads_quoted_and_token_values() {
        let (t, p) = parse_media_type("inline;filename=abc.tar.gz");
        assert_eq!(t, "inline");
        assert_eq!(p["filename"], "abc.tar.gz");
        let (t, p) = parse_media_type("form-data; name=\"metadata\"; filename=\"a\\\"b\"");
        assert_eq!(t, "form-data");
        assert_eq!(
            (p["name"].as_str(), p["filename"].as_str()),
            ("metadata", "a\"b")
        );
    }

    #[test]
    fn reader_byte_by_byte_yields_both_parts() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"m.tar\"\r\nContent-Type: application/octet-stream\r\n\r\nMETA\r\n--b\r\nContent-Disposition: form-data; name=\"rootfs\"; filename=\"r.sq\"\r\n\r\nRO\r\nOT\r\n--b--\r\n";
        let mut r = MultipartReader::new("b");
        let mut events = Vec::new();
        for byte in body.as_bytes() {
            events.extend(r.feed(std::slice::from_ref(byte)).unwrap());
        }
        r.finish().unwrap();
        let mut parts: Vec<(String, String, Vec<u8>)> = Vec::new();
        for e in events {
            match e {
                Event::PartStart { name, filename } => parts.push((name, filename, Vec::new())),
                Event::Data(d) => parts.last_mut().unwrap().2.extend(d),
                Event::PartEnd => {}
            }
        }
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            ("metadata".into(), "m.tar".into(), b"META".to_vec())
        );
        assert_eq!(
            parts[1],
            ("rootfs".into(), "r.sq".into(), b"RO\r\nOT".to_vec())
        );
    }
}
