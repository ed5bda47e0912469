//! `/1.0/profiles`: list, create, show, replace, patch, rename and delete profiles. A changed
//! profile is applied to the instances using it: their devices' volatile keys follow, and
//! running ones get new limits, a reloaded AppArmor profile and devices plugged and unplugged
//! live (failures are reported after the profile is saved, as LXD does).

use axum::extract::{Path, State};
use lxd_api::{Profile, ProfilePost, ProfilePut, ProfilesPost};
use lxd_db::profiles::{self, ProfileRow};
use lxd_db::DbError;
use lxd_shared::config::devices::check_device;
use lxd_shared::config::instance::check_instance_value;
use lxd_shared::names::validate_profile_name;

use super::require_project;
use crate::api::caller::Caller;
use crate::api::extract::{IfMatch, LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::handlers::instances::update::apply_config;
use crate::state::AppState;

fn url(name: &str, project: &str) -> String {
    if project == "default" {
        format!("/1.0/profiles/{name}")
    } else {
        format!("/1.0/profiles/{name}?project={project}")
    }
}

/// Instances using a profile, as `/1.0/instances/<name>` URLs (with `?project=` outside the
/// default project).
fn used_by(state: &AppState, project: &str, name: &str) -> Vec<String> {
    let users = state
        .db
        .read(|c| lxd_db::instances::instances_using_profile(c, project, name))
        .unwrap_or_default();
    let mut urls: Vec<String> = users
        .into_iter()
        .map(|(p, n)| crate::handlers::instances::instance_url(&n, &p, false))
        .collect();
    urls.sort();
    urls
}

fn to_api(state: &AppState, row: ProfileRow, project: &str) -> Profile {
    Profile {
        used_by: used_by(state, project, &row.name),
        config: row.config,
        description: row.description,
        devices: row.devices,
        name: row.name,
    }
}

fn etag_of(row: &ProfileRow) -> (&lxd_api::ConfigMap, &str, &lxd_api::DevicesMap) {
    (&row.config, row.description.as_str(), &row.devices)
}

/// Check config keys and devices of a profile body; `refuse` makes the error of bad input
/// (a device this server cannot run is a 501).
fn validate(put: &ProfilePut, refuse: fn(String) -> ApiError) -> Result<(), ApiError> {
    for (k, v) in &put.config {
        check_instance_value(k, v).map_err(|e| refuse(e.to_string()))?;
    }
    let device_error = |e: lxd_shared::config::devices::DeviceError| {
        if e.is_not_implemented() {
            ApiError::NotImplemented(e.to_string())
        } else {
            refuse(e.to_string())
        }
    };
    for (name, dev) in &put.devices {
        check_device(name, dev).map_err(device_error)?;
    }
    lxd_shared::config::devices::nic::check_names_unique(&put.devices).map_err(device_error)?;
    Ok(())
}

/// Bring the instances that used a profile (as loaded before the change) in line with it:
/// volatile keys of their devices; for running ones also their cgroup limits, their AppArmor
/// profile (`raw.apparmor`, `security.nesting`) and live devices.
async fn apply_to_instances(
    state: &AppState,
    before: Vec<crate::handlers::instances::store::Loaded>,
) -> Result<(), ApiError> {
    use crate::instances::devices;
    let mut failures = String::new();
    for old in before {
        let Ok(now) = crate::handlers::instances::store::load(state, &old.project, &old.row.name)
        else {
            continue;
        };
        let mut config = now.row.config.clone();
        let mut changes = lxd_api::ConfigMap::new();
        for key in
            devices::volatile::reset_keys(&old.expanded_devices, &now.expanded_devices, &config)
        {
            config.remove(&key);
            changes.insert(key, String::new());
        }
        let filled = devices::volatile::fill_nic_keys(&now.expanded_devices, &config);
        config.extend(filled.clone());
        changes.extend(filled);
        let mut failed = |e: &dyn std::fmt::Display| {
            failures.push_str(&format!(
                " - Project: {}, Instance: {}: {e}\n",
                old.project, old.row.name
            ));
        };
        if old.running() {
            // As an instance's own update: limits and the AppArmor profile, then devices.
            if let Err(e) = apply_config(state, &old, &now.expanded_config) {
                failed(&e);
            }
            match devices::hotplug::apply(
                state,
                &old,
                &old.expanded_devices,
                &now.expanded_devices,
                &old.row.config,
                &config,
            )
            .await
            {
                Ok(set) => changes.extend(set),
                Err(e) => failed(&e),
            }
        }
        if !changes.is_empty() {
            let (p, n) = (old.project.clone(), old.row.name.clone());
            state
                .db
                .write(move |c| lxd_db::instances::set_config_keys(c, &p, &n, &changes))
                .await?;
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Internal(format!(
            "The following instances failed to update (profile change still saved):\n{failures}"
        )))
    }
}

fn project_of(state: &AppState, params: &Params) -> Result<String, ApiError> {
    let project = params.project();
    require_project(state, project)?;
    Ok(state.db.read(|c| profiles::effective_project(c, project))?)
}

/// `GET /1.0/profiles`
pub async fn get_profiles(State(state): State<AppState>, params: Params) -> ApiResult {
    let project = project_of(&state, &params)?;
    let names = state.db.read(|c| profiles::names(c, &project))?;
    if params.recursion() == 0 {
        return Ok(ApiResponse::sync(
            names.iter().map(|n| url(n, &project)).collect::<Vec<_>>(),
        ));
    }
    let rows = state.db.read(|c| {
        names
            .iter()
            .map(|n| profiles::get(c, &project, n))
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(ApiResponse::sync(
        rows.into_iter()
            .map(|r| to_api(&state, r, &project))
            .collect::<Vec<_>>(),
    ))
}

/// `POST /1.0/profiles`
pub async fn post_profiles(
    State(state): State<AppState>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<ProfilesPost>,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    validate_profile_name(&req.name).map_err(ApiError::bad_request)?;
    let put = ProfilePut {
        config: req.config,
        description: req.description,
        devices: req.devices,
    };
    validate(&put, ApiError::BadRequest)?;
    let row = ProfileRow {
        name: req.name.clone(),
        description: put.description,
        config: put.config,
        devices: put.devices,
    };
    let p = project.clone();
    state
        .db
        .write(move |c| profiles::create(c, &p, &row))
        .await
        .map_err(|e| match e {
            DbError::AlreadyExists(_) => ApiError::Internal(format!(
                "Error inserting {:?} into database: The profile already exists",
                req.name
            )),
            other => other.into(),
        })?;
    let location = url(&req.name, &project);
    state.events.lifecycle(
        &project,
        "profile-created",
        location.clone(),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created { location })
}

/// `GET /1.0/profiles/{name}`
pub async fn get_profile(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let row = state
        .db
        .read(|c| profiles::get(c, &project, &name))
        .map_err(|e| match e {
            DbError::NotFound(_) => ApiError::not_found("Fetch profile: Profile not found"),
            other => other.into(),
        })?;
    let etag = lxd_shared::etag::etag_hash(&etag_of(&row));
    let mut resp = ApiResponse::sync(to_api(&state, row, &project));
    if let ApiResponse::Sync { etag: e, .. } = &mut resp {
        *e = Some(etag);
    }
    Ok(resp)
}

/// `PUT /1.0/profiles/{name}`
pub async fn put_profile(
    state: State<AppState>,
    name: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<ProfilePut>,
) -> ApiResult {
    update(state, name, params, if_match, caller, move |_| req).await
}

/// `PATCH /1.0/profiles/{name}`: merge config keys and devices (by name) into the profile.
pub async fn patch_profile(
    state: State<AppState>,
    name: Path<String>,
    params: Params,
    if_match: IfMatch,
    caller: Caller,
    LxdJson(req): LxdJson<serde_json::Value>,
) -> ApiResult {
    let patch: ProfilePut = crate::api::extract::parse_json(req.to_string().as_bytes())?;
    let has_description = req.get("description").is_some();
    update(state, name, params, if_match, caller, move |old| {
        let mut next = ProfilePut {
            config: old.config.clone(),
            description: old.description.clone(),
            devices: old.devices.clone(),
        };
        next.config.extend(patch.config);
        next.devices.extend(patch.devices);
        if has_description {
            next.description = patch.description;
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
    compute: impl FnOnce(&ProfileRow) -> ProfilePut + Send + 'static,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let users = state
        .db
        .read(|c| lxd_db::instances::instances_using_profile(c, &project, &name))
        .unwrap_or_default();
    let before: Vec<_> = users
        .iter()
        .filter_map(|(p, n)| crate::handlers::instances::store::load(&state, p, n).ok())
        .collect();
    let p = project.clone();
    let n = name.clone();
    let outcome = state
        .db
        .write(move |c| {
            let old = profiles::get(c, &p, &n)?;
            if let Err(e) = if_match.check(&etag_of(&old)) {
                return Ok(Err(e));
            }
            let mut next = compute(&old);
            // An empty value unsets a key (`lxc profile unset` sends the key with "").
            next.config.retain(|_, v| !v.is_empty());
            for dev in next.devices.values_mut() {
                dev.retain(|_, v| !v.is_empty());
            }
            if let Err(refused) = validate(&next, ApiError::Internal) {
                return Ok(Err(refused));
            }
            let row = ProfileRow {
                name: n.clone(),
                description: next.description,
                config: next.config,
                devices: next.devices,
            };
            profiles::update(c, &p, &row)?;
            Ok(Ok(()))
        })
        .await?;
    outcome?;
    let applied = apply_to_instances(&state, before).await;
    state.events.lifecycle(
        &project,
        "profile-updated",
        url(&name, &project),
        &caller.requestor(),
    );
    applied?;
    Ok(ApiResponse::empty())
}

/// `POST /1.0/profiles/{name}`: rename.
pub async fn post_profile(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
    LxdJson(req): LxdJson<ProfilePost>,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    if name == "default" {
        return Err(ApiError::Forbidden(
            "The \"default\" profile cannot be renamed".into(),
        ));
    }
    validate_profile_name(&req.name).map_err(ApiError::bad_request)?;
    let (p, old, new) = (project.clone(), name.clone(), req.name.clone());
    state
        .db
        .write(move |c| profiles::rename(c, &p, &old, &new))
        .await
        .map_err(|e| match e {
            DbError::AlreadyExists(_) => {
                ApiError::Internal(format!("Name {:?} already in use", req.name))
            }
            other => other.into(),
        })?;
    let location = url(&req.name, &project);
    state.events.lifecycle(
        &project,
        "profile-renamed",
        location.clone(),
        &caller.requestor(),
    );
    Ok(ApiResponse::Created { location })
}

/// `DELETE /1.0/profiles/{name}`
pub async fn delete_profile(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    caller: Caller,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    if name == "default" {
        return Err(ApiError::Forbidden(
            "The \"default\" profile cannot be deleted".into(),
        ));
    }
    if !used_by(&state, &project, &name).is_empty() {
        return Err(ApiError::bad_request("Profile is currently in use"));
    }
    let (p, n) = (project.clone(), name.clone());
    state.db.write(move |c| profiles::delete(c, &p, &n)).await?;
    state.events.lifecycle(
        &project,
        "profile-deleted",
        url(&name, &project),
        &caller.requestor(),
    );
    Ok(ApiResponse::empty())
}
