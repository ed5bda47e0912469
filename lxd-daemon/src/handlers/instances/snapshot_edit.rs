//! `POST /1.0/instances/{name}/snapshots/{snap}` (rename, or with `migration: true` a
//! migration source, [`super::migrate_source`]) and `PUT`/`PATCH` on a snapshot, which change only its `expires_at`, with
//! LXD 5.0.2's checks, error texts and ETag (the hash of `[expires_at]`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use lxd_db::instances::snapshots;
use lxd_storage::VolumeType;
use serde_json::Value;

use super::op_resources;
use super::snapshots::{load_snapshot, snapshot_url, storage};
use super::store::{load, project_of};
use crate::api::caller::Caller;
use crate::api::extract::{parse_json, IfMatch, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

/// lxd's `validate.IsURLSegmentSafe`.
fn url_segment_safe(name: &str) -> Result<(), ApiError> {
    match ["/", "?", "&", "+"].iter().find(|c| name.contains(**c)) {
        Some(c) => Err(ApiError::bad_request(format!(
            "Invalid snapshot name: Cannot contain {c:?}"
        ))),
        None => Ok(()),
    }
}

/// `POST /1.0/instances/{name}/snapshots/{snap}`
pub async fn post_snapshot(
    State(state): State<AppState>,
    Path((name, snap)): Path<(String, String)>,
    params: Params,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let row = load_snapshot(&state, &project, &name, &snap)?;
    let raw: Value = parse_json(&body)?;
    if raw.get("migration").and_then(Value::as_bool) == Some(true) {
        return super::migrate_source::start_snapshot(state, inst, row, &raw).await;
    }
    let new = match raw.get("name") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::bad_request("`name` is not a string")),
        None => return Err(ApiError::bad_request("Response was missing `name`")),
    };
    url_segment_safe(&new)?;
    if state
        .db
        .read(|c| snapshots::get(c, &project, &name, &new))
        .is_ok()
    {
        return Err(ApiError::Conflict(format!(
            "Name '{name}/{new}' already in use"
        )));
    }
    let mut spec = OpSpec::task("Renaming snapshot", &project);
    spec.resources = Some(op_resources(&name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        if new.contains(' ') {
            return Err(
                "Invalid instance snapshot name: Cannot contain space or / characters".into(),
            );
        }
        let (pool, driver) = storage(&task_state, &inst)?;
        let vol = inst.runtime_name();
        let (old_full, new_full) = (format!("{vol}/{snap}"), format!("{vol}/{new}"));
        if new.is_empty() {
            // LXD renames the snapshot onto its own parent directory, which exists.
            let from = driver.mount_path(&pool, VolumeType::Container, &old_full);
            let to = from.parent().map(|p| p.to_path_buf()).unwrap_or_default();
            return Err(format!(
                "Rename instance snapshot: Failed to rename {:?} to {:?}: rename {} {}: file exists",
                from.display().to_string(),
                to.display().to_string(),
                from.display(),
                to.display()
            ));
        }
        let (o, n) = (old_full.clone(), new_full.clone());
        let (p2, d2) = (pool.clone(), storage(&task_state, &inst)?.1);
        tokio::task::spawn_blocking(move || {
            driver.rename_volume(&pool, VolumeType::Container, &o, &n)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("Rename instance snapshot: {e}"))?;
        let (p, i, s, n) = (project.clone(), name.clone(), snap.clone(), new.clone());
        let written = task_state
            .db
            .write(move |c| snapshots::rename(c, &p, &i, &s, &n))
            .await;
        if let Err(e) = written {
            let _ = tokio::task::spawn_blocking(move || {
                d2.rename_volume(&p2, VolumeType::Container, &new_full, &old_full)
            })
            .await;
            return Err(e.to_string());
        }
        task_state.events.lifecycle(
            &project,
            "instance-snapshot-renamed",
            snapshot_url(&name, &new),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// `PUT /1.0/instances/{name}/snapshots/{snap}`
pub async fn put_snapshot(
    state: State<AppState>,
    path: Path<(String, String)>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    update(state, path, params, if_match, caller, body).await
}

/// `PATCH /1.0/instances/{name}/snapshots/{snap}`: the same as `PUT`, as in LXD (only
/// `expires_at` is writable).
pub async fn patch_snapshot(
    state: State<AppState>,
    path: Path<(String, String)>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    update(state, path, params, if_match, caller, body).await
}

async fn update(
    State(state): State<AppState>,
    Path((name, snap)): Path<(String, String)>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    body: Bytes,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    load(&state, &project, &name)?;
    let row = load_snapshot(&state, &project, &name, &snap)?;
    let current = lxd_shared::etag::etag_hash(&[&row.expires_at]);
    if let Some(tag) = if_match.0.as_ref().filter(|t| **t != current) {
        return Err(ApiError::PreconditionFailed(format!(
            "ETag doesn't match: {current} vs {tag}"
        )));
    }
    let raw: Value = parse_json(&body).map_err(|e| ApiError::internal(e.to_string()))?;
    let expires_at = match raw.get("expires_at") {
        Some(Value::String(t)) => Some(crate::time::normalise(t).map_err(ApiError::bad_request)?),
        _ => None,
    };
    // LXD names the snapshot itself (not its instance) in this operation's resources.
    let mut spec = OpSpec::task("Updating snapshot", &project);
    spec.resources = Some(op_resources(&snap, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        let Some(expires_at) = expires_at else {
            return Ok(());
        };
        let (p, i, s) = (project.clone(), name.clone(), snap.clone());
        task_state
            .db
            .write(move |c| snapshots::set_expiry(c, &p, &i, &s, &expires_at))
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &project,
            "instance-snapshot-updated",
            snapshot_url(&name, &snap),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
