//! `POST /1.0/instances/{name}/exec`: run a command in a running container, either over
//! websockets (LXD's protocol: binary frames, an empty text frame for EOF, a control socket
//! for window size and signals, `return` in the operation metadata) or detached with its
//! output optionally recorded as instance log files.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Path, State};
use futures_util::{SinkExt, StreamExt};
use lxd_api::instance::{InstanceExecControl, InstanceExecPost};
use lxd_api::OperationClass;
use lxd_runtime::container::exec::ExecSpec;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;

use super::op_resources;
use super::store::{load, project_of};
use crate::api::caller::Caller;
use crate::api::extract::{LxdJson, Params};
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::operations::{Op, OpSocket, OpSpec};
use crate::runtime::exec::ExecProcess;
use crate::state::AppState;

fn secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// `POST /1.0/instances/{name}/exec`
pub async fn post_instance_exec(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
    _caller: Caller,
    LxdJson(req): LxdJson<InstanceExecPost>,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let Some(init_pid) = inst.init_pid else {
        return Err(ApiError::bad_request("Instance is not running"));
    };
    if inst.frozen() {
        return Err(ApiError::bad_request("Instance is frozen"));
    }
    if req.command.is_empty() {
        return Err(ApiError::bad_request("No command given"));
    }
    let env = crate::instances::spec::exec_env(&inst.expanded_config, &req.environment, req.user);
    let env_map: BTreeMap<String, String> = env
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let spec = ExecSpec {
        name: inst.runtime_name(),
        init_pid,
        argv: req.command.clone(),
        env,
        cwd: if req.cwd.is_empty() {
            "/root".into()
        } else {
            req.cwd.clone()
        },
        uid: req.user,
        gid: req.group,
        config: inst.expanded_config.clone(),
        pty: req.interactive && req.wait_for_websocket,
    };
    let mut op_spec = OpSpec::task("Executing command", &project);
    op_spec.resources = Some(op_resources(&name, &project));
    let op = if req.wait_for_websocket {
        let names: &[&str] = if req.interactive {
            &["0", "control"]
        } else {
            &["0", "1", "2", "control"]
        };
        op_spec.class = OperationClass::Websocket;
        op_spec.secrets = names.iter().map(|n| (n.to_string(), secret())).collect();
        let mut meta = Map::new();
        meta.insert("command".into(), json!(req.command));
        meta.insert("environment".into(), json!(env_map));
        meta.insert("fds".into(), json!(op_spec.secrets));
        meta.insert("interactive".into(), json!(req.interactive));
        op_spec.metadata = Some(meta);
        // Started before the answer goes out, so the command is ready by the time the
        // client has read the answer and connected its websockets.
        let prepared = prepare(&state, &spec, &req);
        state.operations.start(op_spec, move |op| async move {
            run_websockets(prepared, op).await
        })
    } else {
        let instance = inst.row.name.clone();
        let task_state = state.clone();
        state.operations.start(op_spec, move |op| async move {
            run_detached(task_state, instance, spec, req, op).await
        })
    };
    Ok(ApiResponse::operation(&op))
}

fn finish_metadata(op: &Op, extra: &[(&str, Value)]) {
    let mut meta = op.to_api().metadata.unwrap_or_default();
    for (k, v) in extra {
        meta.insert((*k).to_string(), v.clone());
    }
    op.set_metadata(meta);
}

