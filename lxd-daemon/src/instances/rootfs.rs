//! Instance volumes on a pool: created from an image (unpacked through lxd-image, once per
//! pool on btrfs, ahead of time on dir), deleted, and linked from `$LXD_DIR/containers/<name>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use lxd_storage::{ContentType, Pool, Volume, VolumeType};

use crate::paths::Paths;

/// Why an instance volume could not be made or removed.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("Failed creating instance from image: {0}")]
    Create(String),
    #[error("Failed deleting the instance volume: {0}")]
    Delete(String),
}

/// The pool and driver of a pool record.
pub fn pool(
    paths: &Paths,
    row: &lxd_db::pools::PoolRow,
) -> Result<(Pool, Box<dyn lxd_storage::StorageDriver>), RootfsError> {
    let pool = Pool::new(
        &row.name,
        &paths.storage_pool(&row.name),
        row.config.clone(),
    );
    let runner: Arc<dyn lxd_sys::command::CommandRunner> =
        Arc::new(lxd_sys::command::RealCommandRunner);
    let driver = lxd_storage::driver_with(&row.driver, runner)
        .ok_or_else(|| RootfsError::Create(format!("Unknown storage driver {:?}", row.driver)))?;
    Ok((pool, driver))
}

fn volume(name: &str) -> Volume {
    Volume {
        vol_type: VolumeType::Container,
        content_type: ContentType::Filesystem,
        name: name.to_string(),
        size: None,
    }
}

/// The image files of `fingerprint` in the store.
pub fn image_files(paths: &Paths, fingerprint: &str) -> lxd_image::unpack::ImageFiles {
    let rootfs = crate::image_store::rootfs_file(paths, fingerprint);
    lxd_image::unpack::ImageFiles {
        metadata: crate::image_store::image_file(paths, fingerprint),
        rootfs: rootfs.exists().then_some(rootfs),
    }
}

/// An unpacker of image `fingerprint` into an empty directory.
fn unpacker(
    paths: &Paths,
    fingerprint: &str,
) -> impl FnMut(&Path) -> Result<(), lxd_storage::FillError> {
    let files = image_files(paths, fingerprint);
    move |target: &Path| {
        let options = lxd_image::unpack::UnpackOptions {
            devices: lxd_image::unpack::DevicePolicy::Skip,
            ..Default::default()
        };
        lxd_image::unpack::unpack_image(
            &lxd_sys::command::RealCommandRunner,
            &files,
            target,
            &options,
            None,
        )
        .map(|_| ())
        .map_err(|e| lxd_storage::FillError::from(e.to_string()))
    }
}

/// Create `name`'s volume from the image; returns the volume path (holding `rootfs/`,
/// `metadata.yaml` and `templates/`). On a driver that keeps ready volumes (dir) the volume is
/// the one prepared ahead of time when there is one, and the next is prepared in the
/// background. Blocking: run it off the async workers.
pub fn create_from_image(
    paths: &Paths,
    row: &lxd_db::pools::PoolRow,
    name: &str,
    fingerprint: &str,
) -> Result<PathBuf, RootfsError> {
    let (pool, driver) = pool(paths, row)?;
    let mut fill = unpacker(paths, fingerprint);
    // No lock: a ready volume appears only complete and is taken by one atomic rename, so a
    // create never waits behind a preparation (which runs at the lowest priority); it unpacks
    // itself when none is ready.
    let path = driver
        .create_volume_from_image(&pool, &volume(name), fingerprint, &mut fill)
        .map_err(|e| RootfsError::Create(e.to_string()))?;
    link(paths, name, &path);
    if driver.has_ready_volumes() {
        prepare_in_background(paths.clone(), row.clone(), fingerprint.to_string());
    }
    Ok(path)
}

