//! Process tier (no root): pidfds on a real child and fd passing over a socketpair.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

use lxd_sys::fdpass::{recv_fds, send_fds, MAX_FDS};
use lxd_sys::proc::{pidfd_open, pidfd_send_signal};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

#[test]
fn pidfd_send_signal_sigkill_child_dies_then_esrch() {
    let mut child = Command::new("sleep")
        .arg("60")
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pidfd = pidfd_open(Pid::from_raw(child.id() as i32)).unwrap();
    pidfd_send_signal(pidfd.as_fd(), None).unwrap();
    pidfd_send_signal(pidfd.as_fd(), Some(Signal::SIGKILL)).unwrap();
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let err = pidfd_send_signal(pidfd.as_fd(), None).unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::ESRCH),
        "a reaped process is gone for good"
    );
}

#[test]
fn pidfd_open_no_such_pid_esrch() {
    // Pids above the kernel's pid_max (at most 2^22) never exist.
    let err = pidfd_open(Pid::from_raw(i32::MAX)).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
}

#[test]
fn send_fds_two_files_received_share_offsets() {
    let (a, b) = UnixStream::pair().unwrap();
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"hello world").unwrap();
    let (r, w) = nix::unistd::pipe().unwrap();

    let sent = send_fds(a.as_fd(), b"msg", &[file.as_fd(), w.as_fd()]).unwrap();
    assert_eq!(sent, 3);
    let mut buf = [0u8; 16];
    let (n, fds) = recv_fds(b.as_fd(), &mut buf).unwrap();
    assert_eq!((&buf[..n], fds.len()), (&b"msg"[..], 2));

    let mut got_file = std::fs::File::from(fds.into_iter().next().unwrap());
    got_file.seek(SeekFrom::Start(6)).unwrap();
    let mut text = String::new();
    got_file.read_to_string(&mut text).unwrap();
    assert_eq!(text, "world");
    assert_eq!(
        file.stream_position().unwrap(),
        11,
        "one open file description, shared"
    );
    drop(w);
    drop(r);
}

#[test]
fn recv_fds_received_fds_close_on_exec() {
    let (a, b) = UnixStream::pair().unwrap();
    let file = tempfile::tempfile().unwrap();
    send_fds(a.as_fd(), b"x", &[file.as_fd()]).unwrap();
    let (_, fds) = recv_fds(b.as_fd(), &mut [0u8; 1]).unwrap();
    let flags = nix::fcntl::fcntl(&fds[0], nix::fcntl::FcntlArg::F_GETFD).unwrap();
    assert_ne!(flags & libc::FD_CLOEXEC, 0);
}

#[test]
fn recv_fds_plain_bytes_no_fds() {
    let (mut a, b) = UnixStream::pair().unwrap();
    a.write_all(b"abc").unwrap();
    let (n, fds) = recv_fds(b.as_fd(), &mut [0u8; 8]).unwrap();
    assert_eq!((n, fds.len()), (3, 0));
    drop(a);
    let (n, fds) = recv_fds(b.as_fd(), &mut [0u8; 8]).unwrap();
    assert_eq!((n, fds.len()), (0, 0), "end of stream");
}

#[test]
fn send_fds_bad_arguments_invalid_input() {
    let (a, _b) = UnixStream::pair().unwrap();
    let err = send_fds(a.as_fd(), b"", &[]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let file = tempfile::tempfile().unwrap();
    let many = vec![file.as_fd(); MAX_FDS + 1];
    let err = send_fds(a.as_fd(), b"x", &many).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
