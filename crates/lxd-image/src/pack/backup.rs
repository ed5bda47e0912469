//! Instance backups in LXD's tarball layout: `backup/index.yaml`, the instance volume under
//! `backup/container/` and each snapshot under `backup/snapshots/<name>/`, compressed like
//! images (every core for gzip and zstd). Optimized backups carry, after the index, the files a
//! storage driver produces (its header and `btrfs send` streams), copied from disk as they come.
//! Unpacking uses the confined extractor.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::tree::{tree_size, Packer};
use super::{PackError, PackProgress, PackResult};
use crate::compression::{compressor, CompressorOptions};
use crate::fingerprint::HashingWriter;

/// What goes into a backup.
pub struct BackupContent<'a> {
    /// `backup/index.yaml`.
    pub index_yaml: &'a [u8],
    /// The instance volume (holding `rootfs/`, `metadata.yaml`, `templates/`, `backup.yaml`).
    pub volume: &'a Path,
    /// Snapshot volumes by name.
    pub snapshots: &'a [(String, PathBuf)],
}

/// Write `content` to `output` with `compression` (an LXD algorithm name).
pub fn pack_backup(
    content: &BackupContent<'_>,
    output: &Path,
    compression: &str,
) -> Result<PackResult, PackError> {
    pack_with(output, compression, tree_size(content.volume), |packer| {
        packer.regular_file("backup/index.yaml", content.index_yaml)?;
        packer.tree(content.volume, Path::new("backup/container"))?;
        for (name, dir) in content.snapshots {
            packer.tree(dir, &Path::new("backup/snapshots").join(name))?;
        }
        Ok(())
    })
}

/// Hands one file to the tarball: its name there and the file on disk (read when called).
pub type AddFile<'a> = &'a mut dyn FnMut(&str, &Path) -> Result<(), PackError>;

/// Write an optimized backup to `output`: `backup/index.yaml`, then every file `produce` adds
/// (in the order it adds them), each streamed from disk into the archive.
pub fn pack_optimized_backup(
    index_yaml: &[u8],
    output: &Path,
    compression: &str,
    produce: impl FnOnce(AddFile<'_>) -> Result<(), PackError>,
) -> Result<PackResult, PackError> {
    pack_with(output, compression, 0, |packer| {
        packer.regular_file("backup/index.yaml", index_yaml)?;
        let mut add = |name: &str, path: &Path| packer.file_from_disk(name, path);
        produce(&mut add)
    })
}

/// Create `output`, run `body` on a packer over the compressed tarball, finish and sync it;
/// the file is removed on failure.
fn pack_with(
    output: &Path,
    compression: &str,
    total: u64,
    body: impl FnOnce(
        &mut Packer<'_, crate::compression::Compressor<HashingWriter<BufWriter<File>>>>,
    ) -> Result<(), PackError>,
) -> Result<PackResult, PackError> {
    let write_error = |source| PackError::Write {
        path: output.display().to_string(),
        source,
    };
    let file = File::create(output).map_err(write_error)?;
    let result = (|| {
        let options = CompressorOptions {
            threads: 0,
            level: None,
        };
        let out = compressor(
            compression,
            HashingWriter::new(BufWriter::new(file)),
            &options,
        )?;
        let mut noop = |_: PackProgress| {};
        let mut packer = Packer {
            builder: tar::Builder::new(out),
            id_shift: None,
            links: HashMap::new(),
            processed: 0,
            reported: 0,
            total,
            progress: &mut noop,
        };
        body(&mut packer)?;
        let out = packer.builder.into_inner().map_err(PackError::Finish)?;
        let mut hashing = out.finish().map_err(PackError::Finish)?;
        hashing.flush().map_err(PackError::Finish)?;
        let (writer, fingerprint) = hashing.into_parts();
        writer
            .into_inner()
            .map_err(|e| PackError::Finish(e.into_error()))?
            .sync_all()
            .map_err(PackError::Finish)?;
        Ok(PackResult {
            size: fingerprint.size(),
            fingerprint: fingerprint.finish(),
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(output);
    }
    result
}
