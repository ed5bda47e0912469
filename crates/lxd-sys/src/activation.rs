//! systemd socket activation: the listening sockets handed over through `LISTEN_PID` and
//! `LISTEN_FDS` (sd_listen_fds(3)), starting at file descriptor 3.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// First descriptor systemd passes.
const SD_LISTEN_FDS_START: RawFd = 3;

/// Take the descriptors passed by systemd, if they are meant for this process. The
/// variables are removed so children do not inherit them. Returns an empty list when the
/// process was not socket-activated.
pub fn take_listen_fds() -> Vec<OwnedFd> {
    let pid_matches = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        .is_some_and(|p| p == std::process::id());
    let count = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<RawFd>().ok())
        .unwrap_or(0);
    for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(var);
    }
    if !pid_matches || count <= 0 {
        return Vec::new();
    }
    (SD_LISTEN_FDS_START..SD_LISTEN_FDS_START + count)
        .filter(|fd| std::path::Path::new(&format!("/proc/self/fd/{fd}")).exists())
        .map(|fd| {
            // SAFETY: systemd passed these descriptors to this process (LISTEN_PID matched our
            // pid), /proc/self/fd just showed each is open, and nothing else in the process owns
            // them: they are taken exactly once because the variables were removed above.
            unsafe { OwnedFd::from_raw_fd(fd) }
        })
        .collect()
}
