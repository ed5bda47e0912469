//! Running work inside another network namespace: a short-lived thread joins it with
//! `setns(CLONE_NEWNET)` (allowed per thread, even in a multi-threaded process), runs the
//! closure and ends, so no other thread ever changes namespace.

use std::fs::File;
use std::path::Path;

use nix::sched::{setns, CloneFlags};

/// Why work could not run in the namespace.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("Failed to open the network namespace {0}")]
    Open(String, #[source] std::io::Error),
    #[error("Failed to enter the network namespace")]
    Enter(#[source] nix::Error),
    #[error("Failed to start a thread for the network namespace")]
    Thread(#[source] std::io::Error),
    #[error("The network namespace worker panicked")]
    Panicked,
}

/// The network namespace of a process.
pub fn of_pid(pid: i32) -> Result<File, NetnsError> {
    let path = format!("/proc/{pid}/ns/net");
    File::open(Path::new(&path)).map_err(|e| NetnsError::Open(path, e))
}

/// Run `work` on a thread inside the namespace `netns`.
pub fn run_in<T: Send + 'static>(
    netns: File,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, NetnsError> {
    let handle = std::thread::Builder::new()
        .name("netns".into())
        .spawn(move || {
            setns(&netns, CloneFlags::CLONE_NEWNET).map_err(NetnsError::Enter)?;
            drop(netns);
            Ok(work())
        })
        .map_err(NetnsError::Thread)?;
    handle.join().map_err(|_| NetnsError::Panicked)?
}
