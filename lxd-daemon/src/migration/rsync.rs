//! rsync over a migration websocket, as LXD 5.0.2 runs it (`lxd/rsync`), so either end can be
//! the real LXD: the sender runs an rsync client whose "remote shell" is `lxd netcat`, joined
//! to the daemon through an abstract UNIX socket and relayed to the websocket; the receiver
//! runs `rsync --server` with its stdin and stdout relayed. Both sides pass the same options
//! derived from the negotiated features, since the server side never hears the client's.
//!
//! Blocking code: run it on the blocking pool.

use std::io::{Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::conn::{Conn, StreamReader, StreamWriter};

/// How long rsync gets to connect its remote shell to us.
const SPAWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Counts transferred bytes for the operation's progress.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Whether this rsync knows `--filter=-x` (3.1.3 and later).
fn filter_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let Ok(out) = Command::new("rsync").arg("--version").output() else {
            return false;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text
            .lines()
            .next()
            .and_then(|l| l.split("version ").nth(1))
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        version_at_least(&version, &[3, 1, 3])
    })
}

fn version_at_least(version: &str, min: &[u64]) -> bool {
    let parts: Vec<u64> = version
        .split('.')
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect();
    for (i, m) in min.iter().enumerate() {
        let have = parts.get(i).copied().unwrap_or(0);
        if have != *m {
            return have > *m;
        }
    }
    true
}

/// LXD's `rsyncFeatureArgs`.
pub fn feature_args(features: &[String], filter: bool) -> Vec<String> {
    let has = |f: &str| features.iter().any(|x| x == f);
    let mut args = Vec::new();
    if has("xattrs") {
        args.push("--xattrs".to_string());
        if filter {
            args.push("--filter=-x security.selinux".to_string());
        }
    }
    if has("delete") {
        args.push("--delete".to_string());
    }
    if has("compress") {
        args.push("--compress".to_string());
        args.push("--compress-level=2".to_string());
    }
    args
}

/// The sender's rsync client arguments.
pub fn send_args(
    path: &Path,
    bwlimit: &str,
    features: &[String],
    extra: &[String],
    shell: &str,
) -> Vec<String> {
    let mut args: Vec<String> = ["-ar", "--devices", "--numeric-ids", "--partial", "--sparse"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !bwlimit.is_empty() {
        args.push("--bwlimit".into());
        args.push(bwlimit.into());
    }
    args.extend(feature_args(features, filter_supported()));
    args.extend(extra.iter().cloned());
    let mut source = path.display().to_string();
    if !source.ends_with('/') {
        source.push('/');
    }
    args.extend([
        source,
        "localhost:/tmp/foo".into(),
        "-e".into(),
        shell.into(),
    ]);
    args
}

/// The receiver's `rsync --server` arguments.
pub fn recv_args(path: &Path, features: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--server",
        "-vlogDtpre.iLsfx",
        "--numeric-ids",
        "--devices",
        "--partial",
        "--sparse",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(feature_args(features, filter_supported()));
    let mut dest = path.display().to_string();
    if !dest.ends_with('/') {
        dest.push('/');
    }
    args.extend([".".to_string(), dest]);
    args
}

/// Copy `from` into the websocket in frames, then end the stream.
fn pump_out(
    mut from: impl Read,
    writer: &mut StreamWriter<'_>,
    progress: Progress<'_>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 128 * 1024];
    let mut total = 0u64;
    let result = loop {
        match from.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = writer.write_all(&buf[..n]) {
                    break Err(e);
                }
                total += n as u64;
                progress(total);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        }
    };
    let ended = writer.end_stream();
    result.and(ended)
}

/// Copy the peer's current stream into `to`.
fn pump_in(
    reader: &mut StreamReader<'_>,
    mut to: impl Write,
    progress: Option<Progress<'_>>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 128 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            reader.next_stream();
            return Ok(());
        }
        // A peer rsync that stopped reading ends the copy with EPIPE; keep draining so the
        // stream stays in step, the exit status tells what went wrong.
        if to.write_all(&buf[..n]).is_err() {
            reader.drain_stream()?;
            reader.next_stream();
            return Ok(());
        }
        total += n as u64;
        if let Some(p) = progress {
            p(total);
        }
    }
}

fn errors_text(errs: &[String]) -> String {
    format!("[{}]", errs.join(" "))
}

fn exit_text(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "signal: killed".to_string(),
    }
}

/// What an rsync run ended with.
pub struct RsyncFailure {
    pub code: Option<i32>,
    pub message: String,
}

