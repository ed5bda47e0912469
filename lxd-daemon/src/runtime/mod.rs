//! The daemon's side of the container runtime: it starts monitors (`lxd forkmonitor`), exec
//! helpers (`lxd forkexec`), proxy helpers (`lxd forkproxy`) and live-mount helpers (`lxd
//! forkmount`) as separate processes, reads what the monitors record, and
//! signals init to stop. Monitors outlive the daemon; a restarted daemon finds them again
//! through their state files.

pub mod exec;
pub mod files;
pub mod lifecycle;
pub mod mount;
pub mod proxy;

use std::path::PathBuf;

use lxd_runtime::container::{ContainerSpec, MonitorState};

use crate::paths::Paths;

/// Why a runtime action failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("Failed to prepare {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to run the {0} helper")]
    Spawn(&'static str, #[source] std::io::Error),
    #[error("Failed to start the container: {0}")]
    StartFailed(String),
    #[error("The container did not stop within {0} seconds")]
    StopTimeout(i64),
    #[error("Error occurred when starting proxy device: {0}")]
    ProxyFailed(String),
    #[error("{0}")]
    MountFailed(String),
    #[error("The container is not running")]
    NotRunning,
    #[error(transparent)]
    Checkpoint(#[from] lxd_runtime::container::checkpoint::CheckpointError),
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> RuntimeError {
    let path = path.to_path_buf();
    move |source| RuntimeError::Io { path, source }
}

/// Where a container's monitor keeps its state, console log and `lxc.log`.
pub fn state_dir(paths: &Paths, name: &str) -> PathBuf {
    paths.log.join(name)
}

/// The `lxd` binary that runs the helpers: this daemon's own executable through
/// `/proc/self/exe`, which still works after the file was replaced on disk (a package upgrade
/// or a rebuild while the daemon runs), where the path would name the new binary or nothing.
pub fn helper_binary() -> PathBuf {
    std::env::var_os("LXD_HELPER_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/proc/self/exe"))
}

/// A spec skeleton for `name` whose state lives under `paths`.
pub fn spec_state(paths: &Paths, spec: &mut ContainerSpec) {
    spec.state_dir = state_dir(paths, &spec.name);
}

/// What init's exit status means, as liblxc reads it: killed by SIGHUP is a `reboot` (the
/// kernel's answer to `reboot(RESTART)` in a pid namespace), anything else a `stop`.
pub fn exit_target(status: i32) -> &'static str {
    if status == 128 + nix::libc::SIGHUP {
        "reboot"
    } else {
        "stop"
    }
}

/// The monitor's record of a container, if its init is still alive.
pub fn running(paths: &Paths, name: &str) -> Option<MonitorState> {
    let file = state_dir(paths, name).join("monitor.json");
    let state: MonitorState = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    if state.exit_status.is_some() {
        return None;
    }
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(state.init_pid), None).is_ok();
    alive.then_some(state)
}
