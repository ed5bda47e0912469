//! Running commands in containers through the exec server (`lxd forkexecd`, started on first
//! use and again if it died), with the caller's stdio. A command is prepared (its helper
//! joins the container) before it is let run, so that work overlaps the client's connecting.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};

use lxd_runtime::container::exec::ExecSpec;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use tokio::io::AsyncReadExt;

use super::{helper_binary, io, state_dir, RuntimeError};
use crate::paths::Paths;

/// A command started by the exec server.
pub struct ExecProcess {
    /// Where the server's child writes the command's exit status.
    status: tokio::net::UnixStream,
    /// Holds the pid of the command (as the host sees it) once it runs.
    pub pid_file: PathBuf,
    spec_file: PathBuf,
}

impl ExecProcess {
    /// Let the prepared command run (it waits, joined to its container, until this).
    pub async fn go(&mut self) -> Result<(), RuntimeError> {
        use tokio::io::AsyncWriteExt;
        self.status
            .write_all(&[1])
            .await
            .map_err(|e| RuntimeError::Spawn("exec", e))
    }

    /// Wait for the command's exit status (128 + N when signal N killed it), then remove the
    /// helper's files.
    pub async fn wait(&mut self) -> Result<i32, RuntimeError> {
        let mut code = [0u8; 4];
        let read = self.status.read_exact(&mut code).await;
        self.cleanup();
        read.map_err(|e| RuntimeError::Spawn("exec", e))?;
        Ok(i32::from_le_bytes(code))
    }

    /// Remove the helper's files.
    pub fn cleanup(&self) {
        let _ = std::fs::remove_file(&self.spec_file);
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// The command's pid from an [`ExecProcess::pid_file`], once known (for forwarding signals).
pub fn read_command_pid(pid_file: &std::path::Path) -> Option<i32> {
    std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// The running exec server and the daemon's end of its socket.
struct Server {
    socket: OwnedFd,
    process: tokio::process::Child,
}

static SERVER: Mutex<Option<Server>> = Mutex::new(None);

fn start_server(paths: &Paths) -> std::io::Result<Server> {
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    let process = tokio::process::Command::new(helper_binary())
        .arg("forkexecd")
        .env("LXD_DIR", &paths.var)
        .stdin(Stdio::from(theirs))
        .kill_on_drop(false)
        .spawn()?;
    Ok(Server {
        socket: ours,
        process,
    })
}

/// Send one request to the exec server, starting it when it is not running.
fn send_request(paths: &Paths, spec: &[u8], fds: [&OwnedFd; 4]) -> std::io::Result<()> {
    let fds = fds.map(|fd| fd.as_fd());
    let mut server = SERVER.lock().unwrap_or_else(PoisonError::into_inner);
    let mut last = None;
    for _ in 0..2 {
        let gone = match server.as_mut() {
            Some(s) => !matches!(s.process.try_wait(), Ok(None)),
            None => true,
        };
        if gone {
            *server = Some(start_server(paths)?);
        }
        let Some(running) = server.as_ref() else {
            continue;
        };
        match lxd_sys::fdpass::send_fds(running.socket.as_fd(), spec, &fds) {
            Ok(_) => return Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "The exec server did not take a request; restarting it");
                *server = None;
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no exec server")))
}

/// Prepare `spec` in its container with `stdio` (stdin, stdout, stderr); it runs once
/// [`ExecProcess::go`] is called, and is called off if the process is dropped before. `id`
/// names the helper's files.
pub fn spawn(
    paths: &Paths,
    spec: &ExecSpec,
    id: &str,
    stdio: [OwnedFd; 3],
) -> Result<ExecProcess, RuntimeError> {
    let dir = state_dir(paths, &spec.name);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let spec_file = dir.join(format!("exec_{id}.json"));
    std::fs::write(&spec_file, serde_json::to_vec(spec).unwrap_or_default())
        .map_err(io(&spec_file))?;
    let (ours, theirs) =
        std::os::unix::net::UnixStream::pair().map_err(|e| RuntimeError::Spawn("exec", e))?;
    let theirs = OwnedFd::from(theirs);
    let [stdin, stdout, stderr] = &stdio;
    let request = spec_file.as_os_str().as_encoded_bytes();
    let sent = send_request(paths, request, [stdin, stdout, stderr, &theirs]);
    if let Err(e) = sent {
        let _ = std::fs::remove_file(&spec_file);
        return Err(RuntimeError::Spawn("exec", e));
    }
    let status = ours
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixStream::from_std(ours))
        .map_err(|e| RuntimeError::Spawn("exec", e))?;
    Ok(ExecProcess {
        status,
        pid_file: spec_file.with_extension("pid"),
        spec_file,
    })
}

/// A pipe for a command's stdin: the read end for the command, the write end for us.
pub fn stdin_pipe() -> std::io::Result<(OwnedFd, tokio::net::unix::pipe::Sender)> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    Ok((read, tokio::net::unix::pipe::Sender::from_owned_fd(write)?))
}

/// A pipe for a command's output: the write end for the command, the read end for us.
pub fn output_pipe() -> std::io::Result<(OwnedFd, tokio::net::unix::pipe::Receiver)> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    Ok((
        write,
        tokio::net::unix::pipe::Receiver::from_owned_fd(read)?,
    ))
}
