//! Running commands in containers through the exec server (`lxd forkexecd`, started on first
//! use and again if it died), with the caller's stdio. A command is prepared (its helper
//! joins the container) before it is let run, so that work overlaps the client's connecting.

use std::os::fd::{AsFd, OwnedFd};
use std::process::Stdio;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lxd_runtime::container::exec::ExecSpec;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use tokio::io::AsyncReadExt;

use super::{helper_binary, RuntimeError};
use crate::paths::Paths;

/// A command started by the exec server.
pub struct ExecProcess {
    /// Where the server's child reports the command's pid and exit status.
    status: tokio::net::UnixStream,
    /// The command's pid (as the host sees it) once it runs, 0 before.
    pid: Arc<AtomicI32>,
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

    /// Wait for the command's exit status (128 + N when signal N killed it), noting its pid
    /// on the way.
    pub async fn wait(&mut self) -> Result<i32, RuntimeError> {
        loop {
            let mut record = [0u8; STATUS_RECORD_LEN];
            self.status
                .read_exact(&mut record)
                .await
                .map_err(|e| RuntimeError::Spawn("exec", e))?;
            match decode_status_record(record) {
                Some(StatusRecord::Pid(pid)) => self.pid.store(pid, Ordering::Relaxed),
                Some(StatusRecord::Exit(code)) => return Ok(code),
                None => {
                    return Err(RuntimeError::Spawn(
                        "exec",
                        std::io::Error::other("unexpected report from the exec server"),
                    ))
                }
            }
        }
    }

    /// The command's pid once it runs (for forwarding signals); it is learnt by
    /// [`ExecProcess::wait`].
    pub fn pid_reader(&self) -> impl Fn() -> Option<i32> + Send + Sync + 'static {
        let pid = self.pid.clone();
        move || Some(pid.load(Ordering::Relaxed)).filter(|p| *p > 0)
    }
}

/// The length of one report on a status socket: a tag byte and an `i32`, little-endian.
pub const STATUS_RECORD_LEN: usize = 5;
const TAG_PID: u8 = b'p';
const TAG_EXIT: u8 = b'x';

/// One report from the exec server's child on a command's status socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRecord {
    /// The command runs with this pid (as the host sees it).
    Pid(i32),
    /// The command ended with this status.
    Exit(i32),
}

/// The bytes of `record` on a status socket.
pub fn encode_status_record(record: StatusRecord) -> [u8; STATUS_RECORD_LEN] {
    let (tag, value) = match record {
        StatusRecord::Pid(pid) => (TAG_PID, pid),
        StatusRecord::Exit(code) => (TAG_EXIT, code),
    };
    let v = value.to_le_bytes();
    [tag, v[0], v[1], v[2], v[3]]
}

/// The report in `bytes`; `None` for a tag no child writes.
fn decode_status_record(bytes: [u8; STATUS_RECORD_LEN]) -> Option<StatusRecord> {
    let value = i32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    match bytes[0] {
        TAG_PID => Some(StatusRecord::Pid(value)),
        TAG_EXIT => Some(StatusRecord::Exit(value)),
        _ => None,
    }
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

/// The body of a request; its fds carry it: the spec (a memfd), the command's stdin, stdout
/// and stderr, and the status socket.
pub const REQUEST: &[u8] = b"exec";

/// Send one request to the exec server, starting it when it is not running.
fn send_request(paths: &Paths, fds: [&OwnedFd; 5]) -> std::io::Result<()> {
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
        match lxd_sys::fdpass::send_fds(running.socket.as_fd(), REQUEST, &fds) {
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
/// [`ExecProcess::go`] is called, and is called off if the process is dropped before.
pub fn spawn(
    paths: &Paths,
    spec: &ExecSpec,
    stdio: [OwnedFd; 3],
) -> Result<ExecProcess, RuntimeError> {
    let failed = |e| RuntimeError::Spawn("exec", e);
    let spec_fd = spec_memfd(&serde_json::to_vec(spec).unwrap_or_default()).map_err(failed)?;
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(failed)?;
    let theirs = OwnedFd::from(theirs);
    let [stdin, stdout, stderr] = &stdio;
    send_request(paths, [&spec_fd, stdin, stdout, stderr, &theirs]).map_err(failed)?;
    let status = ours
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixStream::from_std(ours))
        .map_err(failed)?;
    Ok(ExecProcess {
        status,
        pid: Arc::new(AtomicI32::new(0)),
    })
}

/// The spec as an anonymous file, read from its start: a file in the instance's directory
/// cost an ext4 inode created and deleted per command.
fn spec_memfd(json: &[u8]) -> std::io::Result<OwnedFd> {
    use nix::sys::memfd::{memfd_create, MFdFlags};
    use std::io::{Seek, Write};
    let fd = memfd_create(c"lxd-exec-spec", MFdFlags::MFD_CLOEXEC)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(json)?;
    file.rewind()?;
    Ok(file.into())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_records_round_trip_and_unknown_tags_are_refused() {
        for record in [
            StatusRecord::Pid(4242),
            StatusRecord::Exit(0),
            StatusRecord::Exit(137),
            StatusRecord::Exit(-1),
        ] {
            assert_eq!(
                decode_status_record(encode_status_record(record)),
                Some(record)
            );
        }
        assert_eq!(decode_status_record([b'?', 1, 0, 0, 0]), None);
    }

    #[test]
    fn the_spec_memfd_reads_back_from_its_start() {
        use std::io::Read;
        let fd = spec_memfd(br#"{"argv":["true"]}"#).unwrap();
        let mut text = String::new();
        std::fs::File::from(fd).read_to_string(&mut text).unwrap();
        assert_eq!(text, r#"{"argv":["true"]}"#);
    }
}
