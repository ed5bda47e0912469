//! `GET /1.0/storage-pools/{pool}/volumes[/{type}]`, `GET .../{type}/{vol}` and
//! `GET .../{type}/{vol}/state`: instance volumes (with their snapshots), custom volumes (with
//! their snapshots) and image volumes on btrfs pools, in LXD's order and shape.

use axum::extract::{Path, State};
use lxd_api::{StorageVolume, StorageVolumeState, StorageVolumeStateUsage};
use lxd_storage::VolumeType;

use super::{custom_to_api, load_custom, parse_type, target, volume_url, Target, ZERO_TIME};
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::handlers::instances::instance_url;
use crate::state::AppState;

fn derived(name: &str, vol_type: VolumeType, project: &str, used: String) -> StorageVolume {
    StorageVolume {
        name: name.to_string(),
        kind: vol_type.as_str().to_string(),
        used_by: Some(vec![used]),
        location: "none".into(),
        content_type: "filesystem".into(),
        project: project.to_string(),
        created_at: ZERO_TIME.to_string(),
        ..Default::default()
    }
}

/// Every volume of the pool of `vol_type` (all types when `None`) visible from the request.
fn collect(
    state: &AppState,
    t: &Target,
    request_project: &str,
    all_projects: bool,
    only: Option<VolumeType>,
) -> Result<Vec<StorageVolume>, ApiError> {
    let wanted = |ty: VolumeType| only.is_none_or(|o| o == ty);
    let mut out = Vec::new();
    if wanted(VolumeType::Container) {
        let instances = state
            .db
            .read(|c| super::used_by::instances_on_pool(c, &t.row.name))?;
        for (project, name) in instances {
            if !all_projects && project != request_project {
                continue;
            }
            out.push(derived(
                &name,
                VolumeType::Container,
                &project,
                instance_url(&name, &project, false),
            ));
            let snaps = state
                .db
                .read(|c| lxd_db::instances::snapshots::names(c, &project, &name))?;
            for snap in snaps {
                let url = format!("/1.0/instances/{name}/snapshots/{snap}");
                let url = if project == "default" {
                    url
                } else {
                    format!("{url}?project={project}")
                };
                out.push(derived(
                    &format!("{name}/{snap}"),
                    VolumeType::Container,
                    &project,
                    url,
                ));
            }
        }
    }
    if wanted(VolumeType::Custom) {
        let filter = (!all_projects).then_some(t.project.as_str());
        let rows = state
            .db
            .read(|c| lxd_db::volumes::list(c, &t.row.name, filter))?;
        for (project, row) in rows {
            let key = lxd_db::volumes::VolumeKey {
                pool: &t.row.name,
                project: &project,
                vol_type: "custom",
                name: &row.name,
            };
            let snaps = state.db.read(|c| lxd_db::volumes::snapshots(c, key))?;
            let (name, content_type) = (row.name.clone(), row.content_type.clone());
            out.push(custom_to_api(state, &t.row.name, &project, row)?);
            for snap in snaps {
                out.push(StorageVolume {
                    config: snap.config,
                    description: snap.description,
                    name: format!("{name}/{}", snap.name),
                    kind: "custom".into(),
                    used_by: Some(Vec::new()),
                    location: "none".into(),
                    content_type: content_type.clone(),
                    project: project.clone(),
                    created_at: ZERO_TIME.to_string(),
                    ..Default::default()
                });
            }
        }
    }
    if wanted(VolumeType::Image) && t.row.driver == "btrfs" {
        let dir = t.pool.mount.join(VolumeType::Image.dir());
        for fp in lxd_storage::fsutil::list_dir(&dir).unwrap_or_default() {
            if fp.len() == 64 && fp.chars().all(|c| c.is_ascii_hexdigit()) {
                let used = format!("/1.0/images/{fp}");
                out.push(derived(&fp, VolumeType::Image, "default", used));
            }
        }
    }
    Ok(out)
}

