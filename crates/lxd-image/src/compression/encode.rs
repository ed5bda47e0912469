//! Compressors by LXD algorithm name, using every core where the format allows it.
//!
//! gzip runs on [`ParallelGzipWriter`], zstd and xz on their libraries' own worker threads;
//! bzip2 and lzma (the legacy `.lzma` format) have no multi-threaded encoder and run on one.
//! Default levels are those of the command-line tools LXD runs (`gzip` 6, `xz` 6, `bzip2` 9,
//! `zstd` 3).

use std::io::{self, Write};

use super::{Compression, CompressionError, ParallelGzipWriter};

/// Tuning of a compressor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompressorOptions {
    /// Worker threads; 0 means every available core.
    pub threads: usize,
    /// Compression level; `None` means the tool's default.
    pub level: Option<u32>,
}

impl CompressorOptions {
    fn thread_count(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// A compressing writer; call [`Compressor::finish`] to complete the stream.
pub enum Compressor<W: Write> {
    None(W),
    Gzip(ParallelGzipWriter<W>),
    Xz(liblzma::write::XzEncoder<W>),
    Bzip2(bzip2::write::BzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

/// A compressor for LXD's `algorithm` name (`gzip`, `xz`, `bzip2`, `lzma`, `zstd`, `none`).
///
/// Like `images.compression_algorithm`, the name may carry a level argument: `"xz -9"`.
pub fn compressor<W: Write>(
    algorithm: &str,
    inner: W,
    options: &CompressorOptions,
) -> Result<Compressor<W>, CompressionError> {
    let mut fields = algorithm.split_whitespace();
    let name = fields.next().unwrap_or_default();
    let kind = Compression::from_algorithm(name)?;
    let mut options = *options;
    for arg in fields {
        match arg.strip_prefix('-').and_then(|l| l.parse::<u32>().ok()) {
            Some(level) => options.level = Some(level),
            None => return Err(CompressionError::UnknownAlgorithm(algorithm.to_string())),
        }
    }
    Compressor::new(kind, inner, &options)
}

impl<W: Write> Compressor<W> {
    /// A compressor producing `kind` (tarball kinds only).
    pub fn new(
        kind: Compression,
        inner: W,
        options: &CompressorOptions,
    ) -> Result<Self, CompressionError> {
        let threads = options.thread_count();
        let codec = |source| CompressionError::Codec { kind, source };
        let lzma_codec = |e: liblzma::stream::Error| codec(io::Error::other(e));
        Ok(match kind {
            Compression::None => Self::None(inner),
            Compression::Gzip => Self::Gzip(ParallelGzipWriter::new(
                inner,
                options.level.unwrap_or(6),
                threads,
            )),
            Compression::Xz => {
                let stream = liblzma::stream::MtStreamBuilder::new()
                    .threads(u32::try_from(threads).unwrap_or(1))
                    .preset(options.level.unwrap_or(6))
                    .check(liblzma::stream::Check::Crc64)
                    .encoder()
                    .map_err(lzma_codec)?;
                Self::Xz(liblzma::write::XzEncoder::new_stream(inner, stream))
            }
            Compression::Lzma => {
                let opts = liblzma::stream::LzmaOptions::new_preset(options.level.unwrap_or(6))
                    .map_err(lzma_codec)?;
                let stream =
                    liblzma::stream::Stream::new_lzma_encoder(&opts).map_err(lzma_codec)?;
                Self::Xz(liblzma::write::XzEncoder::new_stream(inner, stream))
            }
            Compression::Bzip2 => Self::Bzip2(bzip2::write::BzEncoder::new(
                inner,
                bzip2::Compression::new(options.level.unwrap_or(9).clamp(1, 9)),
            )),
            Compression::Zstd => {
                let level = i32::try_from(options.level.unwrap_or(3)).unwrap_or(3);
                let mut encoder = zstd::stream::write::Encoder::new(inner, level).map_err(codec)?;
                if threads > 1 {
                    encoder
                        .multithread(u32::try_from(threads).unwrap_or(1))
                        .map_err(codec)?;
                }
                Self::Zstd(encoder)
            }
            Compression::Squashfs | Compression::Qcow2 => {
                return Err(CompressionError::NotATarball { kind })
            }
        })
    }

    /// Complete the stream and return the inner writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Self::None(mut w) => {
                w.flush()?;
                Ok(w)
            }
            Self::Gzip(w) => w.finish(),
            Self::Xz(w) => w.finish(),
            Self::Bzip2(w) => w.finish(),
            Self::Zstd(w) => w.finish(),
        }
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Self::None(w) => w,
            Self::Gzip(w) => w,
            Self::Xz(w) => w,
            Self::Bzip2(w) => w,
            Self::Zstd(w) => w,
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}