/// A command without websockets; `instance` is the instance's name (`spec.name` is its runtime
/// name, which names the directory of its logs).
async fn run_detached(
    state: AppState,
    instance: String,
    spec: ExecSpec,
    req: InstanceExecPost,
    op: Arc<Op>,
) -> Result<(), String> {
    let dir = crate::runtime::state_dir(&state.paths, &spec.name);
    let null = || {
        std::fs::File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
    };
    let (stdout, stderr, output) = if req.record_output {
        let out = dir.join(format!("exec_{}.stdout", op.id));
        let err = dir.join(format!("exec_{}.stderr", op.id));
        let o = std::fs::File::create(&out).map_err(|e| e.to_string())?;
        let e = std::fs::File::create(&err).map_err(|e| e.to_string())?;
        let base = format!("/1.0/instances/{instance}/logs");
        let output = json!({"1": format!("{base}/exec_{}.stdout", op.id), "2": format!("{base}/exec_{}.stderr", op.id)});
        (o, e, Some(output))
    } else {
        let (o, e) = (null(), null());
        (
            o.map_err(|e| e.to_string())?,
            e.map_err(|e| e.to_string())?,
            None,
        )
    };
    let stdin = null().map_err(|e| e.to_string())?;
    let stdio = [stdin.into(), stdout.into(), stderr.into()];
    let mut proc =
        crate::runtime::exec::spawn(&state.paths, &spec, stdio).map_err(|e| e.to_string())?;
    proc.go().await.map_err(|e| e.to_string())?;
    let code = proc.wait().await.map_err(|e| e.to_string())?;
    let mut meta = Map::new();
    if let Some(output) = output {
        meta.insert("output".into(), output);
    }
    meta.insert("return".into(), json!(code));
    op.set_metadata(meta);
    special_exit_error(code)
}

/// LXD turns the shell's "not found" (127) and "not executable" (126) statuses into the
/// operation's error, keeping the status in `return`.
fn special_exit_error(code: i32) -> Result<(), String> {
    match code {
        127 => Err("Command not found".into()),
        126 => Err("Command not executable".into()),
        _ => Ok(()),
    }
}

/// Wait for the websockets named in `required`, for at most 5 seconds as LXD does; others
/// that connect meanwhile are kept too. The receiver is returned for sockets that connect late.
async fn collect_required(
    op: &Op,
    required: &[&str],
) -> Result<(HashMap<String, WebSocket>, UnboundedReceiver<OpSocket>), String> {
    let mut rx = op.take_sockets().ok_or("Sockets already taken")?;
    let mut sockets = HashMap::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !required.iter().all(|fd| sockets.contains_key(*fd)) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(s)) => {
                sockets.insert(s.fd, s.socket);
            }
            _ => return Err("Timed out waiting for websockets to connect".into()),
        }
    }
    Ok((sockets, rx))
}

/// The control socket once it connects: in non-interactive mode clients need not connect it
/// (older lxc did not), so it may never come.
async fn late_control(mut rx: UnboundedReceiver<OpSocket>) -> Option<WebSocket> {
    while let Some(s) = rx.recv().await {
        if s.fd == "control" {
            return Some(s.socket);
        }
    }
    None
}

pub(super) async fn collect_sockets(
    op: &Op,
    count: usize,
) -> Result<HashMap<String, WebSocket>, String> {
    let mut rx = op.take_sockets().ok_or("Sockets already taken")?;
    let mut sockets = HashMap::new();
    while sockets.len() < count {
        let next = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()).await;
        match next {
            Ok(Some(s)) => {
                sockets.insert(s.fd, s.socket);
            }
            _ => return Err("Timed out waiting for the websockets".into()),
        }
    }
    Ok(sockets)
}

/// A command started for a websocket exec and held back until its client has connected,
/// with the daemon's ends of its terminal or pipes.
enum Prepared {
    Interactive {
        proc: ExecProcess,
        master: std::os::fd::OwnedFd,
    },
    Piped {
        proc: ExecProcess,
        ends: PipeEnds,
    },
}

