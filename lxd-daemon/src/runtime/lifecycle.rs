//! Starting and stopping containers through their monitors.

use std::process::Stdio;
use std::time::Duration;

use lxd_runtime::container::{ContainerSpec, MonitorState};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{helper_binary, io, running, RuntimeError};
use crate::paths::Paths;

/// A file in the state directory marking a stop the daemon asked for: the monitor reports
/// only the ends it did not ask for (a shutdown or reboot from inside, a crash).
pub const STOP_REQUESTED: &str = "stop_requested";

/// Start the container described by `spec`; returns once init runs (or failed to).
pub async fn start(paths: &Paths, spec: &ContainerSpec) -> Result<MonitorState, RuntimeError> {
    let dir = &spec.state_dir;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let _ = std::fs::remove_file(spec.state_file());
    let _ = std::fs::remove_file(dir.join(STOP_REQUESTED));
    let spec_file = dir.join("spec.json");
    std::fs::write(
        &spec_file,
        serde_json::to_vec_pretty(spec).unwrap_or_default(),
    )
    .map_err(io(&spec_file))?;
    let log_path = dir.join("lxc.log");
    let log = std::fs::File::create(&log_path).map_err(io(&log_path))?;
    let log2 = log.try_clone().map_err(io(&log_path))?;
    let mut child = tokio::process::Command::new(helper_binary())
        .arg("forkmonitor")
        .arg(&spec_file)
        .env("LXD_DIR", &paths.var)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .process_group(0)
        .spawn()
        .map_err(|e| RuntimeError::Spawn("monitor", e))?;
    loop {
        // Not `spec.name`, the hostname: another project may run an instance of that name.
        if let Some(state) = running(paths, spec.runtime_name()) {
            // Reap the monitor when it ends, while this daemon runs.
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
            return Ok(state);
        }
        if let Ok(Some(_)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let reason = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("the monitor exited");
            // The helper's own `Error: ` prefix would repeat the one the client adds.
            let reason = reason.strip_prefix("Error: ").unwrap_or(reason);
            return Err(RuntimeError::StartFailed(reason.to_string()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The signal that asks init to halt, chosen as liblxc does for LXD: `SIGRTMIN+3` when init
/// blocks it (systemd does, reading its signals through a signalfd; SIGPWR would only start
/// `sigpwr.target`), else SIGPWR. `status` is init's `/proc/PID/status`.
pub fn halt_signal(status: &str, sigrtmin: i32) -> i32 {
    let rt3 = sigrtmin + 3;
    let blocked = status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or(0);
    if (1..=64).contains(&rt3) && blocked & (1u64 << (rt3 - 1)) != 0 {
        rt3
    } else {
        Signal::SIGPWR as i32
    }
}

/// Stop a container: `force` kills init at once; otherwise init gets its halt signal (see
/// [`halt_signal`]) and is killed after `timeout` seconds (`-1` waits forever).
pub async fn stop(
    paths: &Paths,
    name: &str,
    force: bool,
    timeout: i64,
) -> Result<(), RuntimeError> {
    let Some(state) = running(paths, name) else {
        return Ok(());
    };
    let marker = super::state_dir(paths, name).join(STOP_REQUESTED);
    std::fs::write(&marker, b"").map_err(io(&marker))?;
    let init = Pid::from_raw(state.init_pid);
    if force || timeout == 0 {
        let _ = kill(init, Signal::SIGKILL);
    } else {
        let status = std::fs::read_to_string(format!("/proc/{init}/status")).unwrap_or_default();
        let _ = lxd_sys::proc::kill_raw(init, halt_signal(&status, lxd_sys::proc::sigrtmin()));
        let deadline = (timeout > 0)
            .then(|| tokio::time::Instant::now() + Duration::from_secs(timeout as u64));
        while running(paths, name).is_some() {
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                let _ = kill(init, Signal::SIGKILL);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Wait for the monitor to record the end, so the caller sees a stopped container.
    if end_recorded(paths, name, Duration::from_secs(5)).await {
        return Ok(());
    }
    Err(RuntimeError::StopTimeout(timeout.max(0)))
}

/// Checkpoint a running container into `dir` with CRIU (a live migration's source): its
/// processes end with the dump, recorded as a stop the daemon asked for. On a failed dump the
/// container keeps running.
pub async fn checkpoint(
    paths: &Paths,
    name: &str,
    dir: &std::path::Path,
) -> Result<(), RuntimeError> {
    let state = running(paths, name).ok_or(RuntimeError::NotRunning)?;
    let marker = super::state_dir(paths, name).join(STOP_REQUESTED);
    std::fs::write(&marker, b"").map_err(io(&marker))?;
    let init = Pid::from_raw(state.init_pid);
    let target = dir.to_path_buf();
    let dumped = tokio::task::spawn_blocking(move || {
        lxd_runtime::container::checkpoint::dump(init, &target)
    })
    .await
    .map_err(|e| RuntimeError::StartFailed(e.to_string()))?;
    if let Err(e) = dumped {
        let _ = std::fs::remove_file(&marker);
        return Err(e.into());
    }
    if end_recorded(paths, name, Duration::from_secs(10)).await {
        return Ok(());
    }
    Err(RuntimeError::StopTimeout(10))
}

/// Wait up to `limit` for init to be gone and its monitor to have recorded the end.
async fn end_recorded(paths: &Paths, name: &str, limit: Duration) -> bool {
    let step = Duration::from_millis(10);
    for _ in 0..limit.as_millis() / step.as_millis() {
        if running(paths, name).is_none() && monitor_done(paths, name) {
            return true;
        }
        tokio::time::sleep(step).await;
    }
    false
}

fn monitor_done(paths: &Paths, name: &str) -> bool {
    let file = super::state_dir(paths, name).join("monitor.json");
    std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice::<MonitorState>(&b).ok())
        .is_none_or(|s| s.exit_status.is_some())
}

#[cfg(test)]
mod tests {
    use super::halt_signal;

    #[test]
    fn halt_signal_systemd_blocking_rtmin3_gets_it_else_sigpwr() {
        // systemd 252 as init: SigBlk with bit 36 (signal 37 = SIGRTMIN+3 on glibc) set.
        let systemd = "Name:\tsystemd\nSigBlk:\t7be3c0fe28014a03\nSigIgn:\t0000000000001000\n";
        assert_eq!(halt_signal(systemd, 34), 37);
        let busybox = "Name:\tinit\nSigBlk:\t0000000000000000\n";
        assert_eq!(halt_signal(busybox, 34), nix::libc::SIGPWR);
        assert_eq!(halt_signal("", 34), nix::libc::SIGPWR);
    }
}
