//! Containers whose init ended without the daemon asking: a reboot from inside starts them
//! again; a shutdown from inside (or a crash) records them stopped and deletes an ephemeral
//! one. The monitor reports such ends through `/internal/containers/{name}/onstop`; ends
//! that happened while no daemon ran are found at start-up.

use lxd_runtime::container::MonitorState;

use super::instance_url;
use super::store::{load, Loaded};
use crate::events::Requestor;
use crate::state::AppState;

/// Act on the end of `inst`'s init: `target` is `reboot` or `stop`.
pub async fn ended_by_itself(state: &AppState, inst: Loaded, target: &str) {
    let url = instance_url(&inst.row.name, &inst.project, false);
    let requestor = Requestor::default();
    if target == "reboot" {
        match super::state::start(state, &inst).await {
            Ok(()) => {
                state
                    .events
                    .lifecycle(&inst.project, "instance-restarted", url, &requestor);
                return;
            }
            Err(e) => {
                tracing::error!(instance = %inst.row.name, error = %e, "Failed to restart instance after a reboot");
            }
        }
    }
    let keys = [("volatile.last_state.power".into(), "STOPPED".into())].into();
    if let Err(e) = super::state::record(state, &inst, keys, false).await {
        tracing::error!(instance = %inst.row.name, error = %e, "Failed to record the instance stopped");
    }
    state
        .events
        .lifecycle(&inst.project, "instance-shutdown", url, &requestor);
    if inst.row.ephemeral {
        if let Err(e) = super::delete::remove(state, &inst).await {
            tracing::error!(instance = %inst.row.name, error = %e, "Failed to delete ephemeral instance");
        }
    }
}

/// `(project, name)` of a runtime name (`<project>_<name>` outside the default project;
/// project names cannot contain underscores).
pub fn split_runtime_name(runtime: &str) -> (&str, &str) {
    runtime.split_once('_').unwrap_or(("default", runtime))
}

/// The monitor record of `inst`, whatever its state.
fn monitor_record(state: &AppState, inst: &Loaded) -> Option<MonitorState> {
    let dir = crate::runtime::state_dir(&state.paths, &inst.runtime_name());
    serde_json::from_slice(&std::fs::read(dir.join("monitor.json")).ok()?).ok()
}

/// Handle a report from the monitor `monitor_pid` that init ended. Stale reports (the
/// instance runs again, or another monitor owns it now) are ignored.
pub fn report(state: &AppState, runtime: &str, target: &str, monitor_pid: i32) -> bool {
    let (project, name) = split_runtime_name(runtime);
    let Ok(inst) = load(state, project, name) else {
        return false;
    };
    if inst.running() {
        return false;
    }
    let stale = monitor_record(state, &inst).is_some_and(|m| m.monitor_pid != monitor_pid);
    if stale {
        return false;
    }
    let (state, target) = (state.clone(), target.to_string());
    tokio::spawn(async move { ended_by_itself(&state, inst, &target).await });
    true
}

/// At start-up, before autostart: containers recorded running whose init ended cleanly by
/// itself while no daemon ran (exit 0, or halted from inside: killed by SIGINT) are recorded
/// stopped, and rebooted ones (SIGHUP) started. Other ends (killed during a host shutdown)
/// are left to the autostart rule.
pub async fn reconcile(state: &AppState) {
    let all = state
        .db
        .read(lxd_db::instances::all_names)
        .unwrap_or_default();
    for (project, name) in all {
        let Ok(inst) = load(state, &project, &name) else {
            continue;
        };
        let power_on = inst
            .row
            .config
            .get("volatile.last_state.power")
            .is_some_and(|p| p == "RUNNING");
        if inst.running() || !power_on {
            continue;
        }
        let dir = crate::runtime::state_dir(&state.paths, &inst.runtime_name());
        if dir.join(crate::runtime::lifecycle::STOP_REQUESTED).exists() {
            continue;
        }
        let Some(status) = monitor_record(state, &inst).and_then(|m| m.exit_status) else {
            continue;
        };
        let target = crate::runtime::exit_target(status);
        if target == "reboot" || status == 0 || status == 128 + nix::libc::SIGINT {
            ended_by_itself(state, inst, target).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_runtime_name;

    #[test]
    fn split_runtime_name_default_and_other_projects() {
        assert_eq!(split_runtime_name("c1"), ("default", "c1"));
        assert_eq!(split_runtime_name("p1_c1"), ("p1", "c1"));
    }
}
