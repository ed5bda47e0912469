//! Running commands in containers through `lxd forkexec` helpers, with the caller's stdio.

use std::path::PathBuf;
use std::process::Stdio;

use lxd_runtime::container::exec::ExecSpec;

use super::{helper_binary, io, state_dir, RuntimeError};
use crate::paths::Paths;

/// A running exec helper.
pub struct ExecProcess {
    pub child: tokio::process::Child,
    /// Holds the pid of the command (as the host sees it) once it runs.
    pub pid_file: PathBuf,
    spec_file: PathBuf,
}

impl ExecProcess {
    /// The command's pid, once known (for forwarding signals).
    pub fn command_pid(&self) -> Option<i32> {
        std::fs::read_to_string(&self.pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Remove the helper's files.
    pub fn cleanup(&self) {
        let _ = std::fs::remove_file(&self.spec_file);
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// Start `spec` in its container with the given stdio; `id` names the helper's files.
pub fn spawn(
    paths: &Paths,
    spec: &ExecSpec,
    id: &str,
    stdio: [Stdio; 3],
) -> Result<ExecProcess, RuntimeError> {
    let dir = state_dir(paths, &spec.name);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let spec_file = dir.join(format!("exec_{id}.json"));
    std::fs::write(&spec_file, serde_json::to_vec(spec).unwrap_or_default())
        .map_err(io(&spec_file))?;
    let [stdin, stdout, stderr] = stdio;
    let child = tokio::process::Command::new(helper_binary())
        .arg("forkexec")
        .arg(&spec_file)
        .env("LXD_DIR", &paths.var)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| RuntimeError::Spawn("exec", e))?;
    Ok(ExecProcess {
        child,
        pid_file: spec_file.with_extension("pid"),
        spec_file,
    })
}