/// Start `spec`'s command on a new terminal (interactive) or pipes; it waits for its go.
fn prepare(state: &AppState, spec: &ExecSpec, req: &InstanceExecPost) -> Result<Prepared, String> {
    if req.interactive {
        let pty = open_pty(spec.init_pid, req.width, req.height)?;
        let slave = std::fs::File::from(pty.terminal);
        let stdio = [
            slave.try_clone().map_err(|e| e.to_string())?.into(),
            slave.try_clone().map_err(|e| e.to_string())?.into(),
            slave.into(),
        ];
        let proc =
            crate::runtime::exec::spawn(&state.paths, spec, stdio).map_err(|e| e.to_string())?;
        return Ok(Prepared::Interactive {
            proc,
            master: pty.master,
        });
    }
    let pipes = (|| {
        use crate::runtime::exec::{output_pipe, stdin_pipe};
        Ok::<_, std::io::Error>((stdin_pipe()?, output_pipe()?, output_pipe()?))
    })();
    let ((child_in, stdin), (child_out, stdout), (child_err, stderr)) =
        pipes.map_err(|e| format!("Failed to create pipes: {e}"))?;
    let stdio = [child_in, child_out, child_err];
    let proc = crate::runtime::exec::spawn(&state.paths, spec, stdio).map_err(|e| e.to_string())?;
    Ok(Prepared::Piped {
        proc,
        ends: (stdin, stdout, stderr),
    })
}

/// Connect the client's websockets to the prepared command, let it run and report its status.
async fn run_websockets(prepared: Result<Prepared, String>, op: Arc<Op>) -> Result<(), String> {
    let code = match prepared? {
        Prepared::Interactive { proc, master } => {
            let (mut sockets, _) = collect_required(&op, &["0", "control"]).await?;
            let control = sockets.remove("control").ok_or("No control socket")?;
            interactive(proc, master, sockets, control).await?
        }
        Prepared::Piped { proc, ends } => {
            let (mut sockets, rx) = collect_required(&op, &["0", "1", "2"]).await?;
            let control = match sockets.remove("control") {
                Some(ws) => ControlSocket::Connected(Box::new(ws)),
                None => ControlSocket::Later(rx),
            };
            piped(proc, ends, sockets, control).await?
        }
    };
    finish_metadata(&op, &[("return", json!(code))]);
    special_exit_error(code)
}

/// Relay `reader` to `ws` as binary frames, then send the empty text frame that means EOF.
pub(super) async fn pump_out(
    mut reader: impl tokio::io::AsyncRead + Unpin,
    mut ws: futures_util::stream::SplitSink<WebSocket, Message>,
) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if ws
                    .send(Message::Binary(buf[..n].to_vec().into()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    }
    let _ = ws.send(Message::Text(String::new().into())).await;
    let _ = ws.close().await;
}

/// Relay binary frames from `ws` into `writer` until EOF (a text or close frame).
pub(super) async fn pump_in(
    mut ws: futures_util::stream::SplitStream<WebSocket>,
    mut writer: impl tokio::io::AsyncWrite + Unpin,
) {
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Binary(data) if writer.write_all(&data).await.is_err() => return,
            Message::Binary(_) => {}
            Message::Text(_) | Message::Close(_) => break,
            _ => {}
        }
    }
    let _ = writer.shutdown().await;
}

/// Handle control messages (signals, window size) until the socket closes.
pub(super) async fn control_loop(
    mut control: WebSocket,
    proc_pid: impl Fn() -> Option<i32>,
    pty: Option<Arc<std::os::fd::OwnedFd>>,
) {
    while let Some(Ok(msg)) = control.recv().await {
        let Message::Text(text) = msg else { continue };
        let Ok(ctl) = serde_json::from_str::<InstanceExecControl>(&text) else {
            continue;
        };
        match ctl.command.as_str() {
            "signal" => {
                if let (Some(pid), Ok(sig)) =
                    (proc_pid(), nix::sys::signal::Signal::try_from(ctl.signal))
                {
                    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
                }
            }
            "window-resize" => {
                let get = |k: &str| ctl.args.get(k).and_then(|v| v.parse::<u16>().ok());
                if let (Some(pty), Some(w), Some(h)) = (&pty, get("width"), get("height")) {
                    use std::os::fd::AsFd;
                    let _ = lxd_sys::tty::set_window_size(pty.as_fd(), w, h);
                }
            }
            _ => {}
        }
    }
}

/// The control socket of a piped exec: connected with the streams, or perhaps later.
enum ControlSocket {
    Connected(Box<WebSocket>),
    Later(UnboundedReceiver<OpSocket>),
}

