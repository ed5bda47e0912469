//! `POST /1.0/instances/{name}`: rename a stopped instance (its volume, snapshots, log
//! directory and record); with `migration: true` it becomes a migration source
//! ([`super::migrate_source`]).
//! `PUT /1.0/instances`: the same state change for every instance (`lxc stop --all`).

use axum::extract::{Path, State};
use lxd_api::instance::{InstancePost, InstancesPut};
use lxd_shared::names::validate_instance_name;
use lxd_storage::VolumeType;

use super::store::{load, project_of, runtime_name};
use super::{instance_url, op_resources};
use crate::api::caller::Caller;
use crate::api::extract::{parse_json, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::OpSpec;
use crate::state::AppState;

/// `POST /1.0/instances/{name}`
pub async fn post_instance(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
    body: axum::body::Bytes,
) -> ApiResult {
    let raw: serde_json::Value = parse_json(&body)?;
    let req: InstancePost = parse_json(&body)?;
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    if req.migration {
        let live = super::migrate_source::requested_live(&raw);
        return super::migrate_source::start(state, inst, None, req, live).await;
    }
    validate_instance_name(&req.name)
        .map_err(|e| ApiError::bad_request(format!("Invalid instance name: {e}")))?;
    if inst.running() {
        return Err(ApiError::bad_request(
            "Renaming of running instance not allowed",
        ));
    }
    if state
        .db
        .read(|c| lxd_db::instances::get(c, &project, &req.name))
        .is_ok()
    {
        return Err(ApiError::Conflict(format!(
            "Name {:?} already in use",
            req.name
        )));
    }
    let mut spec = OpSpec::task("Renaming instance", &project);
    spec.resources = Some(op_resources(&name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let new = req.name.clone();
    let op = state.operations.start(spec, move |_| async move {
        let (old_storage, new_storage) = (inst.runtime_name(), runtime_name(&project, &new));
        if let Some(pool_name) = inst.root_pool() {
            let pool_row = task_state
                .db
                .read(|c| lxd_db::pools::get(c, &pool_name))
                .map_err(|e| e.to_string())?;
            let (pool, driver) = crate::instances::rootfs::pool(&task_state.paths, &pool_row)
                .map_err(|e| e.to_string())?;
            let (o, n, paths) = (
                old_storage.clone(),
                new_storage.clone(),
                task_state.paths.clone(),
            );
            tokio::task::spawn_blocking(move || {
                driver.rename_volume(&pool, VolumeType::Container, &o, &n)?;
                let path = driver.mount_path(&pool, VolumeType::Container, &n);
                let _ = std::fs::remove_file(paths.var.join("containers").join(&o));
                crate::instances::rootfs::link_volume(&paths, &n, &path);
                Ok::<(), lxd_storage::StorageError>(())
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        }
        crate::apparmor::remove(
            &task_state.paths,
            &task_state.facts.apparmor,
            &project,
            &inst.row.name,
        );
        let old_logs = crate::runtime::state_dir(&task_state.paths, &old_storage);
        if old_logs.exists() {
            let _ = std::fs::rename(
                &old_logs,
                crate::runtime::state_dir(&task_state.paths, &new_storage),
            );
        }
        let (p, o, n) = (project.clone(), inst.row.name.clone(), new.clone());
        task_state
            .db
            .write(move |c| {
                lxd_db::instances::rename(c, &p, &o, &n)?;
                lxd_db::instances::set_config_keys(
                    c,
                    &p,
                    &n,
                    // A new cloud-init instance-id makes cloud-init run again under the new name.
                    &[
                        ("volatile.apply_template".to_string(), "rename".to_string()),
                        (
                            "volatile.cloud-init.instance-id".to_string(),
                            uuid::Uuid::new_v4().to_string(),
                        ),
                    ]
                    .into(),
                )
            })
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &project,
            "instance-renamed",
            instance_url(&new, &project, false),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// `PUT /1.0/instances`: apply one state change to every instance of the project.
pub async fn put_instances(
    State(state): State<AppState>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<InstancesPut>,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let action = req
        .state
        .ok_or_else(|| ApiError::bad_request("No state given"))?;
    let names = state.db.read(|c| lxd_db::instances::names(c, &project))?;
    let mut spec = OpSpec::task("Updating instances", &project);
    spec.resources = Some(
        [(
            "instances".to_string(),
            names
                .iter()
                .map(|n| instance_url(n, &project, false))
                .collect(),
        )]
        .into(),
    );
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        for name in names {
            let inst = load(&task_state, &project, &name).map_err(|e| e.to_string())?;
            let relevant = match action.action.as_str() {
                "start" => !inst.running(),
                "stop" | "restart" | "freeze" => inst.running(),
                "unfreeze" => inst.frozen(),
                _ => false,
            };
            if relevant {
                super::state::act(&task_state, inst, action.clone(), requestor.clone()).await?;
            }
        }
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
