//! Simplestreams image servers as LXD reads them (`shared/simplestreams`): the
//! `streams/v1/index.json` and products model ([`model`]), their conversion to LXD images
//! with the files to download and fingerprints ([`to_lxd`]), the aliases and lookups a
//! server offers ([`catalog`]), and editing a static tree's products ([`tree`]).
//!
//! No I/O: callers fetch or read the JSON and hand the bytes in ([`parse_index`],
//! [`parse_products`]); both are safe on any input, which makes them the fuzzing entry points.

pub mod arch;
pub mod catalog;
pub mod model;
pub mod to_lxd;
pub mod tree;

pub use catalog::{Catalog, CatalogAlias};
pub use model::{Product, ProductVersion, ProductVersionItem, Products, Stream, StreamIndex};
pub use to_lxd::{DownloadFile, FileRole, ImageEntry};

/// The datatype of index entries that list images.
pub const IMAGE_DOWNLOADS: &str = "image-downloads";

/// A document that is not the JSON it should be.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("Failed decoding stream JSON from {path:?}: {source}")]
    Stream {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("Failed decoding products JSON from {path:?}: {source}")]
    Products {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A lookup that found nothing or too much, with LXD's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("Alias '{0}' doesn't exist")]
    UnknownAlias(String),
    #[error("More than one match for alias '{0}'")]
    AmbiguousAlias(String),
    #[error("The requested image couldn't be found")]
    UnknownImage,
    #[error("More than one match for the provided partial fingerprint")]
    AmbiguousFingerprint,
}

/// A tree edit that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("Image {0} is already in the tree")]
    AlreadyPresent(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Unsupported rootfs type {0:?}")]
    UnsupportedRoot(String),
    #[error(transparent)]
    Lookup(LookupError),
}

/// Parse `streams/v1/index.json` (fetched from `path`, for the error text).
pub fn parse_index(path: &str, bytes: &[u8]) -> Result<Stream, ParseError> {
    serde_json::from_slice(bytes).map_err(|source| ParseError::Stream {
        path: path.to_string(),
        source,
    })
}

/// Parse a products file (fetched from `path`, for the error text).
pub fn parse_products(path: &str, bytes: &[u8]) -> Result<Products, ParseError> {
    serde_json::from_slice(bytes).map_err(|source| ParseError::Products {
        path: path.to_string(),
        source,
    })
}

impl Stream {
    /// The products files LXD reads: `image-downloads` entries that list products.
    pub fn image_paths(&self) -> Vec<&str> {
        self.index
            .values()
            .filter(|e| e.datatype == IMAGE_DOWNLOADS && !e.products.is_empty())
            .map(|e| e.path.as_str())
            .collect()
    }
}

/// Parse a products document and build its catalog: never panics, whatever the bytes
/// (the fuzzing entry point for the whole read path).
pub fn catalog_from_bytes(
    server_url: &str,
    host_architecture: &str,
    products: &[u8],
) -> Result<Catalog, ParseError> {
    let products = parse_products("", products)?;
    Ok(Catalog::build(
        server_url,
        host_architecture,
        std::slice::from_ref(&products),
    ))
}
