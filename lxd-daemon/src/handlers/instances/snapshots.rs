//! `/1.0/instances/{name}/snapshots`: list, create (`snapshots.pattern`, default `snap%d`),
//! show and delete snapshots, and restore one into its instance; storage drivers do the copies
//! (btrfs read-only subvolume snapshots, dir full copies).

use axum::extract::{Path, State};
use lxd_api::instance::{InstanceSnapshot, InstanceSnapshotsPost};
use lxd_db::instances::snapshots::{self, SnapshotRow};
use lxd_storage::VolumeType;

use super::store::{expand, load, project_of, Loaded};
use super::{instance_url, op_resources};
use crate::api::caller::Caller;
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

pub(super) fn snapshot_url(instance: &str, snap: &str) -> String {
    format!("/1.0/instances/{instance}/snapshots/{snap}")
}

pub(crate) fn to_api(state: &AppState, project: &str, row: SnapshotRow) -> InstanceSnapshot {
    let shadow = lxd_db::instances::InstanceRow {
        config: row.config.clone(),
        devices: row.devices.clone(),
        profiles: row.profiles.clone(),
        ..Default::default()
    };
    let (expanded_config, expanded_devices) = expand(state, project, &shadow).unwrap_or_default();
    InstanceSnapshot {
        expires_at: row.expires_at,
        architecture: row.architecture,
        config: row.config,
        created_at: row.created_at,
        devices: row.devices,
        ephemeral: row.ephemeral,
        expanded_config,
        expanded_devices,
        last_used_at: lxd_api::image::ZERO_TIME.to_string(),
        name: row.name,
        profiles: row.profiles,
        stateful: row.stateful,
        size: -1,
    }
}

/// The storage pool and driver of an instance's root volume.
pub(super) fn storage(
    state: &AppState,
    inst: &Loaded,
) -> Result<(lxd_storage::Pool, Box<dyn lxd_storage::StorageDriver>), String> {
    let pool_name = inst
        .root_pool()
        .ok_or("Failed getting root disk: No root device could be found")?;
    let row = state
        .db
        .read(|c| lxd_db::pools::get(c, &pool_name))
        .map_err(|e| e.to_string())?;
    crate::instances::rootfs::pool(&state.paths, &row).map_err(|e| e.to_string())
}

/// The next free name from `snapshots.pattern` (`snap%d`).
fn next_name(pattern: &str, existing: &[String]) -> String {
    if !pattern.contains("%d") {
        return pattern.to_string();
    }
    (0..)
        .map(|i| pattern.replace("%d", &i.to_string()))
        .find(|n| !existing.contains(n))
        .unwrap_or_default()
}

/// One snapshot record, or LXD's 404 for it.
pub(super) fn load_snapshot(
    state: &AppState,
    project: &str,
    instance: &str,
    snap: &str,
) -> Result<SnapshotRow, ApiError> {
    state
        .db
        .read(|c| snapshots::get(c, project, instance, snap))
        .map_err(|e| match e {
            lxd_db::DbError::NotFound(_) => ApiError::not_found(format!(
                "Failed to fetch snapshot {snap:?} of instance {instance:?} in project {project:?}: InstanceSnapshot not found"
            )),
            other => other.into(),
        })
}

/// An instance's snapshots as API objects, oldest first.
pub fn list(
    state: &AppState,
    project: &str,
    name: &str,
) -> Result<Vec<InstanceSnapshot>, ApiError> {
    let rows = state.db.read(|c| snapshots::list(c, project, name))?;
    Ok(rows
        .into_iter()
        .map(|r| to_api(state, project, r))
        .collect())
}

/// `GET /1.0/instances/{name}/snapshots`
pub async fn get_snapshots(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    load(&state, &project, &name)?;
    if params.recursion() == 0 {
        let names = state.db.read(|c| snapshots::names(c, &project, &name))?;
        return Ok(ApiResponse::sync(
            names
                .iter()
                .map(|s| snapshot_url(&name, s))
                .collect::<Vec<_>>(),
        ));
    }
    let rows = state.db.read(|c| snapshots::list(c, &project, &name))?;
    Ok(ApiResponse::sync(
        rows.into_iter()
            .map(|r| to_api(&state, &project, r))
            .collect::<Vec<_>>(),
    ))
}