/// Run `f` holding the lock of image `fingerprint`'s ready volume on pool `pool`, so that
/// preparations of it and its deletion never overlap.
pub fn with_ready_lock<T>(pool: &str, fingerprint: &str, f: impl FnOnce() -> T) -> T {
    type Locks = Mutex<HashMap<(String, String), Arc<Mutex<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let lock = {
        let mut locks = LOCKS
            .get_or_init(Locks::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        locks
            .entry((pool.to_string(), fingerprint.to_string()))
            .or_default()
            .clone()
    };
    let _held = lock.lock().unwrap_or_else(PoisonError::into_inner);
    f()
}

/// Prepare the next instance volume of image `fingerprint` on a thread of the lowest CPU and
/// I/O priority. A failure only means the next instance is unpacked when it is created.
fn prepare_in_background(paths: Paths, row: lxd_db::pools::PoolRow, fingerprint: String) {
    let spawned = std::thread::Builder::new()
        .name("ready-volume".into())
        .spawn(move || {
            if let Err(e) = lxd_sys::priority::background_thread() {
                tracing::debug!(error = %e, "Failed to lower the priority of a volume preparation");
            }
            let prepared = pool(&paths, &row)
                .map_err(|e| e.to_string())
                .and_then(|(p, d)| {
                    let mut fill = unpacker(&paths, &fingerprint);
                    with_ready_lock(&row.name, &fingerprint, || {
                        d.prepare_image_volume(&p, &fingerprint, &mut fill)
                    })
                    .map_err(|e| e.to_string())
                });
            if let Err(e) = prepared {
                tracing::warn!(pool = %row.name, image = %fingerprint, error = %e,
                    "Failed to prepare the next instance volume of an image");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "Failed to start a volume preparation");
    }
}

/// Create an empty volume for `name` (source type `none`).
pub fn create_empty(
    paths: &Paths,
    row: &lxd_db::pools::PoolRow,
    name: &str,
) -> Result<PathBuf, RootfsError> {
    let (pool, driver) = pool(paths, row)?;
    let path = driver
        .create_volume(&pool, &volume(name))
        .map_err(|e| RootfsError::Create(e.to_string()))?;
    std::fs::create_dir_all(path.join("rootfs")).map_err(|e| RootfsError::Create(e.to_string()))?;
    link(paths, name, &path);
    Ok(path)
}

/// Delete `name`'s volume and its link.
pub fn delete(paths: &Paths, row: &lxd_db::pools::PoolRow, name: &str) -> Result<(), RootfsError> {
    let (pool, driver) = pool(paths, row)?;
    let _ = std::fs::remove_file(paths.var.join("containers").join(name));
    driver
        .delete_volume(&pool, VolumeType::Container, name)
        .map_err(|e| RootfsError::Delete(e.to_string()))
}

/// The volume path of `name`.
pub fn volume_path(
    paths: &Paths,
    row: &lxd_db::pools::PoolRow,
    name: &str,
) -> Result<PathBuf, RootfsError> {
    let (pool, driver) = pool(paths, row)?;
    Ok(driver.mount_path(&pool, VolumeType::Container, name))
}

/// Point `$LXD_DIR/containers/<name>` at the volume.
pub fn link_volume(paths: &Paths, name: &str, target: &Path) {
    link(paths, name, target);
}

fn link(paths: &Paths, name: &str, target: &Path) {
    let link = paths.var.join("containers").join(name);
    let _ = std::fs::remove_file(&link);
    if let Err(e) = std::os::unix::fs::symlink(target, &link) {
        tracing::warn!(instance = name, error = %e, "Failed to link the instance volume");
    }
}

/// Run `fill` (an rsync of a backup's instance tree into the volume at `path`), then give
/// `path` back its own owner and mode: rsync copies them from the tree's top directory, and
/// LXD 5.0.2's is owned by the container's host root with mode 0100, which host root (as the
/// starting container is before it takes the container's ids) may not traverse.
pub fn keeping_volume_mode<T>(
    path: &Path,
    fill: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let own = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let filled = fill()?;
    std::os::unix::fs::chown(path, Some(own.uid()), Some(own.gid()))
        .and_then(|()| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(own.mode() & 0o7777))
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(filled)
}
