//! `POST /1.0/instances/{name}/console` (attach over websockets: `0` carries the terminal both
//! ways, `control` window sizes) and `DELETE .../console` (clear the console log). The console
//! itself is the monitor's: the daemon attaches to the socket it serves and relays.

use std::os::fd::AsFd;
use std::sync::Arc;

use axum::extract::{Path, State};
use futures_util::StreamExt;
use lxd_api::instance::InstanceConsolePost;
use lxd_api::OperationClass;
use lxd_runtime::container::console;
use serde_json::{json, Map};

use super::exec::{collect_sockets, control_loop, pump_in, pump_out};
use super::op_resources;
use super::store::{load, project_of};
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::{Op, OpSpec};
use crate::state::AppState;

fn secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `POST /1.0/instances/{name}/console`
pub async fn post_instance_console(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    LxdJson(req): LxdJson<InstanceConsolePost>,
) -> ApiResult {
    if name.contains('/') {
        return Err(ApiError::bad_request("Invalid instance name"));
    }
    let kind = if req.kind.is_empty() {
        "console"
    } else {
        req.kind.as_str()
    };
    if kind != "console" && kind != "vga" {
        return Err(ApiError::bad_request(format!(
            "Unknown console type {kind:?}"
        )));
    }
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    if kind == "vga" {
        return Err(ApiError::bad_request(
            "VGA console is only supported by virtual machines",
        ));
    }
    if !inst.running() {
        return Err(ApiError::bad_request("Instance is not running"));
    }
    if inst.frozen() {
        return Err(ApiError::bad_request("Instance is frozen"));
    }
    let socket = console::socket_path(&crate::runtime::state_dir(
        &state.paths,
        &inst.runtime_name(),
    ));
    let mut spec = OpSpec::task("Showing console", &project);
    spec.resources = Some(op_resources(&name, &project));
    spec.class = OperationClass::Websocket;
    spec.secrets = ["0", "control"]
        .iter()
        .map(|n| (n.to_string(), secret()))
        .collect();
    let mut meta = Map::new();
    meta.insert("fds".into(), json!(spec.secrets));
    spec.metadata = Some(meta);
    let size = (req.width, req.height);
    let op = state
        .operations
        .start(spec, move |op| async move { relay(op, socket, size).await });
    Ok(ApiResponse::operation(&op))
}

/// Relay between the client's websockets and the monitor's console until either side ends.
async fn relay(op: Arc<Op>, socket: std::path::PathBuf, size: (i64, i64)) -> Result<(), String> {
    let mut sockets = collect_sockets(&op, 2).await?;
    let control = sockets.remove("control").ok_or("No control socket")?;
    let data = sockets.remove("0").ok_or("No console socket")?;
    let client = tokio::task::spawn_blocking(move || console::attach(&socket))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if let (Ok(w), Ok(h)) = (u16::try_from(size.0), u16::try_from(size.1)) {
        if w > 0 && h > 0 {
            let _ = lxd_sys::tty::set_window_size(client.master.as_fd(), w, h);
        }
    }
    client
        .stream
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    let stream = tokio::net::UnixStream::from_std(client.stream).map_err(|e| e.to_string())?;
    let (reader, writer) = stream.into_split();
    let (sink, incoming) = data.split();
    let mut out = tokio::spawn(pump_out(reader, sink));
    let input = tokio::spawn(pump_in(incoming, writer));
    let mut ctl = tokio::spawn(control_loop(
        control,
        || None,
        Some(Arc::new(client.master)),
    ));
    tokio::select! {
        _ = &mut out => {}
        _ = &mut ctl => {}
    }
    input.abort();
    out.abort();
    ctl.abort();
    Ok(())
}

/// `DELETE /1.0/instances/{name}/console`: empty the console log.
pub async fn delete_instance_console(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    if name.contains('/') {
        return Err(ApiError::bad_request("Invalid instance name"));
    }
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let log = crate::runtime::state_dir(&state.paths, &inst.runtime_name()).join("console.log");
    match std::fs::symlink_metadata(&log) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(ApiError::internal("The console log is not a regular file"))
        }
        Ok(_) => std::fs::File::options()
            .write(true)
            .open(&log)
            .and_then(|f| f.set_len(0))
            .map_err(|e| ApiError::internal(e.to_string()))?,
        Err(_) => {}
    }
    Ok(ApiResponse::empty())
}
