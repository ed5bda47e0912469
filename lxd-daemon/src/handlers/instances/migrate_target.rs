//! The migration target: `POST /1.0/instances` with `source.type: migration`. The instance
//! record is written before the operation starts (so a taken name fails at once, with LXD's
//! text); in pull mode the operation dials the source's websockets, in push mode it is a
//! websocket operation the source (or a relaying client) connects to. A failed transfer
//! removes the new instance again; a refresh keeps the existing one.

use lxd_api::instance::InstancesPost;
use lxd_api::OperationClass;
use lxd_db::instances::InstanceRow;
use lxd_db::pools::PoolRow;

use super::store::{load, root_pool, runtime_name};
use super::{instance_url, op_resources};
use crate::api::caller::Caller;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::migration::sink::Sink;
use crate::operations::OpSpec;
use crate::state::AppState;

/// The root disk entry of a device map (`type: disk`, `path: /`, no `source`).
fn root_disk_key(devices: &lxd_api::DevicesMap) -> Option<String> {
    devices
        .iter()
        .find(|(_, d)| lxd_api::is_root_disk(d) && d.get("source").is_none_or(|s| s.is_empty()))
        .map(|(k, _)| k.clone())
}

/// LXD's `instanceFindStoragePool`: the root disk's pool when it exists here, else the last
/// profile's, else the only pool; a root disk device is added (or completed) when only the
/// request names the pool.
fn find_pool(
    state: &AppState,
    project: &str,
    req: &mut InstancesPost,
    profiles: &[String],
) -> Result<PoolRow, ApiError> {
    let local_key = root_disk_key(&req.devices);
    let mut pool = local_key
        .as_ref()
        .and_then(|k| req.devices[k].get("pool").cloned())
        .unwrap_or_default();
    if !pool.is_empty() && state.db.read(|c| lxd_db::pools::get(c, &pool)).is_err() {
        pool.clear();
        if let Some(k) = &local_key {
            req.devices
                .get_mut(k)
                .map(|d| d.insert("pool".into(), String::new()));
        }
    }
    let mut from_profile = false;
    if pool.is_empty() {
        let profile_project = state
            .db
            .read(|c| lxd_db::profiles::effective_project(c, project))?;
        for name in profiles {
            let profile = state
                .db
                .read(|c| lxd_db::profiles::get(c, &profile_project, name))
                .map_err(|_| ApiError::not_found("Profile not found"))?;
            if let Some(p) = root_pool(&profile.devices).filter(|p| !p.is_empty()) {
                pool = p;
                from_profile = true;
            }
        }
    }
    if pool.is_empty() {
        let names = state.db.read(lxd_db::pools::names)?;
        if names.is_empty() {
            return Err(ApiError::bad_request(
                "This LXD instance does not have any storage pools configured",
            ));
        }
        if names.len() == 1 {
            pool = names[0].clone();
        }
    }
    if pool.is_empty() {
        return Err(ApiError::bad_request(
            "Can't find a storage pool for the instance to use",
        ));
    }
    match &local_key {
        None if !from_profile => {
            let mut name = "root".to_string();
            for i in 0..100 {
                if !req.devices.contains_key(&name) {
                    break;
                }
                name = format!("root{i}");
            }
            req.devices.insert(
                name,
                [
                    ("type".to_string(), "disk".to_string()),
                    ("path".to_string(), "/".to_string()),
                    ("pool".to_string(), pool.clone()),
                ]
                .into(),
            );
        }
        Some(k) if req.devices[k].get("pool").is_none_or(|p| p.is_empty()) => {
            req.devices
                .get_mut(k)
                .map(|d| d.insert("pool".into(), pool.clone()));
        }
        _ => {}
    }
    state
        .db
        .read(|c| lxd_db::pools::get(c, &pool))
        .map_err(ApiError::from)
}

