//! File descriptors over UNIX sockets (`SCM_RIGHTS`): the daemon, its fork helpers and the
//! container monitors hand each other ptys, pidfds, namespace and mount fds this way.
//!
//! One call sends some bytes (at least one: a stream socket drops ancillary data riding on
//! an empty message) plus up to [`MAX_FDS`] fds; received fds arrive close-on-exec and owned.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// The kernel's limit of fds per message (`SCM_MAX_FD`).
pub const MAX_FDS: usize = 253;

/// Send `data` (non-empty) with `fds` over the connected socket `sock`; returns the bytes
/// sent (the fds travel with the first byte, so a short send still delivered them).
pub fn send_fds(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<usize> {
    if data.is_empty() {
        let msg = "at least one byte must carry the fds";
        return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    }
    if fds.len() > MAX_FDS {
        let msg = format!("at most {MAX_FDS} fds fit in one message");
        return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    }
    let raw: Vec<RawFd> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    let cmsgs: &[ControlMessage] = if raw.is_empty() {
        &[]
    } else {
        &[ControlMessage::ScmRights(&raw)]
    };
    let iov = [IoSlice::new(data)];
    let flags = MsgFlags::MSG_NOSIGNAL;
    Ok(sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, flags, None)?)
}

/// Receive into `buf` from `sock`, with whatever fds came along (close-on-exec). Returns the
/// byte count (0 at end of stream) and the fds. A message whose fds did not all fit is an
/// error (`ENOBUFS`), which cannot happen for senders within [`MAX_FDS`].
pub fn recv_fds(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, Vec<OwnedFd>)> {
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
    let mut iov = [IoSliceMut::new(buf)];
    let flags = MsgFlags::MSG_CMSG_CLOEXEC;
    let msg = recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut space), flags)?;
    let mut fds = Vec::new();
    // Take ownership of every received fd before looking at errors, so none leaks.
    let cmsgs = msg.cmsgs();
    for cmsg in cmsgs.iter().copied().flatten() {
        if let ControlMessageOwned::ScmRights(raw) = cmsg {
            for fd in raw {
                // SAFETY: the kernel installed `fd` in our table for this message; nothing
                // else knows it, so this is its only owner.
                fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    cmsgs?;
    if msg.flags.contains(MsgFlags::MSG_CTRUNC) {
        return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
    }
    Ok((msg.bytes, fds))
}
