//! `/1.0/storage-pools/{pool}/volumes/{type}/{vol}/snapshots[/{snap}]`: list (instance volumes
//! too), create (`snapshots.pattern`, default `snap%d`; `snapshots.expiry`), show, edit
//! (description and expiry, ETag checked), rename and delete custom volume snapshots. Creating,
//! renaming and deleting run as operations, as in LXD.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use lxd_api::{
    StorageVolumeSnapshot, StorageVolumeSnapshotPost, StorageVolumeSnapshotPut,
    StorageVolumeSnapshotsPost,
};
use lxd_db::volumes::VolumeSnapshotRow;
use lxd_storage::VolumeType;

use super::expiry::{expiry_from, is_never};
use super::{
    blocking, check_volume_name, load_custom, parse_type, require_custom, target, volume_url,
    Target, ZERO_TIME,
};
use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

fn resources(kind: &str, vol: &str) -> BTreeMap<String, Vec<String>> {
    // LXD 5.0.2 names these resources literally so (`/1.0/storage_volumes/<vol>`).
    [(kind.to_string(), vec![format!("/1.0/{kind}/{vol}")])].into()
}

fn expires(row: &VolumeSnapshotRow) -> Option<String> {
    (!is_never(Some(&row.expires_at))).then(|| row.expires_at.clone())
}

/// `GET .../volumes/{type}/{vol}/snapshots`
pub async fn get_snapshots(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    let t = target(&state, &pool, &params)?;
    if ty != VolumeType::Custom {
        let vol = super::list::show(&state, &t, ty, &name, params.project())?;
        let names = state
            .db
            .read(|c| lxd_db::instances::snapshots::names(c, &vol.project, &name))?;
        let urls: Vec<String> = names
            .iter()
            .map(|s| volume_url(&pool, &vol_type, &format!("{name}/{s}"), &vol.project))
            .collect();
        if params.recursion() == 0 {
            return Ok(ApiResponse::sync(urls));
        }
        let list: Vec<StorageVolumeSnapshot> = names
            .iter()
            .map(|s| StorageVolumeSnapshot {
                name: format!("{name}/{s}"),
                created_at: ZERO_TIME.into(),
                ..Default::default()
            })
            .collect();
        return Ok(ApiResponse::sync(list));
    }
    load_custom(&state, &t, &name)?;
    let snaps = state
        .db
        .read(|c| lxd_db::volumes::snapshots(c, t.key(&name)))?;
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            snaps
                .iter()
                .map(|s| volume_url(&pool, "custom", &format!("{name}/{}", s.name), &t.project))
                .collect::<Vec<_>>(),
        ));
    }
    let list: Vec<StorageVolumeSnapshot> = snaps
        .into_iter()
        .map(|s| StorageVolumeSnapshot {
            description: s.description.clone(),
            expires_at: expires(&s),
            name: format!("{name}/{}", s.name),
            config: s.config,
            content_type: String::new(),
            created_at: ZERO_TIME.into(),
        })
        .collect();
    Ok(ApiResponse::sync(list))
}

fn next_name(pattern: &str, existing: &[String]) -> String {
    if !pattern.contains("%d") {
        return pattern.to_string();
    }
    (0..)
        .map(|i| pattern.replace("%d", &i.to_string()))
        .find(|n| !existing.contains(n))
        .unwrap_or_default()
}

