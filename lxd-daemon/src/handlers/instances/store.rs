//! Instance records as handlers need them: loaded with their expanded config and devices and
//! their runtime status, turned into API objects, and looked up with LXD's errors.

use lxd_api::instance::Instance;
use lxd_api::{ConfigMap, DevicesMap, StatusCode};
use lxd_db::instances::InstanceRow;

use crate::api::extract::Params;
use crate::api::ApiError;
use crate::state::AppState;

/// A record with everything derived from it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: String,
    pub row: InstanceRow,
    pub expanded_config: ConfigMap,
    pub expanded_devices: DevicesMap,
    /// The init pid when running.
    pub init_pid: Option<i32>,
}

impl Loaded {
    /// The name the runtime and storage know the instance by (`<project>_<name>` outside the
    /// default project, as LXD names them on disk).
    pub fn runtime_name(&self) -> String {
        runtime_name(&self.project, &self.row.name)
    }

    /// Whether init runs.
    pub fn running(&self) -> bool {
        self.init_pid.is_some()
    }

    /// Whether its processes are frozen.
    pub fn frozen(&self) -> bool {
        self.running() && crate::cgroups::frozen(&self.runtime_name())
    }

    /// LXD's status for the record.
    pub fn status(&self) -> StatusCode {
        if self.frozen() {
            StatusCode::Frozen
        } else if self.running() {
            StatusCode::Running
        } else {
            StatusCode::Stopped
        }
    }

    /// The API object.
    pub fn to_api(&self) -> Instance {
        let status = self.status();
        Instance {
            architecture: self.row.architecture.clone(),
            config: self.row.config.clone(),
            devices: self.row.devices.clone(),
            ephemeral: self.row.ephemeral,
            profiles: self.row.profiles.clone(),
            restore: String::new(),
            stateful: self.row.stateful,
            description: self.row.description.clone(),
            created_at: self.row.created_at.clone(),
            expanded_config: self.expanded_config.clone(),
            expanded_devices: self.expanded_devices.clone(),
            name: self.row.name.clone(),
            status: status.text().to_string(),
            status_code: status.code(),
            last_used_at: self.row.last_used_at.clone(),
            location: "none".to_string(),
            kind: self.row.kind.clone(),
            project: self.project.clone(),
        }
    }

    /// The pool holding the root disk.
    pub fn root_pool(&self) -> Option<String> {
        root_pool(&self.expanded_devices)
    }
}

/// `<project>_<name>` outside the default project.
pub fn runtime_name(project: &str, name: &str) -> String {
    if project == "default" {
        name.to_string()
    } else {
        format!("{project}_{name}")
    }
}

/// The pool of the root disk (`type: disk`, `path: /`) among `devices`.
pub fn root_pool(devices: &DevicesMap) -> Option<String> {
    devices
        .values()
        .find(|d| lxd_api::is_root_disk(d))
        .and_then(|d| d.get("pool").cloned())
}

/// The project of a request (instances always belong to the named project).
pub fn project_of(state: &AppState, params: &Params) -> Result<String, ApiError> {
    let project = params.project();
    crate::handlers::require_project(state, project)?;
    Ok(project.to_string())
}

/// Expand `row` with its profiles.
pub fn expand(
    state: &AppState,
    project: &str,
    row: &InstanceRow,
) -> Result<(ConfigMap, DevicesMap), ApiError> {
    let profile_project = state
        .db
        .read(|c| lxd_db::profiles::effective_project(c, project))?;
    let profiles = state.db.read(|c| {
        row.profiles
            .iter()
            .map(|p| lxd_db::profiles::get(c, &profile_project, p))
            .collect::<Result<Vec<_>, _>>()
    })?;
    Ok(lxd_db::instances::expand(
        &profiles,
        &row.config,
        &row.devices,
    ))
}

/// Load one instance, or LXD's 404.
pub fn load(state: &AppState, project: &str, name: &str) -> Result<Loaded, ApiError> {
    let row = state
        .db
        .read(|c| lxd_db::instances::get(c, project, name))
        .map_err(|e| match e {
            lxd_db::DbError::NotFound(_) => ApiError::not_found("Instance not found"),
            other => other.into(),
        })?;
    let (expanded_config, expanded_devices) = expand(state, project, &row)?;
    let init_pid =
        crate::runtime::running(&state.paths, &runtime_name(project, name)).map(|s| s.init_pid);
    Ok(Loaded {
        project: project.to_string(),
        row,
        expanded_config,
        expanded_devices,
        init_pid,
    })
}
