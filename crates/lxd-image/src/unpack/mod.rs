//! Confined extraction of image tarballs and squashfs rootfs into a target directory.
//!
//! No entry may land outside the target: absolute names and `..` are refused, nothing is
//! written through a symlink (see [`confined`]), hard links must point inside the extracted
//! tree, and device nodes are refused unless [`DevicePolicy`] allows the standard ones. Owners
//! (numeric), modes, mtimes and `SCHILY.xattr` extended attributes are kept. On any error
//! everything created is removed and the error names the entry. Squashfs goes through
//! `unsquashfs`, as in LXD. This module never decides where images live: paths are arguments.

pub(crate) mod confined;
mod extract;
mod image;
mod names;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use lxd_sys::{CommandError, CommandRunner};

use crate::compression::{self, Compression, CompressionError};

pub use image::unpack_image;
use image::TargetGuard;
pub use names::Layout;

/// Why an archive could not be unpacked; nothing of it is left behind.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("Refusing archive entry {entry:?}: absolute path")]
    AbsolutePath { entry: String },
    #[error("Refusing archive entry {entry:?}: \"..\" in its path")]
    ParentDir { entry: String },
    #[error("Refusing archive entry {entry:?}: {component:?} is a symlink or not a directory")]
    ThroughSymlink { entry: String, component: String },
    #[error("Refusing archive entry {entry:?}: hard link to {target:?} outside the archive")]
    HardLinkOutside { entry: String, target: String },
    #[error("Refusing archive entry {entry:?}: {kind} device {major}:{minor} is not allowed")]
    DeviceNode {
        entry: String,
        kind: &'static str,
        major: u32,
        minor: u32,
    },
    #[error("Failed to read the archive after entry {after:?}")]
    Read {
        after: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to write archive entry {entry:?}")]
    Write {
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to prepare the target directory {path}")]
    Target {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("Failed to unpack the squashfs image {path}")]
    Squashfs {
        path: String,
        #[source]
        source: CommandError,
    },
    #[error("Metadata tarball is missing metadata.yaml")]
    MissingMetadata,
    #[error(transparent)]
    Compression(#[from] CompressionError),
}

/// Which device nodes an archive may create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DevicePolicy {
    /// Any char or block device fails the unpack.
    #[default]
    Refuse,
    /// The char devices every container has (null, zero, full, random, urandom, tty,
    /// console, ptmx) are created; any other device fails the unpack.
    Standard,
    /// Device nodes are skipped silently (LXD's unpack inside a user namespace).
    Skip,
}

/// How to unpack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackOptions {
    pub layout: Layout,
    pub devices: DevicePolicy,
    /// Give entries their numeric uid/gid from the archive (needs root).
    pub preserve_owner: bool,
    /// Set `SCHILY.xattr.*` extended attributes (failures are logged, not fatal, like tar).
    pub preserve_xattrs: bool,
}

impl Default for UnpackOptions {
    fn default() -> Self {
        Self {
            layout: Layout::Whole,
            devices: DevicePolicy::Refuse,
            preserve_owner: true,
            preserve_xattrs: true,
        }
    }
}

/// Progress of an unpack: compressed bytes read of the archive's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackProgress {
    pub processed: u64,
    pub total: u64,
}

impl UnpackProgress {
    /// Whole percent done (0–100), as LXD's `create_instance_from_image_unpack_progress`.
    pub fn percent(&self) -> u64 {
        (self.processed * 100)
            .checked_div(self.total)
            .unwrap_or(0)
            .min(100)
    }
}

/// A progress callback.
pub type ProgressFn<'a> = &'a mut dyn FnMut(UnpackProgress);

/// What an unpack extracted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackSummary {
    pub entries: u64,
    /// Bytes of file content written.
    pub bytes: u64,
}

/// The files of an image in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFiles {
    /// The unified tarball, or the metadata tarball of a split image.
    pub metadata: PathBuf,
    /// The rootfs (tarball or squashfs) of a split image.
    pub rootfs: Option<PathBuf>,
}

/// Unpack the (compressed) tarball at `archive` into `target` (created if missing).
pub fn unpack_file(
    archive: &Path,
    target: &Path,
    options: &UnpackOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<UnpackSummary, UnpackError> {
    let kind = compression::detect_file(archive)?;
    let open_error = |source| CompressionError::Open {
        path: archive.display().to_string(),
        source,
    };
    let file = File::open(archive).map_err(open_error)?;
    let total = file.metadata().map_err(open_error)?.len();
    unpack_reader(kind, file, total, target, options, progress)
}

/// Unpack a compressed tar stream of kind `kind` and `total` bytes into `target`.
pub fn unpack_reader(
    kind: Compression,
    reader: impl Read,
    total: u64,
    target: &Path,
    options: &UnpackOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<UnpackSummary, UnpackError> {
    let counter = Arc::new(AtomicU64::new(0));
    let counting = CountingReader {
        inner: reader,
        count: Arc::clone(&counter),
    };
    let buffered = io::BufReader::with_capacity(256 * 1024, counting);
    let decoded = compression::decoder(kind, buffered)?;
    let guard = TargetGuard::prepare(target)?;
    let mut noop = |_: UnpackProgress| {};
    let progress = progress.unwrap_or(&mut noop);
    let result =
        extract::Extraction::new(target, options, &counter, total, progress).and_then(|mut job| {
            let result = job.run(decoded);
            if result.is_err() {
                job.roll_back();
            }
            result
        });
    match result {
        Ok(summary) => {
            guard.keep();
            Ok(summary)
        }
        Err(e) => {
            guard.roll_back();
            Err(e)
        }
    }
}

/// Unpack a squashfs file into `target` with `unsquashfs -f -d <target> -n <file>`.
pub fn unpack_squashfs(
    runner: &dyn CommandRunner,
    file: &Path,
    target: &Path,
) -> Result<(), UnpackError> {
    let guard = TargetGuard::prepare(target)?;
    let (target_arg, file_arg) = (target.to_string_lossy(), file.to_string_lossy());
    let args = ["-f", "-d", target_arg.as_ref(), "-n", file_arg.as_ref()];
    match runner.run("unsquashfs", &args) {
        Ok(_) => {
            guard.keep();
            Ok(())
        }
        Err(source) => {
            guard.roll_back();
            Err(UnpackError::Squashfs {
                path: file.display().to_string(),
                source,
            })
        }
    }
}

/// Counts the compressed bytes read, for progress.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
