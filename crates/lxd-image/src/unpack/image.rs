//! Unpacking a whole image into an instance (or image) volume, and the guard that restores
//! the target on failure. The per-entry rules live in the parent module.

use std::path::{Path, PathBuf};

use lxd_sys::CommandRunner;

use super::{
    unpack_file, unpack_squashfs, ImageFiles, Layout, ProgressFn, UnpackError, UnpackOptions,
    UnpackSummary,
};
use crate::compression::{self, Compression};

/// Unpack an image into an instance volume, as LXD does: a unified tarball whole into
/// `volume`; a split image's metadata into `volume` and its rootfs into `volume/rootfs`.
pub fn unpack_image(
    runner: &dyn CommandRunner,
    image: &ImageFiles,
    volume: &Path,
    options: &UnpackOptions,
    mut progress: Option<ProgressFn<'_>>,
) -> Result<UnpackSummary, UnpackError> {
    let guard = TargetGuard::prepare(volume)?;
    let result = (|| {
        let Some(rootfs) = &image.rootfs else {
            let whole = UnpackOptions {
                layout: Layout::Whole,
                ..*options
            };
            let summary = unpack_file(&image.metadata, volume, &whole, progress)?;
            return has_metadata(volume).map(|()| summary);
        };
        let meta = UnpackOptions {
            layout: Layout::Metadata,
            ..*options
        };
        let mut summary = unpack_file(&image.metadata, volume, &meta, None)?;
        has_metadata(volume)?;
        let target = volume.join("rootfs");
        if compression::detect_file(rootfs)? == Compression::Squashfs {
            unpack_squashfs(runner, rootfs, &target)?;
        } else {
            let whole = UnpackOptions {
                layout: Layout::Whole,
                ..*options
            };
            let part = unpack_file(rootfs, &target, &whole, progress.take())?;
            summary.entries += part.entries;
            summary.bytes += part.bytes;
        }
        Ok(summary)
    })();
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

fn has_metadata(volume: &Path) -> Result<(), UnpackError> {
    match std::fs::symlink_metadata(volume.join("metadata.yaml")) {
        Ok(meta) if meta.is_file() => Ok(()),
        _ => Err(UnpackError::MissingMetadata),
    }
}

/// Remembers what a target held before an unpack, to restore that state on failure: a
/// target that did not exist is removed, and entries new at its top level are removed.
pub(super) struct TargetGuard {
    path: PathBuf,
    existed: bool,
    before: Vec<std::ffi::OsString>,
}

impl TargetGuard {
    pub(super) fn prepare(path: &Path) -> Result<Self, UnpackError> {
        let target_error = |source| UnpackError::Target {
            path: path.display().to_string(),
            source,
        };
        let existed = path.exists();
        if !existed {
            std::fs::create_dir_all(path).map_err(target_error)?;
        }
        let before = std::fs::read_dir(path)
            .map_err(target_error)?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            existed,
            before,
        })
    }

    pub(super) fn keep(self) {}

    pub(super) fn roll_back(self) {
        if !self.existed {
            let _ = std::fs::remove_dir_all(&self.path);
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return;
        };
        for entry in entries.flatten() {
            if self.before.contains(&entry.file_name()) {
                continue;
            }
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let _ = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}
