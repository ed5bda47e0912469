//! Image files under `$LXD_DIR/images`: `<fp>` (unified tarball or metadata tarball) and
//! `<fp>.rootfs` (the rootfs of a split image), and the multipart body that carries a split
//! image's two files (an export's reply, a push mode upload).

use std::path::PathBuf;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio_util::io::ReaderStream;

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
/// volume each pool may hold for it (btrfs keeps `images/<fp>` per pool, dir a ready instance
/// volume there; instances made from it are independent and stay). Failures are logged, not
/// returned: the record is already gone.
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
        let name = row.name.clone();
        let done = tokio::task::spawn_blocking(move || {
            crate::instances::rootfs::with_ready_lock(&name, &fp, || {
                driver.delete_volume(&pool, lxd_storage::VolumeType::Image, &fp)
            })
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

/// File contents streamed in chunks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// A `multipart/form-data` body (with `boundary`) of the parts `(name, filename, file)` in
/// order, each `application/octet-stream`, as Go's `CreateFormFile` writes them. The files
/// are opened now and read as the body is sent.
pub async fn multipart_stream(
    boundary: &str,
    parts: [(&str, String, PathBuf); 2],
) -> std::io::Result<ByteStream> {
    let mut chunks: Vec<ByteStream> = Vec::new();
    for (i, (name, filename, path)) in parts.into_iter().enumerate() {
        let file = tokio::fs::File::open(&path).await?;
        let lead = if i == 0 { "" } else { "\r\n" };
        let head = format!(
            "{lead}--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        chunks.push(stream::once(async move { Ok(Bytes::from(head)) }).boxed());
        chunks.push(ReaderStream::new(file).boxed());
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    chunks.push(stream::once(async move { Ok(Bytes::from(tail)) }).boxed());
    Ok(stream::iter(chunks).flatten().boxed())
}
