//! `PUT` and `PATCH /1.0/instances/{name}`: edit config, devices, profiles and description as
//! an operation, validated as at creation; limits change live on a running container, and
//! devices are plugged and unplugged live (a device that fails to plug refuses the change).

use axum::extract::{Path, State};
use lxd_api::instance::InstancePut;
use lxd_shared::config::devices::check_device;
use lxd_shared::config::instance::check_instance_value;

use super::store::{expand, load, project_of};
use super::{instance_url, op_resources};
use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::instances::devices;
use crate::operations::OpSpec;
use crate::state::AppState;

fn validate(put: &InstancePut) -> Result<(), ApiError> {
    for (k, v) in &put.config {
        check_instance_value(k, v)
            .map_err(|e| ApiError::bad_request(format!("Invalid config: {e}")))?;
    }
    for (name, dev) in &put.devices {
        check_device(name, dev).map_err(|e| devices::refusal(e, "Invalid devices: "))?;
    }
    Ok(())
}

/// `PUT` with `restore`: an operation ("Restoring snapshot"); a running instance is stopped
/// first and started again afterwards, as LXD does.
async fn restore_snapshot(
    state: &AppState,
    inst: super::store::Loaded,
    snap: String,
    caller: Caller,
) -> ApiResult {
    // Clients send `snap0` or `c1/snap0`.
    let snap = snap.rsplit('/').next().unwrap_or_default().to_string();
    let (p, n) = (inst.project.clone(), inst.row.name.clone());
    state
        .db
        .read(|c| lxd_db::instances::snapshots::get(c, &p, &n, &snap))
        .map_err(|_| {
            ApiError::not_found(format!("Snapshot {:?} not found", format!("{n}/{snap}")))
        })?;
    let mut spec = OpSpec::task("Restoring snapshot", &inst.project);
    spec.resources = Some(op_resources(&inst.row.name, &inst.project));
    let task_state = state.clone();
    let _ = caller;
    let op = state.operations.start(spec, move |_| async move {
        let was_running = inst.running();
        if was_running {
            super::state::stop(&task_state, &inst, true, 0).await?;
        }
        super::snapshots::restore(&task_state, &inst, &snap).await?;
        if was_running {
            let reloaded =
                load(&task_state, &inst.project, &inst.row.name).map_err(|e| e.to_string())?;
            super::state::start(&task_state, &reloaded).await?;
        }
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}

/// What an instance takes at once when its expanded config changes to `new`: its cgroup
/// limits if it runs, then its AppArmor profile (re-rendered, checked and, if it runs, loaded
/// when `raw.apparmor` or `security.nesting` changed). Its own updates and edits of its
/// profiles both come through here.
pub fn apply_config(
    state: &AppState,
    inst: &super::store::Loaded,
    new: &lxd_api::ConfigMap,
) -> Result<(), String> {
    if inst.running() {
        crate::cgroups::update_limits(&inst.runtime_name(), &inst.expanded_config, new)
            .map_err(|e| format!("Invalid config: {e}"))?;
    }
    crate::apparmor::config_changed(
        &state.paths,
        &state.facts.apparmor,
        &inst.project,
        &inst.row.name,
        &inst.expanded_config,
        new,
        inst.running(),
    )
}

/// `PUT /1.0/instances/{name}`
pub async fn put_instance(
    state: State<AppState>,
    name: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<InstancePut>,
) -> ApiResult {
    update(state, name, params, if_match, caller, move |_| req).await
}

/// `PATCH /1.0/instances/{name}`: config keys and devices merge; other fields change when sent.
pub async fn patch_instance(
    state: State<AppState>,
    name: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<serde_json::Value>,
) -> ApiResult {
    let patch: InstancePut = crate::api::extract::parse_json(req.to_string().as_bytes())?;
    update(state, name, params, if_match, caller, move |old| {
        let mut next = old.clone();
        next.config.extend(patch.config);
        next.devices.extend(patch.devices);
        if req.get("profiles").is_some() {
            next.profiles = patch.profiles;
        }
        if req.get("description").is_some() {
            next.description = patch.description;
        }
        if req.get("ephemeral").is_some() {
            next.ephemeral = patch.ephemeral;
        }
        next
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    compute: impl FnOnce(&InstancePut) -> InstancePut,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let old = inst.to_api().writable();
    if_match.check(&old)?;
    let mut next = compute(&old);
    if !next.restore.is_empty() {
        return restore_snapshot(&state, inst, next.restore, caller).await;
    }
    next.config.retain(|_, v| !v.is_empty());
    // Volatile keys are the daemon's; keep the stored ones whatever the client sent.
    next.config.retain(|k, _| !k.starts_with("volatile."));
    next.config.extend(
        inst.row
            .config
            .iter()
            .filter(|(k, _)| k.starts_with("volatile."))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    validate(&next)?;
    crate::instances::disks::validate(&state, &project, &next.devices)
        .map_err(ApiError::bad_request)?;
    let mut row = inst.row.clone();
    row.config = next.config;
    row.devices = next.devices;
    row.profiles = next.profiles;
    row.description = next.description;
    row.ephemeral = next.ephemeral;
    if !next.architecture.is_empty() {
        row.architecture = next.architecture;
    }
    let (new_config, new_devices) = expand(&state, &project, &row)?;
    lxd_shared::config::devices::nic::check_names_unique(&new_devices)
        .map_err(|e| devices::refusal(e, "Invalid devices: "))?;
    // Devices' volatile keys: those of removed or replaced devices go, new NICs get a MAC and
    // a name.
    for key in devices::volatile::reset_keys(&inst.expanded_devices, &new_devices, &row.config) {
        row.config.remove(&key);
    }
    let filled = devices::volatile::fill_nic_keys(&new_devices, &row.config);
    row.config.extend(filled);
    // A change of the map's keys means a new map (LXD's Update), taken before anything is
    // written: a bad `raw.idmap` or an exhausted host range refuses the whole update.
    let allocating =
        if crate::instances::idmap::map_keys_changed(&inst.expanded_config, &new_config) {
            let guard = crate::instances::idmap::allocation_lock().await;
            let (next, base) =
                crate::instances::idmap::next_idmap(&state, &project, &name, &new_config)
                    .map_err(|e| ApiError::bad_request(format!("Failed to get ID map: {e}")))?;
            row.config
                .extend(crate::instances::idmap::next_keys(next.as_ref(), base));
            Some(guard)
        } else {
            None
        };
    apply_config(&state, &inst, &new_config).map_err(ApiError::bad_request)?;
    let mut spec = OpSpec::task("Updating instance", &project);
    spec.resources = Some(op_resources(&name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    let op = state.operations.start(spec, move |_| async move {
        let mut row = row;
        if inst.running() {
            let set = devices::hotplug::apply(
                &task_state,
                &inst,
                &inst.expanded_devices,
                &new_devices,
                &inst.row.config,
                &row.config,
            )
            .await?;
            row.config.extend(set);
        }
        let p = project.clone();
        task_state
            .db
            .write(move |c| lxd_db::instances::update(c, &p, &row))
            .await
            .map_err(|e| e.to_string())?;
        drop(allocating);
        task_state.events.lifecycle(
            &project,
            "instance-updated",
            instance_url(&name, &project, false),
            &requestor,
        );
        Ok(())
    });
    Ok(ApiResponse::operation(&op))
}
