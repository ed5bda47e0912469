//! `/1.0/storage-pools/{pool}/volumes`: custom volumes (create, copy, show, edit, rename, move,
//! delete, snapshots, state) and the instance and image volumes LXD lists beside them.
//!
//! Custom volumes have database records (`lxd_db::volumes`); instance volumes are derived from
//! the instances whose root disk is on the pool, image volumes from the btrfs pool's `images/`.
//! Drivers do the work on disk; nothing here touches the kernel directly.

pub mod config;
pub mod create;
pub mod delete;
pub mod expiry;
pub mod list;
pub mod rename;
pub mod snapshots;
pub mod update;
pub mod used_by;

use lxd_api::StorageVolume;
use lxd_db::volumes::{VolumeKey, VolumeRow};
use lxd_storage::{Pool, StorageDriver, VolumeType};

use crate::api::extract::Params;
use crate::api::ApiError;
use crate::state::AppState;

/// The time LXD 5.0.2 reports as every volume's `created_at` (it never fills it in).
pub const ZERO_TIME: &str = lxd_api::image::ZERO_TIME;

/// URL of a volume (`name` may be `vol/snap`), with `?project=` outside the default project.
pub fn volume_url(pool: &str, vol_type: &str, name: &str, project: &str) -> String {
    let path = match name.split_once('/') {
        Some((vol, snap)) => {
            format!("/1.0/storage-pools/{pool}/volumes/{vol_type}/{vol}/snapshots/{snap}")
        }
        None => format!("/1.0/storage-pools/{pool}/volumes/{vol_type}/{name}"),
    };
    if project == "default" {
        path
    } else {
        format!("{path}?project={project}")
    }
}

/// A pool with its driver, for a request in `project`.
pub struct Target {
    pub row: lxd_db::pools::PoolRow,
    pub pool: Pool,
    pub driver: Box<dyn StorageDriver>,
    /// The project custom volumes of the request live in (`features.storage.volumes`).
    pub project: String,
}

impl Target {
    /// The key of custom volume `name`.
    pub fn key<'a>(&'a self, name: &'a str) -> VolumeKey<'a> {
        VolumeKey {
            pool: &self.row.name,
            project: &self.project,
            vol_type: "custom",
            name,
        }
    }

    /// The storage name of custom volume `name` (`<project>_<name>`).
    pub fn storage_name(&self, name: &str) -> String {
        lxd_storage::volume::custom_storage_name(&self.project, name)
    }
}

/// The project holding custom volumes for requests in `project`.
pub fn volume_project(state: &AppState, project: &str) -> Result<String, ApiError> {
    crate::handlers::require_project(state, project)?;
    let row = state.db.read(|c| lxd_db::projects::get(c, project))?;
    let own = row
        .config
        .get("features.storage.volumes")
        .map(String::as_str)
        == Some("true");
    Ok(if own || project == "default" {
        project.to_string()
    } else {
        "default".to_string()
    })
}

/// Load pool `name` with its driver, or LXD's 404.
pub fn target(state: &AppState, name: &str, params: &Params) -> Result<Target, ApiError> {
    let project = volume_project(state, params.project())?;
    target_in(state, name, &project)
}

/// Load pool `name` with its driver for volumes of `project`.
pub fn target_in(state: &AppState, name: &str, project: &str) -> Result<Target, ApiError> {
    let row = state
        .db
        .read(|c| lxd_db::pools::get(c, name))
        .map_err(|e| match e {
            lxd_db::DbError::NotFound(_) => ApiError::not_found("Storage pool not found"),
            other => other.into(),
        })?;
    let (pool, driver) =
        crate::instances::rootfs::pool(&state.paths, &row).map_err(ApiError::internal)?;
    Ok(Target {
        row,
        pool,
        driver,
        project: project.to_string(),
    })
}

/// Parse a volume type from the URL.
pub fn parse_type(name: &str) -> Result<VolumeType, ApiError> {
    VolumeType::parse(name).ok_or_else(|| ApiError::bad_request("Invalid storage volume type name"))
}

/// Only custom volumes can be changed through this API.
pub fn require_custom(vol_type: VolumeType, what: &str) -> Result<(), ApiError> {
    if vol_type == VolumeType::Custom {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Storage volumes of type {:?} cannot be {what} with the storage API",
            vol_type.as_str()
        )))
    }
}

/// The custom volume record `name`, or LXD's 404.
pub fn load_custom(state: &AppState, t: &Target, name: &str) -> Result<VolumeRow, ApiError> {
    state
        .db
        .read(|c| lxd_db::volumes::get(c, t.key(name)))
        .map_err(not_found)
}

/// LXD's 404 for volume lookups.
pub fn not_found(e: lxd_db::DbError) -> ApiError {
    match e {
        lxd_db::DbError::NotFound(_) => ApiError::not_found("Storage pool volume not found"),
        other => other.into(),
    }
}

/// A custom volume record as the API shows it.
pub fn custom_to_api(
    state: &AppState,
    pool: &str,
    project: &str,
    row: VolumeRow,
) -> Result<StorageVolume, ApiError> {
    let used = used_by::custom_volume_users(state, pool, project, &row.name)?;
    Ok(StorageVolume {
        config: row.config,
        description: row.description,
        name: row.name,
        kind: row.vol_type,
        used_by: Some(used),
        location: "none".into(),
        content_type: row.content_type,
        project: project.to_string(),
        created_at: ZERO_TIME.to_string(),
        restore: String::new(),
    })
}

/// Run a driver call off the async workers.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, lxd_storage::StorageError> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Check a new custom volume or snapshot name with LXD's texts.
pub fn check_volume_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::bad_request("No name provided"));
    }
    if name.contains('/') {
        return Err(ApiError::bad_request(
            "Storage volume names may not contain slashes",
        ));
    }
    if name == "." || name == ".." || name.contains(char::is_whitespace) {
        return Err(ApiError::bad_request(format!(
            "Invalid storage volume name {name:?}"
        )));
    }
    Ok(())
}