/// `GET /1.0/instances/{name}/snapshots/{snap}`
pub async fn get_snapshot(
    State(state): State<AppState>,
    Path((name, snap)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    load(&state, &project, &name)?;
    let row = load_snapshot(&state, &project, &name, &snap)?;
    let etag = [row.expires_at.clone()];
    Ok(ApiResponse::sync_etag(to_api(&state, &project, row), etag))
}

/// `POST /1.0/instances/{name}/snapshots`
pub async fn post_snapshots(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<InstanceSnapshotsPost>,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    if req.stateful {
        return Err(ApiError::bad_request(
            "Stateful snapshots are not supported by this server",
        ));
    }
    let expires_at = match &req.expires_at {
        Some(t) => crate::time::normalise(t).map_err(ApiError::bad_request)?,
        None => {
            let expr = inst
                .expanded_config
                .get("snapshots.expiry")
                .map(String::as_str)
                .unwrap_or("");
            crate::time::expiry_after(chrono::Utc::now(), expr)
                .map_err(ApiError::bad_request)?
                .map(crate::time::go_rfc3339)
                .unwrap_or_else(|| crate::time::ZERO.to_string())
        }
    };
    let existing = state.db.read(|c| snapshots::names(c, &project, &name))?;
    let pattern = inst
        .expanded_config
        .get("snapshots.pattern")
        .cloned()
        .unwrap_or_else(|| "snap%d".into());
    let snap = if req.name.is_empty() {
        next_name(&pattern, &existing)
    } else {
        req.name.clone()
    };
    if snap.contains('/') || snap.contains(' ') {
        return Err(ApiError::bad_request(
            "Invalid instance snapshot name: Cannot contain space or / characters",
        ));
    }
    if existing.contains(&snap) {
        return Err(ApiError::Conflict(format!(
            "Snapshot {snap:?} already exists"
        )));
    }
    let mut spec = OpSpec::task("Snapshotting instance", &project);
    spec.resources = Some(op_resources(&name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        let (pool, driver) = storage(&task_state, &inst)?;
        let (vol, s) = (inst.runtime_name(), snap.clone());
        tokio::task::spawn_blocking(move || {
            driver.create_snapshot(&pool, VolumeType::Container, &vol, &s)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let row = SnapshotRow {
            name: snap.clone(),
            created_at: crate::time::now_rfc3339(),
            expires_at,
            stateful: false,
            description: String::new(),
            architecture: inst.row.architecture.clone(),
            ephemeral: inst.row.ephemeral,
            config: inst.row.config.clone(),
            devices: inst.row.devices.clone(),
            profiles: inst.row.profiles.clone(),
        };
        let (p, n) = (project.clone(), name.clone());
        task_state
            .db
            .write(move |c| snapshots::create(c, &p, &n, &row))
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &project,
            "instance-snapshot-created",
            snapshot_url(&name, &snap),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// Delete a snapshot's volume and record.
pub async fn remove_snapshot(state: &AppState, inst: &Loaded, snap: &str) -> Result<(), String> {
    let (pool, driver) = storage(state, inst)?;
    let (vol, s) = (inst.runtime_name(), snap.to_string());
    tokio::task::spawn_blocking(move || {
        driver.delete_snapshot(&pool, VolumeType::Container, &vol, &s)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let (p, n, s) = (
        inst.project.clone(),
        inst.row.name.clone(),
        snap.to_string(),
    );
    state
        .db
        .write(move |c| snapshots::delete(c, &p, &n, &s))
        .await
        .map_err(|e| e.to_string())
}

/// `DELETE /1.0/instances/{name}/snapshots/{snap}`
pub async fn delete_snapshot(
    State(state): State<AppState>,
    Path((name, snap)): Path<(String, String)>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    load_snapshot(&state, &project, &name, &snap)?;
    let mut spec = OpSpec::task("Deleting snapshot", &project);
    // LXD names the snapshot as `instance/snap` in this operation's resources.
    spec.resources = Some(op_resources(&format!("{name}/{snap}"), &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        remove_snapshot(&task_state, &inst, &snap).await?;
        task_state.events.lifecycle(
            &project,
            "instance-snapshot-deleted",
            snapshot_url(&name, &snap),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// Restore `snap` into the (stopped) instance: its volume content and its config.
pub async fn restore(state: &AppState, inst: &Loaded, snap: &str) -> Result<(), String> {
    let row = state
        .db
        .read(|c| snapshots::get(c, &inst.project, &inst.row.name, snap))
        .map_err(|_| format!("Snapshot {snap:?} not found"))?;
    let (pool, driver) = storage(state, inst)?;
    let (vol, s) = (inst.runtime_name(), snap.to_string());
    tokio::task::spawn_blocking(move || {
        driver.restore_snapshot(&pool, VolumeType::Container, &vol, &s)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let mut restored = inst.row.clone();
    restored.config = row.config;
    restored.devices = row.devices;
    restored.profiles = row.profiles;
    restored.architecture = row.architecture;
    let p = inst.project.clone();
    state
        .db
        .write(move |c| lxd_db::instances::update(c, &p, &restored))
        .await
        .map_err(|e| e.to_string())?;
    let url = instance_url(&inst.row.name, &inst.project, false);
    state.events.lifecycle(
        &inst.project,
        "instance-restored",
        url,
        &crate::events::Requestor::default(),
    );
    Ok(())
}
