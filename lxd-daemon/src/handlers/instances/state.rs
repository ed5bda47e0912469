//! `PUT /1.0/instances/{name}/state`: start, stop, restart (freeze and unfreeze need the
//! freezer, which comes with the cgroup work), each as an operation.

use axum::extract::{Path, State};
use lxd_api::instance::InstanceStatePut;

use super::store::{load, project_of, Loaded};
use super::{instance_url, op_resources};
use crate::api::caller::Caller;
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::events::Requestor;
use crate::instances::devices;
use crate::operations::OpSpec;
use crate::state::AppState;

/// Start `inst`: id maps (the rootfs shifted on disk where it must be), templates, spec,
/// monitor; records `volatile.*` and `last_used_at`.
pub async fn start(state: &AppState, inst: &Loaded) -> Result<(), String> {
    start_from(state, inst, None).await
}

/// Start `inst`, or with `checkpoint` restore it from that CRIU images directory (a live
/// migration's target; templates are not applied then, the processes keep what they had).
pub async fn start_from(
    state: &AppState,
    inst: &Loaded,
    checkpoint: Option<std::path::PathBuf>,
) -> Result<(), String> {
    let pool_name = inst
        .root_pool()
        .ok_or("Failed getting root disk: No root device could be found")?;
    let pool = state
        .db
        .read(|c| lxd_db::pools::get(c, &pool_name))
        .map_err(|e| e.to_string())?;
    let storage_name = inst.runtime_name();
    let volume = crate::instances::rootfs::volume_path(&state.paths, &pool, &storage_name)
        .map_err(|e| e.to_string())?;
    let maps = crate::instances::start_maps::prepare(
        state,
        crate::instances::start_maps::StartTarget {
            project: &inst.project,
            name: &inst.row.name,
            expanded: &inst.expanded_config,
        },
        &volume.join("rootfs"),
    )
    .await?;
    let mut keys = lxd_api::ConfigMap::new();
    let (vol, name, arch, ephemeral, config, devices) = (
        volume.clone(),
        inst.row.name.clone(),
        inst.row.architecture.clone(),
        inst.row.ephemeral,
        inst.expanded_config.clone(),
        inst.expanded_devices.clone(),
    );
    let owner = maps.root_owner;
    let pending = checkpoint.is_none()
        && tokio::task::spawn_blocking(move || {
            crate::instances::templates::apply_at_start(
                &vol, &name, &arch, ephemeral, &config, &devices, owner,
            )
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("Failed to apply templates: {e}"))?;
    if pending {
        keys.insert("volatile.apply_template".into(), String::new());
    }
    let mut spec = crate::instances::spec::container_spec(
        &state.paths,
        &inst.row.name,
        &volume,
        &inst.expanded_config,
        maps.idmap,
    );
    spec.shifted_rootfs = maps.shifted;
    spec.restore_from = checkpoint;
    spec.state_dir = crate::runtime::state_dir(&state.paths, &storage_name);
    spec.volume_binds =
        crate::instances::disks::mounts(state, &inst.project, &inst.expanded_devices)
            .map_err(|e| e.to_string())?;
    spec.apparmor = crate::apparmor::container_policy(
        &state.paths,
        &state.facts.apparmor,
        &inst.project,
        &inst.row.name,
        &inst.expanded_config,
    )?;
    // Devices: NICs (with the MAC and name they keep across starts) and device nodes.
    let filled = devices::volatile::fill_nic_keys(&inst.expanded_devices, &inst.row.config);
    let mut device_config = inst.row.config.clone();
    device_config.extend(filled.clone());
    keys.extend(filled);
    let devices_dir = devices::devices_dir(&state.paths, &storage_name);
    let prepared = devices::prepare_start(
        &devices_dir,
        &inst.expanded_devices,
        &device_config,
        spec.idmap.as_ref(),
    )?;
    spec.volume_binds.extend(prepared.unix_binds);
    spec.nics = prepared.nics;
    let _ = std::fs::create_dir_all(&spec.state_dir);
    let _ = std::fs::write(
        spec.state_dir.join("lxc.conf"),
        crate::instances::spec::lxc_conf(&spec),
    );
    let host_names: Vec<String> = spec.nics.iter().map(|n| n.host_name.clone()).collect();
    let started = crate::runtime::lifecycle::start(&state.paths, &spec).await;
    let running = match started {
        Ok(running) => running,
        Err(e) => {
            devices::cleanup(&devices_dir, host_names.iter().map(String::as_str));
            return Err(e.to_string());
        }
    };
    keys.extend(devices::host_name_keys(&spec.nics));
    if let Err(e) = devices::start_proxies(
        &state.paths,
        &storage_name,
        &inst.expanded_devices,
        running.init_pid,
    )
    .await
    {
        // As LXD: a device that fails after init started stops the instance again.
        let _ = crate::runtime::lifecycle::stop(&state.paths, &storage_name, true, 0).await;
        devices::cleanup(&devices_dir, host_names.iter().map(String::as_str));
        return Err(e);
    }
    keys.insert("volatile.last_state.power".into(), "RUNNING".into());
    record(state, inst, keys, true).await
}

/// Stop `inst` (`force` at once, else with `timeout` seconds, −1 forever).
pub async fn stop(
    state: &AppState,
    inst: &Loaded,
    force: bool,
    timeout: i64,
) -> Result<(), String> {
    crate::runtime::lifecycle::stop(&state.paths, &inst.runtime_name(), force, timeout)
        .await
        .map_err(|e| e.to_string())?;
    // The monitor cleans up too when init ends; doing it here as well means the host ends
    // are gone when the stop answers, whoever gets there first.
    let current = load(state, &inst.project, &inst.row.name)
        .map(|i| i.row.config)
        .unwrap_or_else(|_| inst.row.config.clone());
    let dir = devices::devices_dir(&state.paths, &inst.runtime_name());
    devices::cleanup(&dir, devices::recorded_host_names(&current));
    let mut keys: lxd_api::ConfigMap = [(
        "volatile.last_state.power".to_string(),
        "STOPPED".to_string(),
    )]
    .into();
    // An empty value removes the key: NICs have no host end while stopped.
    keys.extend(
        current
            .keys()
            .filter(|k| k.starts_with("volatile.") && k.ends_with(".host_name"))
            .map(|k| (k.clone(), String::new())),
    );
    record(state, inst, keys, false).await
}

pub(super) async fn record(
    state: &AppState,
    inst: &Loaded,
    keys: lxd_api::ConfigMap,
    used: bool,
) -> Result<(), String> {
    let (p, n, now) = (
        inst.project.clone(),
        inst.row.name.clone(),
        crate::time::now_rfc3339(),
    );
    state
        .db
        .write(move |c| {
            lxd_db::instances::set_config_keys(c, &p, &n, &keys)?;
            if used {
                lxd_db::instances::mark_used(c, &p, &n, &now)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())
}

fn description(action: &str) -> Option<&'static str> {
    Some(match action {
        "start" => "Starting instance",
        "stop" => "Stopping instance",
        "restart" => "Restarting instance",
        "freeze" => "Freezing instance",
        "unfreeze" => "Unfreezing instance",
        _ => return None,
    })
}

pub async fn act(
    state: &AppState,
    inst: Loaded,
    req: InstanceStatePut,
    requestor: Requestor,
) -> Result<(), String> {
    let url = instance_url(&inst.row.name, &inst.project, false);
    match req.action.as_str() {
        "start" => {
            start(state, &inst).await?;
            state
                .events
                .lifecycle(&inst.project, "instance-started", url, &requestor);
        }
        "stop" => {
            stop(state, &inst, req.force, req.timeout).await?;
            let action = if req.force || req.timeout == 0 {
                "instance-stopped"
            } else {
                "instance-shutdown"
            };
            state
                .events
                .lifecycle(&inst.project, action, url, &requestor);
            if inst.row.ephemeral {
                super::delete::remove(state, &inst).await?;
            }
        }
        "restart" => {
            stop(state, &inst, req.force, req.timeout).await?;
            let inst = load(state, &inst.project, &inst.row.name).map_err(|e| e.to_string())?;
            start(state, &inst).await?;
            state
                .events
                .lifecycle(&inst.project, "instance-restarted", url, &requestor);
        }
        "freeze" | "unfreeze" => {
            let frozen = req.action == "freeze";
            let name = inst.runtime_name();
            tokio::task::spawn_blocking(move || crate::cgroups::set_frozen(&name, frozen))
                .await
                .map_err(|e| e.to_string())??;
            let action = if frozen {
                "instance-paused"
            } else {
                "instance-resumed"
            };
            state
                .events
                .lifecycle(&inst.project, action, url, &requestor);
        }
        other => return Err(format!("Unknown action: '{other}'")),
    }
    Ok(())
}

/// At daemon start: start instances with `boot.autostart` true, or unset and last seen running
/// (`volatile.last_state.power`), as LXD restores them after a host reboot.
pub async fn autostart(state: &AppState) {
    let all = state
        .db
        .read(lxd_db::instances::all_names)
        .unwrap_or_default();
    for (project, name) in all {
        let Ok(inst) = load(state, &project, &name) else {
            continue;
        };
        if inst.running() {
            continue;
        }
        let wanted = match inst
            .expanded_config
            .get("boot.autostart")
            .and_then(|v| lxd_shared::config::values::parse_bool(v))
        {
            Some(flag) => flag,
            None => inst
                .row
                .config
                .get("volatile.last_state.power")
                .is_some_and(|p| p == "RUNNING"),
        };
        if wanted {
            if let Err(e) = start(state, &inst).await {
                tracing::error!(instance = %name, error = %e, "Failed to autostart instance");
            }
        }
    }
}

/// `PUT /1.0/instances/{name}/state`
pub async fn put_instance_state(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<InstanceStatePut>,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let Some(desc) = description(&req.action) else {
        return Err(ApiError::bad_request(format!(
            "Unknown action: '{}'",
            req.action
        )));
    };
    let mut spec = OpSpec::task(desc, &project);
    spec.resources = Some(op_resources(&name, &project));
    let task_state = state.clone();
    let requestor = caller.requestor();
    // As LXD: an action the instance's state does not allow fails its operation, it is not
    // refused with the request (lxc's output depends on which).
    let op = state.operations.start(spec, move |_| async move {
        if let Some(refused) = refusal(&inst, &req.action) {
            return Err(refused.to_string());
        }
        act(&task_state, inst, req, requestor).await
    });
    Ok(ApiResponse::operation(&op))
}

/// LXD's error for `action` on an instance in the wrong state for it.
fn refusal(inst: &Loaded, action: &str) -> Option<&'static str> {
    match action {
        "start" if inst.running() => Some("The instance is already running"),
        "stop" | "restart" if !inst.running() => Some("The instance is already stopped"),
        "freeze" if !inst.running() => Some("The instance isn't running"),
        "freeze" if inst.frozen() => Some("The instance is already frozen"),
        "unfreeze" if !inst.frozen() => Some("The instance is not frozen"),
        _ => None,
    }
}