/// The ends of a piped command's stdin, stdout and stderr that the daemon keeps.
type PipeEnds = (
    tokio::net::unix::pipe::Sender,
    tokio::net::unix::pipe::Receiver,
    tokio::net::unix::pipe::Receiver,
);

async fn piped(
    mut proc: ExecProcess,
    (stdin, stdout, stderr): PipeEnds,
    mut sockets: HashMap<String, WebSocket>,
    control: ControlSocket,
) -> Result<i32, String> {
    let (s0, s1, s2) = (
        sockets.remove("0"),
        sockets.remove("1"),
        sockets.remove("2"),
    );
    let (Some(s0), Some(s1), Some(s2)) = (s0, s1, s2) else {
        return Err("Missing an exec stream".into());
    };
    proc.go().await.map_err(|e| e.to_string())?;
    let input = tokio::spawn(pump_in(s0.split().1, stdin));
    let out = tokio::spawn(pump_out(stdout, s1.split().0));
    let err = tokio::spawn(pump_out(stderr, s2.split().0));
    let pid = proc.pid_reader();
    let ctl = tokio::spawn(async move {
        let control = match control {
            ControlSocket::Connected(ws) => Some(*ws),
            ControlSocket::Later(rx) => late_control(rx).await,
        };
        if let Some(control) = control {
            control_loop(control, pid, None).await;
        }
    });
    let code = wait(&mut proc).await?;
    let _ = out.await;
    let _ = err.await;
    input.abort();
    ctl.abort();
    Ok(code)
}

async fn interactive(
    mut proc: ExecProcess,
    master: std::os::fd::OwnedFd,
    mut sockets: HashMap<String, WebSocket>,
    control: WebSocket,
) -> Result<i32, String> {
    proc.go().await.map_err(|e| e.to_string())?;
    let master = Arc::new(master);
    let reader = tokio::fs::File::from_std(std::fs::File::from(
        master.try_clone().map_err(|e| e.to_string())?,
    ));
    let writer = tokio::fs::File::from_std(std::fs::File::from(
        master.try_clone().map_err(|e| e.to_string())?,
    ));
    let s0 = sockets.remove("0").ok_or("Missing the terminal stream")?;
    let (sink, stream) = s0.split();
    let out = tokio::spawn(pump_out(reader, sink));
    let input = tokio::spawn(pump_in(stream, writer));
    let ctl = tokio::spawn(control_loop(control, proc.pid_reader(), Some(master)));
    let code = wait(&mut proc).await?;
    // The reader ends with EIO once no process holds the terminal; don't wait forever for
    // background processes that keep it open.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), out).await;
    input.abort();
    ctl.abort();
    Ok(code)
}

/// A pty in the container's own devpts (so the command's terminal exists inside it), its
/// terminal owned by the container's root; the host's devpts when the container has none.
fn open_pty(init_pid: i32, width: i64, height: i64) -> Result<lxd_sys::tty::Pty, String> {
    let (cols, rows) = match (u16::try_from(width), u16::try_from(height)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => (w, h),
        _ => (80, 25),
    };
    let root_of = |map: &str| {
        let text = std::fs::read_to_string(format!("/proc/{init_pid}/{map}")).unwrap_or_default();
        text.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|f| f.len() == 3 && f[0] == "0")
            .and_then(|f| f[1].parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (uid, gid) = (root_of("uid_map"), root_of("gid_map"));
    let root = std::path::PathBuf::from(format!("/proc/{init_pid}/root"));
    match lxd_sys::tty::open_pty_in(&root, uid, gid, cols, rows) {
        Ok(pty) => Ok(pty),
        Err(e) => {
            tracing::warn!(pid = init_pid, error = %e, "No pty in the container's devpts, using the host's");
            lxd_sys::tty::open_pty_in(std::path::Path::new("/"), uid, gid, cols, rows)
                .map_err(|e| format!("Failed to open a terminal: {e}"))
        }
    }
}

async fn wait(proc: &mut ExecProcess) -> Result<i32, String> {
    proc.wait().await.map_err(|e| e.to_string())
}
