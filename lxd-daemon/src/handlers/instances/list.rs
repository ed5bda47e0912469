//! `GET /1.0/instances` and `/1.0/instances/{name}` (also on the legacy `/1.0/containers`).

use axum::extract::{OriginalUri, Path, State};
use lxd_api::instance::{InstanceFull, InstanceState};

use super::instance_url;
use super::store::{load, project_of, Loaded};
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

fn legacy(uri: &OriginalUri) -> bool {
    uri.path().starts_with("/1.0/containers")
}

/// The `state` of a loaded instance (recursion 2 and `GET .../state`).
pub fn instance_state(inst: &Loaded) -> InstanceState {
    let status = inst.status();
    let usage = inst
        .init_pid
        .and_then(|_| crate::cgroups::usage(&inst.row.name))
        .unwrap_or_default();
    InstanceState {
        status: status.text().to_string(),
        status_code: status.code(),
        disk: None,
        memory: lxd_api::instance::InstanceStateMemory {
            usage: usage.memory as i64,
            usage_peak: usage.memory_peak as i64,
            swap_usage: usage.swap as i64,
            swap_usage_peak: usage.swap_peak as i64,
        },
        network: inst.init_pid.map(|pid| {
            crate::instances::devices::network_state::read(
                pid,
                &inst.expanded_devices,
                &inst.row.config,
            )
            .unwrap_or_default()
        }),
        pid: inst.init_pid.map(i64::from).unwrap_or(0),
        processes: if inst.running() {
            usage.processes as i64
        } else {
            0
        },
        cpu: lxd_api::instance::InstanceStateCpu {
            usage: usage.cpu_ns as i64,
        },
    }
}

/// `GET /1.0/instances`: URLs, objects (recursion 1, no runtime state), or full objects with
/// state (recursion 2).
pub async fn get_instances(
    State(state): State<AppState>,
    uri: OriginalUri,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let mut names = state.db.read(|c| lxd_db::instances::names(c, &project))?;
    let legacy = legacy(&uri);
    let filter =
        super::filter::parse(params.get("filter").unwrap_or("")).map_err(ApiError::bad_request)?;
    if let Some(filter) = &filter {
        let mut kept = Vec::new();
        for n in names {
            let inst = load(&state, &project, &n)?;
            let json = serde_json::to_value(inst.to_api()).unwrap_or_default();
            if super::filter::matches(filter, &json) {
                kept.push(n);
            }
        }
        names = kept;
    }
    match params.recursion() {
        0 => Ok(ApiResponse::sync(
            names
                .iter()
                .map(|n| instance_url(n, &project, legacy))
                .collect::<Vec<_>>(),
        )),
        1 => {
            let list = names
                .iter()
                .map(|n| load(&state, &project, n).map(|i| i.to_api()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ApiResponse::sync(list))
        }
        _ => {
            let mut list = Vec::new();
            for n in &names {
                let inst = load(&state, &project, n)?;
                let st = instance_state(&inst);
                let snapshots = super::snapshots::list(&state, &project, n)?;
                list.push(InstanceFull {
                    instance: inst.to_api(),
                    backups: Vec::new(),
                    state: Some(st),
                    snapshots,
                });
            }
            Ok(ApiResponse::sync(list))
        }
    }
}

/// `GET /1.0/instances/{name}` (`?recursion=1`: with state, snapshots and backups)
pub async fn get_instance(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let api = inst.to_api();
    let etag = api.writable();
    if params.recursion() > 0 {
        // `instance_get_full`: the instance with its state, snapshots and backups.
        let full = InstanceFull {
            state: Some(instance_state(&inst)),
            snapshots: super::snapshots::list(&state, &project, &name)?,
            backups: super::backups::records(&state, &inst),
            instance: api,
        };
        return Ok(ApiResponse::sync_etag(full, etag));
    }
    Ok(ApiResponse::sync_etag(api, etag))
}

/// `GET /1.0/instances/{name}/state`
pub async fn get_instance_state(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    Ok(ApiResponse::sync(instance_state(&inst)))
}
