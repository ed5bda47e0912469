//! Building a unified image tarball (`metadata.yaml`, `rootfs/`, `templates/`) from a
//! directory, compressed on every core and fingerprinted as it is written (publish, export).
//!
//! Entries carry numeric owners only (optionally shifted back from a container's idmap),
//! modes, mtimes, hard links, device nodes and `SCHILY.xattr` extended attributes. Files are
//! opened with `O_NOFOLLOW`, so a symlink swapped in while packing is never followed. This
//! module writes only the output it is given.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub mod backup;
mod tree;

use crate::compression::{compressor, CompressionError, Compressor, CompressorOptions};
use crate::fingerprint::HashingWriter;
#[cfg(test)]
use tree::pax_record;
use tree::{tree_size, Packer};

/// Why an image could not be packed; a partial output file is removed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("Missing {0}")]
    Missing(String),
    #[error("Failed to read {path} for the image")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to write the image to {path}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to add {entry} to the image")]
    Entry {
        entry: String,
        #[source]
        source: io::Error,
    },
    /// What the producer of an optimized backup's files failed with, as it said it.
    #[error("{0}")]
    Content(String),
    #[error("Failed to finish the image")]
    Finish(#[source] io::Error),
    #[error(transparent)]
    Compression(#[from] CompressionError),
}

/// Ids in `[base, base + range)` on the host map back to `id - base`; others become 65534.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdShift {
    pub uid_base: u32,
    pub gid_base: u32,
    pub range: u32,
}

impl IdShift {
    fn unshift(&self, id: u32, base: u32) -> u32 {
        match id.checked_sub(base) {
            Some(inner) if inner < self.range => inner,
            _ => 65534,
        }
    }
}

/// How to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackOptions {
    /// LXD algorithm name (`gzip`, `xz`, `zstd` ..., optionally with a level: `"xz -9"`).
    pub compression: String,
    /// Compression threads; 0 means every core.
    pub threads: usize,
    /// `metadata.yaml` to write instead of the directory's own (publish generates one).
    pub metadata: Option<Vec<u8>>,
    /// Shift owners back from a container's idmap.
    pub id_shift: Option<IdShift>,
}

impl Default for PackOptions {
    fn default() -> Self {
        Self {
            compression: "gzip".into(),
            threads: 0,
            metadata: None,
            id_shift: None,
        }
    }
}

/// The packed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackResult {
    pub fingerprint: String,
    /// Size of the compressed file in bytes.
    pub size: u64,
}

/// Progress of a pack: bytes of file content packed of the rootfs' total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackProgress {
    pub processed: u64,
    pub total: u64,
}

/// Pack `dir` (holding `metadata.yaml`, `rootfs/` and optionally `templates/`) into the file
/// `output`, removing it again on failure.
pub fn pack_image(
    dir: &Path,
    output: &Path,
    options: &PackOptions,
    progress: Option<&mut dyn FnMut(PackProgress)>,
) -> Result<PackResult, PackError> {
    let write_error = |source| PackError::Write {
        path: output.display().to_string(),
        source,
    };
    let file = File::create(output).map_err(write_error)?;
    let result = pack_to_writer(dir, BufWriter::new(file), options, progress).and_then(|(r, w)| {
        let file = w.into_inner().map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        Ok(r)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(output);
    }
    result
}

/// Pack `dir` into `writer`; returns the fingerprint and size of what was written.
pub fn pack_to_writer<W: Write>(
    dir: &Path,
    writer: W,
    options: &PackOptions,
    progress: Option<&mut dyn FnMut(PackProgress)>,
) -> Result<(PackResult, W), PackError> {
    let rootfs = dir.join("rootfs");
    if !rootfs.is_dir() {
        return Err(PackError::Missing(rootfs.display().to_string()));
    }
    let metadata = match &options.metadata {
        Some(yaml) => yaml.clone(),
        None => std::fs::read(dir.join("metadata.yaml")).map_err(|source| PackError::Read {
            path: dir.join("metadata.yaml").display().to_string(),
            source,
        })?,
    };
    let compression = CompressorOptions {
        threads: options.threads,
        level: None,
    };
    let output = compressor(
        &options.compression,
        HashingWriter::new(writer),
        &compression,
    )?;
    let mut noop = |_: PackProgress| {};
    let mut packer = Packer {
        builder: tar::Builder::new(output),
        id_shift: options.id_shift,
        links: HashMap::new(),
        processed: 0,
        reported: 0,
        total: tree_size(&rootfs),
        progress: progress.unwrap_or(&mut noop),
    };
    packer.metadata_yaml(&metadata)?;
    packer.tree(&rootfs, Path::new("rootfs"))?;
    let templates = dir.join("templates");
    if templates.is_dir() {
        packer.tree(&templates, Path::new("templates"))?;
    }
    let write_error = PackError::Finish;
    let output: Compressor<HashingWriter<W>> = packer.builder.into_inner().map_err(write_error)?;
    let mut hashing = output.finish().map_err(write_error)?;
    hashing.flush().map_err(write_error)?;
    let (writer, fingerprint) = hashing.into_parts();
    let size = fingerprint.size();
    (packer.progress)(PackProgress {
        processed: packer.total,
        total: packer.total,
    });
    let result = PackResult {
        fingerprint: fingerprint.finish(),
        size,
    };
    Ok((result, writer))
}

#[cfg(test)]
mod tests;
