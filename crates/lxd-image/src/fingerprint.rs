//! Image fingerprints exactly as LXD computes them, hashed while the bytes stream through.
//!
//! A unified image's fingerprint is the sha256 of its file; a split image's is one sha256 fed
//! the metadata file and then the rootfs file (`getImgPostInfo`). [`HashingWriter`] hashes
//! what it writes, so an upload is fingerprinted as it lands on disk, and [`HashingReader`]
//! does the same for a download. This module does no other I/O than the files it is handed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Why a file could not be fingerprinted.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error("Failed to read {path} for its fingerprint")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// A running fingerprint: feed it bytes, read the hex digest.
#[derive(Debug, Clone, Default)]
pub struct Fingerprinter {
    hasher: Sha256,
    size: u64,
}

impl Fingerprinter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed bytes (the metadata part first, then the rootfs part, for split images).
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// How many bytes were fed so far (LXD's image `size`: the sum of both parts).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The lower-case hex sha256 of everything fed.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }

    /// Feed the whole of `reader`, returning how many bytes it yielded.
    pub fn update_from(&mut self, reader: &mut impl Read) -> io::Result<u64> {
        let mut buffer = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.update(&buffer[..n]);
            total += n as u64;
        }
    }
}

/// A `Write` adapter that hashes every byte it passes on to `inner`.
pub struct HashingWriter<W> {
    inner: W,
    fingerprint: Fingerprinter,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self::continuing(inner, Fingerprinter::new())
    }

    /// Continue a running fingerprint (the rootfs part of a split image after its metadata).
    pub fn continuing(inner: W, fingerprint: Fingerprinter) -> Self {
        Self { inner, fingerprint }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.fingerprint.size()
    }

    /// The inner writer and the running fingerprint.
    pub fn into_parts(self) -> (W, Fingerprinter) {
        (self.inner, self.fingerprint)
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.fingerprint.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A `Read` adapter that hashes every byte read through it.
pub struct HashingReader<R> {
    inner: R,
    fingerprint: Fingerprinter,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            fingerprint: Fingerprinter::new(),
        }
    }

    pub fn into_parts(self) -> (R, Fingerprinter) {
        (self.inner, self.fingerprint)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.fingerprint.update(&buf[..n]);
        Ok(n)
    }
}

/// Copy `reader` into `writer`, returning the fingerprint and size of the bytes copied.
pub fn copy_hashed(reader: &mut impl Read, writer: &mut impl Write) -> io::Result<(String, u64)> {
    let mut hashing = HashingWriter::new(writer);
    let size = io::copy(reader, &mut hashing)?;
    hashing.flush()?;
    let (_, fingerprint) = hashing.into_parts();
    Ok((fingerprint.finish(), size))
}

/// The fingerprint of a unified image file.
pub fn fingerprint_file(path: &Path) -> Result<String, FingerprintError> {
    let mut fingerprint = Fingerprinter::new();
    feed_file(&mut fingerprint, path)?;
    Ok(fingerprint.finish())
}

/// The fingerprint of a split image: sha256(metadata file ‖ rootfs file).
pub fn fingerprint_split(metadata: &Path, rootfs: &Path) -> Result<String, FingerprintError> {
    let mut fingerprint = Fingerprinter::new();
    feed_file(&mut fingerprint, metadata)?;
    feed_file(&mut fingerprint, rootfs)?;
    Ok(fingerprint.finish())
}

fn feed_file(fingerprint: &mut Fingerprinter, path: &Path) -> Result<(), FingerprintError> {
    let read_error = |source| FingerprintError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    fingerprint.update_from(&mut file).map_err(read_error)?;
    Ok(())
}

/// Whether `value` is a full LXD fingerprint (64 lower-case hex digits).
pub fn is_fingerprint(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn fingerprinter_known_vectors_match() {
        assert_eq!(Fingerprinter::new().finish(), EMPTY);
        let mut f = Fingerprinter::new();
        f.update(b"abc");
        assert_eq!(f.size(), 3);
        assert_eq!(f.finish(), ABC);
    }

    #[test]
    fn hashing_writer_copy_hashes_what_lands_on_disk() {
        let mut out = Vec::new();
        let (fp, size) = copy_hashed(&mut &b"abc"[..], &mut out).unwrap();
        assert_eq!((fp.as_str(), size, out.as_slice()), (ABC, 3, &b"abc"[..]));
    }

    #[test]
    fn hashing_reader_download_hashes_what_is_read() {
        let mut reader = HashingReader::new(&b"abc"[..]);
        io::copy(&mut reader, &mut io::sink()).unwrap();
        assert_eq!(reader.into_parts().1.finish(), ABC);
    }

    #[test]
    fn fingerprint_split_metadata_then_rootfs_concatenated() {
        let dir = tempfile::tempdir().unwrap();
        let (meta, rootfs) = (dir.path().join("meta"), dir.path().join("rootfs"));
        std::fs::write(&meta, b"a").unwrap();
        std::fs::write(&rootfs, b"bc").unwrap();
        assert_eq!(fingerprint_split(&meta, &rootfs).unwrap(), ABC);
        std::fs::write(&meta, b"abc").unwrap();
        assert_eq!(fingerprint_file(&meta).unwrap(), ABC);
    }

    #[test]
    fn hashing_writer_continuing_split_upload_matches_split_fingerprint() {
        let mut first = HashingWriter::new(Vec::new());
        first.write_all(b"a").unwrap();
        let (_, running) = first.into_parts();
        let mut second = HashingWriter::continuing(Vec::new(), running);
        second.write_all(b"bc").unwrap();
        assert_eq!(second.size(), 3);
        assert_eq!(second.into_parts().1.finish(), ABC);
    }

    #[test]
    fn fingerprint_file_missing_clear_error() {
        let err = fingerprint_file(Path::new("/nonexistent/image")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to read /nonexistent/image for its fingerprint"
        );
    }

    #[test]
    fn is_fingerprint_hex_64_only() {
        assert!(is_fingerprint(ABC));
        assert!(!is_fingerprint(&ABC.to_uppercase()));
        assert!(!is_fingerprint("abc"));
    }
}
