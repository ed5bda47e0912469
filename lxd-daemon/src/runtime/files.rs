//! File operations on containers through `lxd forkfile` helpers: the content goes through the
//! helper's stdin or stdout, the result comes back as JSON beside the job file.

use std::process::Stdio;

use lxd_runtime::container::files::{FileError, FileJob, FileResponse};
use tokio::io::AsyncWriteExt;

use super::{helper_binary, io, RuntimeError};
use crate::paths::Paths;

/// Run `job`; `input` feeds a write. Returns the result and what the helper wrote to stdout.
pub async fn run(
    paths: &Paths,
    job: &FileJob,
    input: Vec<u8>,
) -> Result<(Result<FileResponse, FileError>, Vec<u8>), RuntimeError> {
    let dir = paths.var.join("shmounts");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let job_file = dir.join(format!("file_{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&job_file, serde_json::to_vec(job).unwrap_or_default())
        .map_err(io(&job_file))?;
    let result_file = job_file.with_extension("result");
    let mut child = tokio::process::Command::new(helper_binary())
        .arg("forkfile")
        .arg(&job_file)
        .env("LXD_DIR", &paths.var)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RuntimeError::Spawn("file", e))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&input).await;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| RuntimeError::Spawn("file", e))?;
    let result = std::fs::read(&result_file)
        .ok()
        .and_then(|b| serde_json::from_slice::<Result<FileResponse, FileError>>(&b).ok())
        .unwrap_or_else(|| {
            Err(FileError::Helper(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ))
        });
    let _ = std::fs::remove_file(&job_file);
    let _ = std::fs::remove_file(&result_file);
    Ok((result, output.stdout))
}