/// `POST .../volumes/{type}/{vol}/snapshots`
pub async fn post_snapshots(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<StorageVolumeSnapshotsPost>,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    require_custom(ty, "snapshotted")?;
    let t = target(&state, &pool, &params)?;
    let vol = load_custom(&state, &t, &name)?;
    let existing: Vec<String> = state
        .db
        .read(|c| lxd_db::volumes::snapshots(c, t.key(&name)))?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let pattern = vol
        .config
        .get("snapshots.pattern")
        .filter(|p| !p.is_empty())
        .cloned()
        .unwrap_or_else(|| "snap%d".into());
    let snap = if req.name.is_empty() {
        next_name(&pattern, &existing)
    } else {
        req.name.clone()
    };
    check_volume_name(&snap)?;
    if existing.contains(&snap) {
        return Err(ApiError::Conflict(format!(
            "Snapshot {snap:?} already in use"
        )));
    }
    let expires_at = match req.expires_at.as_deref() {
        Some(at) if !is_never(Some(at)) => at.to_string(),
        _ => vol
            .config
            .get("snapshots.expiry")
            .and_then(|e| expiry_from(chrono::Utc::now(), e))
            .unwrap_or_else(|| ZERO_TIME.to_string()),
    };
    let mut spec = OpSpec::task("Creating storage volume snapshot", &t.project);
    spec.resources = Some(resources("storage_volumes", &name));
    let (task_state, requestor) = (state.clone(), caller.requestor());
    let op = state.operations.start(spec, move |_| async move {
        let (pool_obj, driver, storage, s) = (
            t.pool.clone(),
            lxd_storage::driver(&t.row.driver).ok_or("Unknown driver")?,
            t.storage_name(&name),
            snap.clone(),
        );
        blocking(move || {
            driver
                .create_snapshot(&pool_obj, VolumeType::Custom, &storage, &s)
                .map(|_| ())
        })
        .await?;
        let row = VolumeSnapshotRow {
            name: snap.clone(),
            description: vol.description.clone(),
            created_at: crate::time::now_rfc3339(),
            expires_at,
            config: vol.config.clone(),
        };
        let (p, j, n) = (t.row.name.clone(), t.project.clone(), name.clone());
        task_state
            .db
            .write(move |c| {
                let key = lxd_db::volumes::VolumeKey {
                    pool: &p,
                    project: &j,
                    vol_type: "custom",
                    name: &n,
                };
                lxd_db::volumes::create_snapshot(c, key, &row)
            })
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &t.project,
            "storage-volume-snapshot-created",
            volume_url(&t.row.name, "custom", &format!("{name}/{snap}"), &t.project),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

fn load_snapshot(
    state: &AppState,
    t: &Target,
    name: &str,
    snap: &str,
) -> Result<VolumeSnapshotRow, ApiError> {
    load_custom(state, t, name)?;
    state
        .db
        .read(|c| lxd_db::volumes::snapshot(c, t.key(name), snap))
        .map_err(super::not_found)
}

fn snapshot_etag(row: &VolumeSnapshotRow) -> (String, String) {
    (row.description.clone(), row.expires_at.clone())
}

/// `GET .../volumes/{type}/{vol}/snapshots/{snap}`
pub async fn get_snapshot(
    State(state): State<AppState>,
    Path((pool, vol_type, name, snap)): Path<(String, String, String, String)>,
    params: Params,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    require_custom(ty, "shown")?;
    let t = target(&state, &pool, &params)?;
    let vol = load_custom(&state, &t, &name)?;
    let row = load_snapshot(&state, &t, &name, &snap)?;
    let api = StorageVolumeSnapshot {
        description: row.description.clone(),
        expires_at: Some(row.expires_at.clone()),
        name: row.name.clone(),
        config: row.config.clone(),
        content_type: vol.content_type,
        created_at: ZERO_TIME.into(),
    };
    Ok(ApiResponse::sync_etag(&api, snapshot_etag(&row)))
}

async fn edit(
    state: &AppState,
    (pool, vol_type, name, snap): (&str, &str, &str, &str),
    params: &Params,
    if_match: IfMatch,
    caller: &Caller,
    compute: impl FnOnce(&VolumeSnapshotRow) -> (String, String),
) -> ApiResult {
    let ty = parse_type(vol_type)?;
    require_custom(ty, "modified")?;
    let t = target(state, pool, params)?;
    let row = load_snapshot(state, &t, name, snap)?;
    if_match.check(&snapshot_etag(&row))?;
    let (description, expires_at) = compute(&row);
    let (p, j, n, s) = (
        t.row.name.clone(),
        t.project.clone(),
        name.to_string(),
        snap.to_string(),
    );
    state
        .db
        .write(move |c| {
            let key = lxd_db::volumes::VolumeKey {
                pool: &p,
                project: &j,
                vol_type: "custom",
                name: &n,
            };
            lxd_db::volumes::update_snapshot(c, key, &s, &description, &expires_at)
        })
        .await?;
    state.events.lifecycle(
        &t.project,
        "storage-volume-snapshot-updated",
        volume_url(&t.row.name, "custom", &format!("{name}/{snap}"), &t.project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}

fn expiry_or_never(at: Option<String>) -> String {
    at.filter(|a| !is_never(Some(a)))
        .unwrap_or_else(|| ZERO_TIME.to_string())
}

/// `PUT .../volumes/{type}/{vol}/snapshots/{snap}`
pub async fn put_snapshot(
    State(state): State<AppState>,
    Path((pool, vol_type, name, snap)): Path<(String, String, String, String)>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<StorageVolumeSnapshotPut>,
) -> ApiResult {
    edit(
        &state,
        (&pool, &vol_type, &name, &snap),
        &params,
        if_match,
        &caller,
        move |_| (req.description, expiry_or_never(req.expires_at)),
    )
    .await
}

/// `PATCH .../volumes/{type}/{vol}/snapshots/{snap}`
pub async fn patch_snapshot(
    State(state): State<AppState>,
    Path((pool, vol_type, name, snap)): Path<(String, String, String, String)>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<serde_json::Value>,
) -> ApiResult {
    let patch: StorageVolumeSnapshotPut =
        crate::api::extract::parse_json(req.to_string().as_bytes())?;
    let (has_description, has_expiry) = (
        req.get("description").is_some(),
        req.get("expires_at").is_some(),
    );
    edit(
        &state,
        (&pool, &vol_type, &name, &snap),
        &params,
        if_match,
        &caller,
        move |old| {
            (
                if has_description {
                    patch.description
                } else {
                    old.description.clone()
                },
                if has_expiry {
                    expiry_or_never(patch.expires_at)
                } else {
                    old.expires_at.clone()
                },
            )
        },
    )
    .await
}

/// `POST .../volumes/{type}/{vol}/snapshots/{snap}` (rename)
pub async fn post_snapshot(
    State(state): State<AppState>,
    Path((pool, vol_type, name, snap)): Path<(String, String, String, String)>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<StorageVolumeSnapshotPost>,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    require_custom(ty, "renamed")?;
    if req.migration {
        return Err(ApiError::NotImplemented(
            "Volume snapshot migration is not implemented".into(),
        ));
    }
    check_volume_name(&req.name)?;
    let t = target(&state, &pool, &params)?;
    load_snapshot(&state, &t, &name, &snap)?;
    if state
        .db
        .read(|c| lxd_db::volumes::snapshot(c, t.key(&name), &req.name))
        .is_ok()
    {
        return Err(ApiError::Conflict(format!(
            "Snapshot {:?} already in use",
            req.name
        )));
    }
    let mut spec = OpSpec::task("Renaming storage volume snapshot", &t.project);
    spec.resources = Some(resources("storage_volume_snapshots", &name));
    let (task_state, requestor) = (state.clone(), caller.requestor());
    let op = state.operations.start(spec, move |_| async move {
        let storage = t.storage_name(&name);
        let (from, to) = (
            format!("{storage}/{snap}"),
            format!("{storage}/{}", req.name),
        );
        let (pool_obj, driver) = (
            t.pool.clone(),
            lxd_storage::driver(&t.row.driver).ok_or("Unknown driver")?,
        );
        blocking(move || driver.rename_volume(&pool_obj, VolumeType::Custom, &from, &to)).await?;
        let (p, j, n, s, new) = (
            t.row.name.clone(),
            t.project.clone(),
            name.clone(),
            snap.clone(),
            req.name.clone(),
        );
        task_state
            .db
            .write(move |c| {
                let key = lxd_db::volumes::VolumeKey {
                    pool: &p,
                    project: &j,
                    vol_type: "custom",
                    name: &n,
                };
                lxd_db::volumes::rename_snapshot(c, key, &s, &new)
            })
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &t.project,
            "storage-volume-snapshot-renamed",
            volume_url(
                &t.row.name,
                "custom",
                &format!("{name}/{}", req.name),
                &t.project,
            ),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// `DELETE .../volumes/{type}/{vol}/snapshots/{snap}`
pub async fn delete_snapshot(
    State(state): State<AppState>,
    Path((pool, vol_type, name, snap)): Path<(String, String, String, String)>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    require_custom(ty, "deleted")?;
    let t = target(&state, &pool, &params)?;
    load_snapshot(&state, &t, &name, &snap)?;
    let mut spec = OpSpec::task("Deleting storage volume snapshot", &t.project);
    spec.resources = Some(resources("storage_volume_snapshots", &name));
    let (task_state, requestor) = (state.clone(), caller.requestor());
    let op = state.operations.start(spec, move |_| async move {
        let (pool_obj, driver, storage, s) = (
            t.pool.clone(),
            lxd_storage::driver(&t.row.driver).ok_or("Unknown driver")?,
            t.storage_name(&name),
            snap.clone(),
        );
        blocking(move || driver.delete_snapshot(&pool_obj, VolumeType::Custom, &storage, &s))
            .await?;
        let (p, j, n, s) = (
            t.row.name.clone(),
            t.project.clone(),
            name.clone(),
            snap.clone(),
        );
        task_state
            .db
            .write(move |c| {
                let key = lxd_db::volumes::VolumeKey {
                    pool: &p,
                    project: &j,
                    vol_type: "custom",
                    name: &n,
                };
                lxd_db::volumes::delete_snapshot(c, key, &s)
            })
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &t.project,
            "storage-volume-snapshot-deleted",
            volume_url(&t.row.name, "custom", &format!("{name}/{snap}"), &t.project),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