fn answer(t: &Target, vols: Vec<StorageVolume>, params: &Params) -> ApiResult {
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            vols.iter()
                .map(|v| volume_url(&t.row.name, &v.kind, &v.name, &v.project))
                .collect::<Vec<_>>(),
        ));
    }
    Ok(ApiResponse::sync(vols))
}

/// Apply `?filter=` (LXD's `api_filtering` on volumes) when given.
fn filtered(vols: Vec<StorageVolume>, params: &Params) -> Result<Vec<StorageVolume>, ApiError> {
    let Some(expr) = params.get("filter").filter(|f| !f.is_empty()) else {
        return Ok(vols);
    };
    use crate::handlers::instances::filter;
    let Some(f) = filter::parse(expr).map_err(ApiError::bad_request)? else {
        return Ok(vols);
    };
    Ok(vols
        .into_iter()
        .filter(|v| filter::matches(&f, &serde_json::to_value(v).unwrap_or_default()))
        .collect())
}

/// `GET /1.0/storage-pools/{name}/volumes`
pub async fn get_volumes(
    State(state): State<AppState>,
    Path(pool): Path<String>,
    params: Params,
) -> ApiResult {
    let t = target(&state, &pool, &params)?;
    let all = params.get("all-projects") == Some("true");
    let vols = collect(&state, &t, params.project(), all, None)?;
    answer(&t, filtered(vols, &params)?, &params)
}

/// `GET /1.0/storage-pools/{name}/volumes/{type}`
pub async fn get_volumes_of_type(
    State(state): State<AppState>,
    Path((pool, vol_type)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    let t = target(&state, &pool, &params)?;
    let all = params.get("all-projects") == Some("true");
    let vols = collect(&state, &t, params.project(), all, Some(ty))?;
    answer(&t, filtered(vols, &params)?, &params)
}

/// One volume of any type.
pub fn show(
    state: &AppState,
    t: &Target,
    ty: VolumeType,
    name: &str,
    project: &str,
) -> Result<StorageVolume, ApiError> {
    if ty == VolumeType::Custom {
        let row = load_custom(state, t, name)?;
        return custom_to_api(state, &t.row.name, &t.project, row);
    }
    collect(state, t, project, false, Some(ty))?
        .into_iter()
        .find(|v| v.name == name)
        .ok_or_else(|| ApiError::not_found("Storage pool volume not found"))
}

/// `GET /1.0/storage-pools/{name}/volumes/{type}/{vol}`
pub async fn get_volume(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    let t = target(&state, &pool, &params)?;
    let vol = show(&state, &t, ty, &name, params.project())?;
    let etag = (&vol.name, &vol.kind, &vol.config);
    Ok(ApiResponse::sync_etag(&vol, etag))
}

/// `GET /1.0/storage-pools/{name}/volumes/{type}/{vol}/state`: usage of btrfs volumes with a
/// quota; anything else answers LXD's "Not supported".
pub async fn get_volume_state(
    State(state): State<AppState>,
    Path((pool, vol_type, name)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult {
    let ty = parse_type(&vol_type)?;
    let t = target(&state, &pool, &params)?;
    let vol = show(&state, &t, ty, &name, params.project())?;
    // LXD measures only volumes with a quota on drivers that can (btrfs qgroups).
    let quota = super::config::size_of(&vol.config);
    if t.row.driver != "btrfs" || quota.is_none() {
        return Err(ApiError::internal("Not supported"));
    }
    let storage_name = match ty {
        VolumeType::Custom => t.storage_name(&name),
        _ => crate::handlers::instances::store::runtime_name(&vol.project, &name),
    };
    let total = quota.map_or(-1, |s| s as i64);
    let (pool_obj, driver) = (t.pool.clone(), t.driver);
    let used = super::blocking(move || driver.volume_usage(&pool_obj, ty, &storage_name))
        .await
        .map_err(ApiError::internal)?;
    Ok(ApiResponse::sync(StorageVolumeState {
        usage: Some(StorageVolumeStateUsage { used, total }),
    }))
}
