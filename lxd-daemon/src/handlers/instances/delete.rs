//! `DELETE /1.0/instances/{name}`: refused while running; otherwise an operation that removes
//! the volume, the monitor's files, the device files and the record.

use axum::extract::{Path, State};

use super::store::{load, project_of, Loaded};
use super::{instance_url, op_resources};
use crate::api::caller::Caller;
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

/// Remove a stopped instance entirely.
pub async fn remove(state: &AppState, inst: &Loaded) -> Result<(), String> {
    let snaps = state
        .db
        .read(|c| lxd_db::instances::snapshots::names(c, &inst.project, &inst.row.name))
        .map_err(|e| e.to_string())?;
    for snap in snaps {
        super::snapshots::remove_snapshot(state, inst, &snap).await?;
    }
    if let Some(pool_name) = inst.root_pool() {
        if let Ok(pool) = state.db.read(|c| lxd_db::pools::get(c, &pool_name)) {
            let (paths, name) = (state.paths.clone(), inst.runtime_name());
            tokio::task::spawn_blocking(move || {
                crate::instances::rootfs::delete(&paths, &pool, &name)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        }
    }
    let _ = std::fs::remove_dir_all(crate::runtime::state_dir(
        &state.paths,
        &inst.runtime_name(),
    ));
    crate::apparmor::remove(
        &state.paths,
        &state.facts.apparmor,
        &inst.project,
        &inst.row.name,
    );
    let devices = crate::instances::devices::devices_dir(&state.paths, &inst.runtime_name());
    crate::instances::devices::cleanup(
        &devices,
        crate::instances::devices::recorded_host_names(&inst.row.config),
    );
    let _ = std::fs::remove_dir_all(devices);
    let backups = state
        .paths
        .var
        .join("backups/instances")
        .join(inst.runtime_name());
    let _ = std::fs::remove_dir_all(backups);
    let (p, n) = (inst.project.clone(), inst.row.name.clone());
    state
        .db
        .write(move |c| lxd_db::instances::delete(c, &p, &n))
        .await
        .map_err(|e| e.to_string())
}

/// `DELETE /1.0/instances/{name}`
pub async fn delete_instance(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    if inst.running() {
        return Err(ApiError::bad_request("Instance is running"));
    }
    let mut spec = OpSpec::task("Deleting instance", &project);
    spec.resources = Some(op_resources(&name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        remove(&task_state, &inst).await?;
        let url = instance_url(&inst.row.name, &inst.project, false);
        task_state
            .events
            .lifecycle(&inst.project, "instance-deleted", url, &requestor);
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
