//! Image formats of LXD: compression, fingerprints, `metadata.yaml`, templates, and confined
//! unpack and pack of image tarballs and squashfs rootfs.
//!
//! A pure library: no HTTP, no database, no daemon state. External tools (`unsquashfs`) run
//! through lxd-sys's [`lxd_sys::CommandRunner`]; paths are always parameters.
//!
//! - [`compression`]: detection by magic bytes, decoders, multi-core compressors.
//! - [`fingerprint`]: sha256 fingerprints of unified and split images, hashed while streaming.
//! - [`metadata`]: `metadata.yaml` parsing and reading it out of a tarball.
//! - [`unpack`]: extraction that no entry can escape, with progress and rollback.
//! - [`pack`]: building a unified image tarball (publish, export).
//! - [`templates`]: LXD's pongo2 templates and their triggers.
//! - [`sstree`]: a static simplestreams tree on disk (the `lxd-simplestreams` tool's work).

pub mod compression;
pub mod fingerprint;
pub mod metadata;
pub mod pack;
pub mod sstree;
pub mod templates;
pub mod unpack;

#[cfg(test)]
mod test_support;

pub use compression::{Compression, CompressionError};
pub use fingerprint::{fingerprint_file, fingerprint_split, FingerprintError, HashingWriter};
pub use metadata::{ImageMetadata, ImageMetadataTemplate, MetadataError};
pub use pack::{PackError, PackOptions, PackResult};
pub use templates::TemplateError;
pub use unpack::{UnpackError, UnpackOptions};

/// Every error of this crate, for callers that handle them alike.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Compression(#[from] CompressionError),
    #[error(transparent)]
    Fingerprint(#[from] FingerprintError),
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(transparent)]
    Template(#[from] TemplateError),
}
