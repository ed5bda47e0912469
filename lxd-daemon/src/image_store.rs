//! Image files under `$LXD_DIR/images`: `<fp>` (unified tarball or metadata tarball) and
//! `<fp>.rootfs` (the rootfs of a split image).

use std::path::PathBuf;

use crate::paths::Paths;

/// The main file of an image.
pub fn image_file(paths: &Paths, fingerprint: &str) -> PathBuf {
    paths.var.join("images").join(fingerprint)
}

/// The rootfs file of a split image.
pub fn rootfs_file(paths: &Paths, fingerprint: &str) -> PathBuf {
    paths
        .var
        .join("images")
        .join(format!("{fingerprint}.rootfs"))
}

/// Remove an image's files; missing files are fine.
pub fn remove_files(paths: &Paths, fingerprint: &str) {
    for file in [
        image_file(paths, fingerprint),
        rootfs_file(paths, fingerprint),
    ] {
        if let Err(e) = std::fs::remove_file(&file) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %file.display(), error = %e, "Failed to remove image file");
            }
        }
    }
}
