//! Compression of image files: detection by magic bytes, decompressing readers and
//! compressors chosen by LXD's algorithm names.
//!
//! Detection follows LXD's `DetectCompressionFile` (same order, same magic bytes, squashfs and
//! qcow2 reported as their own kinds). Compressors live in [`encode`]; gzip and zstd use every
//! core. This module never touches the file system beyond the reader or writer it is handed.

mod encode;
mod parallel_gzip;

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

pub use encode::{compressor, Compressor, CompressorOptions};
pub use parallel_gzip::ParallelGzipWriter;

/// How many leading bytes detection looks at (the ustar magic ends at 262).
const HEADER_LEN: usize = 262;

/// Why a compression could not be detected, decoded or set up.
#[derive(Debug, thiserror::Error)]
pub enum CompressionError {
    #[error("Unsupported compression")]
    Unsupported,
    #[error("Unsupported compression algorithm {0:?}")]
    UnknownAlgorithm(String),
    #[error("{kind} is not a compressed tarball")]
    NotATarball { kind: Compression },
    #[error("Failed to read {path}")]
    Open {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to read the compression header")]
    Header(#[source] io::Error),
    #[error("Failed to set up the {kind} codec")]
    Codec {
        kind: Compression,
        #[source]
        source: io::Error,
    },
}

/// The format of an image file, as far as its leading bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// A plain tarball (ustar magic).
    None,
    Gzip,
    Xz,
    Bzip2,
    Lzma,
    Zstd,
    /// A squashfs filesystem image (split images' rootfs).
    Squashfs,
    /// A qcow2 disk (virtual-machine images).
    Qcow2,
}

impl Compression {
    /// LXD's algorithm name (`images.compression_algorithm`); `None` for non-tarballs.
    pub fn algorithm(self) -> Option<&'static str> {
        Some(match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Xz => "xz",
            Self::Bzip2 => "bzip2",
            Self::Lzma => "lzma",
            Self::Zstd => "zstd",
            Self::Squashfs | Self::Qcow2 => return None,
        })
    }

    /// Parse LXD's algorithm name (`gzip`, `xz`, `bzip2`, `lzma`, `zstd`, `none`).
    pub fn from_algorithm(name: &str) -> Result<Self, CompressionError> {
        Ok(match name {
            "none" => Self::None,
            "gzip" => Self::Gzip,
            "xz" => Self::Xz,
            "bzip2" => Self::Bzip2,
            "lzma" => Self::Lzma,
            "zstd" => Self::Zstd,
            other => return Err(CompressionError::UnknownAlgorithm(other.to_string())),
        })
    }

    /// The file extension LXD gives an exported file of this kind (`.tar.gz` ...).
    pub fn extension(self) -> &'static str {
        match self {
            Self::None => ".tar",
            Self::Gzip => ".tar.gz",
            Self::Xz => ".tar.xz",
            Self::Bzip2 => ".tar.bz2",
            Self::Lzma => ".tar.lzma",
            Self::Zstd => ".tar.zst",
            Self::Squashfs => ".squashfs",
            Self::Qcow2 => ".qcow2",
        }
    }

    /// Whether the file is a (possibly compressed) tarball.
    pub fn is_tarball(self) -> bool {
        self.algorithm().is_some()
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Squashfs => "squashfs",
            Self::Qcow2 => "qcow2",
            other => other.algorithm().unwrap_or("unknown"),
        })
    }
}

/// Detect the kind from the leading bytes of a file (at least 262 bytes for plain tarballs).
pub fn detect(header: &[u8]) -> Result<Compression, CompressionError> {
    let starts = |magic: &[u8]| header.starts_with(magic);
    let xz_like = header.len() >= 5 && &header[1..5] == b"7zXZ";
    Ok(if starts(b"BZh") {
        Compression::Bzip2
    } else if starts(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if xz_like && header[0] == 0xfd {
        Compression::Xz
    } else if xz_like || starts(&[0x5d, 0x00, 0x00]) {
        Compression::Lzma
    } else if header.len() >= 262 && &header[257..262] == b"ustar" {
        Compression::None
    } else if starts(b"hsqs") {
        Compression::Squashfs
    } else if starts(b"QFI\xfb") {
        Compression::Qcow2
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        return Err(CompressionError::Unsupported);
    })
}

/// Detect the kind of the file at `path`.
pub fn detect_file(path: &Path) -> Result<Compression, CompressionError> {
    let open_error = |source| CompressionError::Open {
        path: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(open_error)?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    file.take(HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(open_error)?;
    detect(&header)
}

/// Detect the kind of a stream without losing its first bytes: returns the kind and a reader
/// that yields the whole stream again.
pub fn detect_reader<R: Read>(mut reader: R) -> Result<(Compression, impl Read), CompressionError> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    (&mut reader)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(CompressionError::Header)?;
    let kind = detect(&header)?;
    Ok((kind, Cursor::new(header).chain(reader)))
}

/// A reader that decompresses `reader` according to `kind` (tarball kinds only).
///
/// Multi-member gzip, multi-stream xz and bzip2 and multi-frame zstd are read to their end,
/// as produced by parallel compressors.
pub fn decoder<'a, R: Read + 'a>(
    kind: Compression,
    reader: R,
) -> Result<Box<dyn Read + 'a>, CompressionError> {
    let codec = |source| CompressionError::Codec { kind, source };
    Ok(match kind {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
        Compression::Lzma => {
            let stream = liblzma::stream::Stream::new_lzma_decoder(u64::MAX)
                .map_err(|e| codec(io::Error::other(e)))?;
            Box::new(liblzma::read::XzDecoder::new_stream(reader, stream))
        }
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(reader).map_err(codec)?),
        Compression::Squashfs | Compression::Qcow2 => {
            return Err(CompressionError::NotATarball { kind })
        }
    })
}

/// Open `path`, detect its compression and return a reader of the plain tarball.
pub fn open_tarball(path: &Path) -> Result<(Compression, Box<dyn Read>), CompressionError> {
    let kind = detect_file(path)?;
    let file = File::open(path).map_err(|source| CompressionError::Open {
        path: path.display().to_string(),
        source,
    })?;
    let reader = decoder(kind, io::BufReader::with_capacity(256 * 1024, file))?;
    Ok((kind, reader))
}

#[cfg(test)]
mod tests;