/// Send the tree at `path` over `conn` (LXD's `rsync.Send`). `exec` is the `lxd` binary that
/// provides `netcat`.
#[allow(clippy::too_many_arguments)]
pub fn send(
    name: &str,
    path: &Path,
    conn: &mut Conn,
    features: &[String],
    bwlimit: &str,
    exec: &Path,
    extra: &[String],
    progress: Progress<'_>,
) -> Result<(), RsyncFailure> {
    let fail = |message: String| RsyncFailure {
        code: None,
        message,
    };
    let socket_name = format!("lxd/{}", uuid::Uuid::new_v4());
    let addr =
        SocketAddr::from_abstract_name(socket_name.as_bytes()).map_err(|e| fail(e.to_string()))?;
    let listener = UnixListener::bind_addr(&addr).map_err(|e| fail(e.to_string()))?;
    let shell = format!("sh -c \"{} netcat @{socket_name} {name}\"", exec.display());
    let args = send_args(path, bwlimit, features, extra, &shell);
    tracing::debug!(volume = name, ?args, "rsync send");
    let mut child = Command::new("rsync")
        .args(&args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let mut stderr = child.stderr.take();
    let stream = accept(listener);
    let Some(stream) = stream else {
        let _ = child.kill();
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        let _ = child.wait();
        return Err(fail(format!("rsync failed to spawn after 10s ({text})")));
    };
    let (mut reader, mut writer) = conn.split_io();
    let out_stream = stream.try_clone().map_err(|e| fail(e.to_string()))?;
    let (status, text, copy_out, copy_in) = std::thread::scope(|scope| {
        let out = scope.spawn(move || pump_out(&stream, &mut writer, progress));
        let inp = scope.spawn(move || {
            let r = pump_in(&mut reader, &out_stream, None);
            let _ = out_stream.shutdown(std::net::Shutdown::Write);
            r
        });
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        let status = child.wait();
        let copy_out = out.join().unwrap_or(Ok(()));
        let copy_in = inp.join().unwrap_or(Ok(()));
        (status, text, copy_out, copy_in)
    });
    let status = status.map_err(|e| fail(e.to_string()))?;
    if status.success() {
        return Ok(());
    }
    let mut errs = vec![exit_text(status)];
    errs.extend(copy_out.err().map(|e| e.to_string()));
    errs.extend(copy_in.err().map(|e| e.to_string()));
    Err(RsyncFailure {
        code: status.code(),
        message: format!(
            "Rsync send failed: {name}, {}: {} ({text})",
            path.display(),
            errors_text(&errs)
        ),
    })
}

/// Wait for rsync's remote shell to connect.
fn accept(listener: UnixListener) -> Option<UnixStream> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(listener.accept().ok().map(|(s, _)| s));
    });
    rx.recv_timeout(SPAWN_TIMEOUT).ok().flatten()
}

/// Receive a tree into `path` from `conn` (LXD's `rsync.Recv`).
pub fn recv(
    path: &Path,
    conn: &mut Conn,
    features: &[String],
    progress: Progress<'_>,
) -> Result<(), RsyncFailure> {
    let args = recv_args(path, features);
    tracing::debug!(path = %path.display(), ?args, "rsync receive");
    let fail = |message: String| RsyncFailure {
        code: None,
        message,
    };
    let mut child = Command::new("rsync")
        .args(&args)
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let (mut reader, mut writer) = conn.split_io();
    let (status, text, copy_out, copy_in) = std::thread::scope(|scope| {
        let out = scope.spawn(move || match stdout {
            Some(o) => pump_out(o, &mut writer, &|_| {}),
            None => Ok(()),
        });
        let inp = scope.spawn(move || match stdin {
            Some(i) => pump_in(&mut reader, i, Some(progress)),
            None => Ok(()),
        });
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        let status = child.wait();
        let copy_out = out.join().unwrap_or(Ok(()));
        let copy_in = inp.join().unwrap_or(Ok(()));
        (status, text, copy_out, copy_in)
    });
    let status = status.map_err(|e| fail(e.to_string()))?;
    if status.success() {
        return Ok(());
    }
    let mut errs = vec![exit_text(status)];
    errs.extend(copy_out.err().map(|e| e.to_string()));
    errs.extend(copy_in.err().map(|e| e.to_string()));
    Err(RsyncFailure {
        code: status.code(),
        message: format!(
            "Rsync receive failed: {}: {} ({text})",
            path.display(),
            errors_text(&errs)
        ),
    })
}

/// `lxd netcat ADDRESS NAME`: rsync's remote shell; joins stdin and stdout to the daemon's
/// socket at `address` (`@name` for an abstract socket).
pub fn netcat(address: &str) -> std::io::Result<()> {
    let stream = match address.strip_prefix('@') {
        Some(name) => UnixStream::connect_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?,
        None => UnixStream::connect(address)?,
    };
    let reader = stream.try_clone()?;
    // Raw descriptors: std's stdout is line-buffered, which would hold rsync's protocol bytes.
    use std::os::fd::AsFd;
    let mut stdin = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    let mut stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let to_socket = std::thread::spawn(move || {
        let mut s = &stream;
        let _ = std::io::copy(&mut stdin, &mut s);
        let _ = stream.shutdown(std::net::Shutdown::Write);
    });
    let mut r = &reader;
    let _ = std::io::copy(&mut r, &mut stdout);
    // rsync closes our stdin once it is done; if it never does, leaving is still right.
    drop(to_socket);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_args_as_lxd_orders_them() {
        let f: Vec<String> = ["compress", "xattrs", "delete", "bidirectional"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            feature_args(&f, true),
            [
                "--xattrs",
                "--filter=-x security.selinux",
                "--delete",
                "--compress",
                "--compress-level=2"
            ]
        );
        assert_eq!(
            feature_args(&f[..1], false),
            ["--compress", "--compress-level=2"]
        );
    }

    #[test]
    fn recv_args_end_with_dot_and_slashed_path() {
        let a = recv_args(Path::new("/p/c1"), &[]);
        assert_eq!(
            a.join(" "),
            "--server -vlogDtpre.iLsfx --numeric-ids --devices --partial --sparse . /p/c1/"
        );
    }

    #[test]
    fn send_args_put_shell_last() {
        let a = send_args(Path::new("/p/c1"), "10M", &[], &[], "sh -c \"x\"");
        assert_eq!(
            a.join(" "),
            "-ar --devices --numeric-ids --partial --sparse --bwlimit 10M /p/c1/ localhost:/tmp/foo -e sh -c \"x\""
        );
    }

    #[test]
    fn version_comparison_is_numeric() {
        assert!(version_at_least("3.2.7", &[3, 1, 3]));
        assert!(version_at_least("3.1.3", &[3, 1, 3]));
        assert!(!version_at_least("3.1.2", &[3, 1, 3]));
        assert!(version_at_least("3.10.0", &[3, 9, 0]));
    }
}
