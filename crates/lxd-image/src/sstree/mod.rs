//! A static simplestreams tree on disk (`streams/v1/index.json`, `streams/v1/images.json`
//! and the image files under `images/`) that any web server can serve as an LXD image remote.
//!
//! This module does the file work of `lxd-simplestreams add|list|remove|generate-metadata`:
//! it reads the image's `metadata.yaml`, hashes and copies the files (content-addressed, so an
//! unchanged file is never copied twice) and rewrites the JSON atomically. The products
//! editing itself is [`lxd_simplestreams::tree`].

mod add;
mod generate;

use std::path::{Path, PathBuf};

use lxd_simplestreams::tree::{index_for, INDEX_PATH, PRODUCTS_PATH};
use lxd_simplestreams::{Catalog, Products};

pub use add::{add_image, AddOptions};
pub use generate::{generate_metadata, MetadataOptions};

/// Why a tree could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("Failed to access {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] lxd_simplestreams::ParseError),
    #[error(transparent)]
    Edit(#[from] lxd_simplestreams::TreeError),
    #[error(transparent)]
    Metadata(#[from] crate::MetadataError),
    #[error(transparent)]
    Compression(#[from] crate::CompressionError),
    #[error("{0}")]
    Invalid(String),
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TreeError + '_ {
    move |source| TreeError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A tree rooted at a directory.
#[derive(Debug, Clone)]
pub struct Tree {
    root: PathBuf,
}

impl Tree {
    /// The tree at `root` (created on the first add).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory the tree lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The products file, or an empty one when the tree has none yet.
    pub fn load(&self) -> Result<Products, TreeError> {
        let path = self.root.join(PRODUCTS_PATH);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(lxd_simplestreams::parse_products(PRODUCTS_PATH, &bytes)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(lxd_simplestreams::tree::empty_products())
            }
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    /// Write the products file and the index; each is replaced atomically, products first,
    /// so a server never hands out an index naming products that are not there yet.
    pub fn save(&self, products: &Products) -> Result<(), TreeError> {
        write_atomic(&self.root.join(PRODUCTS_PATH), &to_json(products))?;
        write_atomic(&self.root.join(INDEX_PATH), &to_json(&index_for(products)))
    }

    /// The images the tree serves, as LXD lists them (`host_architecture` decides which
    /// short aliases images carry).
    pub fn catalog(&self, host_architecture: &str) -> Result<Catalog, TreeError> {
        let products = self.load()?;
        Ok(Catalog::build("", host_architecture, &[products]))
    }

    /// Remove the image whose fingerprint starts with `prefix` and the files nothing else
    /// uses; returns the full fingerprint and the removed paths.
    pub fn remove(&self, prefix: &str) -> Result<(String, Vec<PathBuf>), TreeError> {
        let mut products = self.load()?;
        let (fingerprint, unused) = lxd_simplestreams::tree::remove_image(&mut products, prefix)?;
        self.save(&products)?;
        let mut removed = Vec::new();
        for rel in unused {
            let path = self.root.join(&rel);
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path)(e)),
            }
        }
        Ok((fingerprint, removed))
    }
}

/// A tree document as compact JSON, laid out as Go's encoder writes it (sorted map keys).
fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    // The documents are string-keyed maps and plain structs: serialising cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Replace `path` with `bytes` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TreeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    std::fs::write(&tmp, bytes).map_err(io_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_error(path))
}

#[cfg(test)]
mod tests;
