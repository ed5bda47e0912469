//! Live mounts in running containers through `lxd forkmount JOB` helpers (disk and unix
//! devices added to or removed from a running container). The helper reports a failure on
//! stderr and with its exit status.

use std::process::Stdio;

use lxd_runtime::devices::mount::MountJob;

use super::{helper_binary, io, RuntimeError};
use crate::paths::Paths;

/// Run `job` and wait for it.
pub async fn run(paths: &Paths, job: &MountJob) -> Result<(), RuntimeError> {
    let dir = paths.var.join("shmounts");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let job_file = dir.join(format!("mount_{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&job_file, serde_json::to_vec(job).unwrap_or_default())
        .map_err(io(&job_file))?;
    let output = tokio::process::Command::new(helper_binary())
        .arg("forkmount")
        .arg(&job_file)
        .env("LXD_DIR", &paths.var)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .map_err(|e| RuntimeError::Spawn("mount", e));
    let _ = std::fs::remove_file(&job_file);
    let output = output?;
    if output.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stderr);
    let reason = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("the mount helper failed")
        .trim_start_matches("Error: ")
        .to_string();
    Err(RuntimeError::MountFailed(reason))
}
