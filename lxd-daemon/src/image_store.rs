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

/// Remove every trace of an image no project references any more: its files and the image
/// volume each pool may hold for it (btrfs keeps `images/<fp>` per pool; instances made from
/// it are independent snapshots and stay). Failures are logged, not returned: the record is
/// already gone.
pub async fn remove_everywhere(state: &crate::state::AppState, fingerprint: &str) {
    remove_files(&state.paths, fingerprint);
    let rows = match crate::storage_backend::all_pools(state) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "Failed to list storage pools for an image delete");
            return;
        }
    };
    for row in rows {
        let Some(driver) = lxd_storage::driver(&row.driver) else {
            continue;
        };
        let pool = crate::storage_backend::pool_of(state, &row);
        let fp = fingerprint.to_string();
        let done = tokio::task::spawn_blocking(move || {
            driver.delete_volume(&pool, lxd_storage::VolumeType::Image, &fp)
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(pool = %row.name, error = %e, "Failed to delete image volume")
            }
            Err(e) => tracing::warn!(pool = %row.name, error = %e, "Failed to delete image volume"),
        }
    }
}

/// Delete image `fingerprint` of `project`: its record (aliases go with it) and, once no project
/// has the fingerprint any more, its files and image volumes. The caller sends the event.
pub async fn delete_image(
    state: &crate::state::AppState,
    project: &str,
    fingerprint: &str,
) -> Result<(), lxd_db::DbError> {
    let (p, f) = (project.to_string(), fingerprint.to_string());
    let still_used = state
        .db
        .write(move |c| {
            lxd_db::images::delete(c, &p, &f)?;
            lxd_db::images::fingerprint_in_use(c, &f)
        })
        .await?;
    if !still_used {
        remove_everywhere(state, fingerprint).await;
    }
    Ok(())
}
