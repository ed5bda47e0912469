//! Proxy helpers (`lxd forkproxy SPEC`), one per proxy device of a running container: started
//! in their own process group so they outlive the daemon like the monitors, logged to
//! `proxy.<device>.log` beside the container's logs, and found again through the pid file
//! `proxy.<device>` in the instance's devices directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use lxd_runtime::devices::proxy::ProxySpec;

use super::{helper_binary, io, RuntimeError};
use crate::paths::Paths;

/// How long a helper may take to report that it relays (LXD polls for ten seconds).
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How often and how many times a stop looks whether the killed helper is gone.
const STOP_POLL: Duration = Duration::from_millis(5);
const STOP_POLLS: usize = 400;

fn pid_file(dir: &Path, device: &str) -> PathBuf {
    dir.join(format!("proxy.{device}"))
}

fn spec_file(dir: &Path, device: &str) -> PathBuf {
    dir.join(format!("proxy.{device}.json"))
}

/// Start the helper for `device` and wait until it relays. `dir` is the instance's devices
/// directory, `log_dir` its log directory. Errors carry the helper's own `Error:` line.
pub async fn start(
    paths: &Paths,
    dir: &Path,
    log_dir: &Path,
    device: &str,
    spec: &ProxySpec,
) -> Result<(), RuntimeError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::create_dir_all(log_dir).map_err(io(log_dir))?;
    let spec_path = spec_file(dir, device);
    std::fs::write(&spec_path, serde_json::to_vec(spec).unwrap_or_default())
        .map_err(io(&spec_path))?;
    let log_path = log_dir.join(format!("proxy.{device}.log"));
    let log = std::fs::File::create(&log_path).map_err(io(&log_path))?;
    let log2 = log.try_clone().map_err(io(&log_path))?;
    let mut child = tokio::process::Command::new(helper_binary())
        .arg("forkproxy")
        .arg(&spec_path)
        .env("LXD_DIR", &paths.var)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log2))
        .process_group(0)
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| RuntimeError::Spawn("proxy", e))?;
    let pid = child.id().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    let outcome = loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("Error:"))
        {
            break Err(line.to_string());
        }
        if text.lines().any(|l| l.trim() == "Status: Started") {
            break Ok(());
        }
        if let Ok(Some(_)) = child.try_wait() {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = text.lines().rev().find(|l| !l.trim().is_empty());
            break Err(last.unwrap_or("Error: the proxy exited").to_string());
        }
        if tokio::time::Instant::now() >= deadline {
            break Err(format!("Please look in {}", log_path.display()));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    match outcome {
        Ok(()) => {
            let pid_path = pid_file(dir, device);
            std::fs::write(&pid_path, pid.to_string()).map_err(io(&pid_path))?;
            // Reap the helper when it ends, while this daemon runs.
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
            Ok(())
        }
        Err(line) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            let _ = std::fs::remove_file(&spec_path);
            Err(RuntimeError::ProxyFailed(line))
        }
    }
}

/// Whether `pid` is a proxy helper for `device` (a recorded pid may have been reused).
fn is_our_helper(pid: i32, spec_path: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.iter().any(|a| *a == b"forkproxy")
        && args
            .iter()
            .any(|a| *a == spec_path.as_os_str().as_encoded_bytes())
}

/// Stop `device`'s helper (if it runs) and remove its files; a host-side UNIX socket it
/// listened on goes too.
pub fn stop(dir: &Path, device: &str) {
    let spec_path = spec_file(dir, device);
    let pid_path = pid_file(dir, device);
    if let Some(pid) = std::fs::read_to_string(&pid_path)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
    {
        if is_our_helper(pid, &spec_path) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            // The kill is asynchronous: wait (briefly) until it is gone, so its listeners are
            // closed and the container's namespaces released when this returns.
            for _ in 0..STOP_POLLS {
                if !is_our_helper(pid, &spec_path) {
                    break;
                }
                std::thread::sleep(STOP_POLL);
            }
        }
    }
    if let Some(spec) = std::fs::read(&spec_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<ProxySpec>(&b).ok())
    {
        if spec.listen_pid.is_none() {
            if let Some(path) = spec.listen.strip_prefix("unix:") {
                if !path.starts_with('@') {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }
    let _ = std::fs::remove_file(pid_path);
    let _ = std::fs::remove_file(spec_path);
}

/// Stop every proxy helper recorded in `dir`.
pub fn stop_all(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(device) = name
            .strip_prefix("proxy.")
            .and_then(|d| d.strip_suffix(".json"))
        {
            stop(dir, device);
        }
    }
}