/// `POST /1.0/instances` with a `migration` source.
pub async fn create(
    state: AppState,
    project: String,
    mut req: InstancesPost,
    caller: Caller,
) -> ApiResult {
    let mode = req.source.mode.clone();
    if mode != "pull" && mode != "push" {
        return Err(ApiError::NotImplemented(format!(
            "Mode {mode:?} not implemented"
        )));
    }
    if !req.architecture.is_empty()
        && crate::migration::records::architecture_id(&req.architecture) == 0
    {
        return Err(ApiError::bad_request(format!(
            "Architecture isn't supported: {}",
            req.architecture
        )));
    }
    let profiles = req
        .profiles
        .clone()
        .unwrap_or_else(|| vec!["default".to_string()]);
    let pool_row = find_pool(&state, &project, &mut req, &profiles)?;
    let mut refresh = req.source.refresh;
    if refresh
        && state
            .db
            .read(|c| lxd_db::instances::get(c, &project, &req.name))
            .is_err()
    {
        refresh = false;
    }
    let live = req.source.live;
    if live && !crate::migration::criu_installed() {
        return Err(ApiError::internal(
            "Unable to perform container live migration. CRIU isn't installed on the destination server",
        ));
    }
    if mode == "pull" {
        for name in ["control", "fs"] {
            if !req.source.websockets.contains_key(name) {
                return Err(ApiError::internal(format!("Missing {name} secret")));
            }
        }
        let cert = req.source.certificate.trim();
        if !cert.is_empty() && !cert.starts_with("-----BEGIN") {
            return Err(ApiError::internal("Invalid certificate"));
        }
    }
    if !refresh {
        write_record(&state, &project, &req, &profiles).await?;
    }

    let sink = Sink {
        state: state.clone(),
        project: project.clone(),
        name: req.name.clone(),
        pool_row,
        refresh,
        live,
        instance_only: req.source.instance_only || req.source.container_only,
    };
    let mut spec = OpSpec::task("Creating instance", &project);
    spec.resources = Some(op_resources(&req.name, &project));
    let push = mode == "push";
    if push {
        let secrets = crate::migration::new_secrets(live);
        spec.class = OperationClass::Websocket;
        spec.metadata = Some(crate::migration::secrets_metadata(&secrets));
        spec.secrets = secrets;
    }
    let requestor = caller.requestor();
    let task_state = state.clone();
    let source = req.source.clone();
    let name = req.name.clone();
    let op = state.operations.start(spec, move |op| async move {
        let sockets = if push {
            crate::migration::accept(&op, live).await
        } else {
            crate::migration::connect(&source.operation, &source.websockets, &source.certificate)
                .await
        };
        let result = match sockets {
            Ok(sockets) => sink.run(sockets, op).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            if !refresh {
                remove_instance(&task_state, &project, &name).await;
            }
            return Err(format!("Error transferring instance data: {e}"));
        }
        let (p, n) = (project.clone(), name.clone());
        task_state
            .db
            .write(move |c| {
                lxd_db::instances::set_config_keys(
                    c,
                    &p,
                    &n,
                    &[("volatile.apply_template".to_string(), "copy".to_string())].into(),
                )
            })
            .await
            .map_err(|e| e.to_string())?;
        task_state.events.lifecycle(
            &project,
            "instance-created",
            instance_url(&name, &project, false),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// Write the new instance's record (LXD's `CreateInternal` for a migration).
async fn write_record(
    state: &AppState,
    project: &str,
    req: &InstancesPost,
    profiles: &[String],
) -> Result<(), ApiError> {
    if state
        .db
        .read(|c| lxd_db::instances::get(c, project, &req.name))
        .is_ok()
    {
        return Err(ApiError::internal(
            "Failed creating instance record: Add instance info to the database: This \"instances\" entry already exists",
        ));
    }
    let mut config = req.config.clone();
    if !req.source.base_image.is_empty() {
        config.insert("volatile.base_image".into(), req.source.base_image.clone());
    }
    if config.get("volatile.uuid").is_none_or(|u| u.is_empty()) {
        config.insert("volatile.uuid".into(), uuid::Uuid::new_v4().to_string());
    }
    let row = InstanceRow {
        name: req.name.clone(),
        kind: "container".into(),
        architecture: if req.architecture.is_empty() {
            "x86_64".into()
        } else {
            req.architecture.clone()
        },
        ephemeral: req.ephemeral,
        stateful: req.stateful,
        description: req.description.clone(),
        created_at: crate::time::now_rfc3339(),
        last_used_at: lxd_api::image::ZERO_TIME.to_string(),
        config,
        devices: req.devices.clone(),
        profiles: profiles.to_vec(),
    };
    let p = project.to_string();
    state
        .db
        .write(move |c| lxd_db::instances::create(c, &p, &row))
        .await
        .map_err(|e| ApiError::internal(format!("Failed creating instance record: {e}")))
}

/// Remove what a failed migration left of a new instance: volume, snapshots, record.
async fn remove_instance(state: &AppState, project: &str, name: &str) {
    let Ok(inst) = load(state, project, name) else {
        return;
    };
    let storage = runtime_name(project, name);
    if let Some(pool_name) = inst.root_pool() {
        if let Ok(row) = state.db.read(|c| lxd_db::pools::get(c, &pool_name)) {
            let paths = state.paths.clone();
            let snaps = state
                .db
                .read(|c| lxd_db::instances::snapshots::names(c, project, name))
                .unwrap_or_default();
            let _ = tokio::task::spawn_blocking(move || {
                if let Ok((pool, driver)) = crate::instances::rootfs::pool(&paths, &row) {
                    for s in &snaps {
                        let _ = driver.delete_snapshot(
                            &pool,
                            lxd_storage::VolumeType::Container,
                            &storage,
                            s,
                        );
                    }
                }
                let _ = crate::instances::rootfs::delete(&paths, &row, &storage);
            })
            .await;
        }
    }
    let (p, n) = (project.to_string(), name.to_string());
    let _ = state
        .db
        .write(move |c| lxd_db::instances::delete(c, &p, &n))
        .await;
}
