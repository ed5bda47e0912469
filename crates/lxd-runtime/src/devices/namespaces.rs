//! Entering a running container's namespaces from a single-threaded helper: its user
//! namespace first (when it has its own), so the others are joined with the capabilities it
//! grants, then network and, when asked, mount; inside a user namespace the helper then
//! becomes the container's root, so what it creates belongs to the container.

use std::fs::File;

use nix::sched::{setns, CloneFlags};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};

/// Why the namespaces could not be entered.
#[derive(Debug, thiserror::Error)]
pub enum EnterError {
    #[error("Failed to open the {0} namespace of process {1}")]
    Open(&'static str, i32, #[source] std::io::Error),
    #[error("Failed to join the {0} namespace of the container")]
    Join(&'static str, #[source] nix::Error),
    #[error("Failed to become root in the container")]
    Root(#[source] nix::Error),
}

/// Which namespaces to join besides the user namespace.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    pub net: bool,
    pub mnt: bool,
}

fn same(pid: i32, name: &str) -> bool {
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{name}"));
    let ours = std::fs::read_link(format!("/proc/self/ns/{name}"));
    matches!((theirs, ours), (Ok(a), Ok(b)) if a == b)
}

fn open(pid: i32, name: &'static str) -> Result<File, EnterError> {
    File::open(format!("/proc/{pid}/ns/{name}")).map_err(|e| EnterError::Open(name, pid, e))
}

/// Join the namespaces of `pid` (the caller must be single-threaded). Returns whether a user
/// namespace was joined (the caller is then the container's root).
pub fn enter(pid: i32, wanted: Wanted) -> Result<bool, EnterError> {
    let mut files: Vec<(&'static str, File, CloneFlags)> = Vec::new();
    let userns = !same(pid, "user");
    if userns {
        files.push(("user", open(pid, "user")?, CloneFlags::CLONE_NEWUSER));
    }
    if wanted.net && !same(pid, "net") {
        files.push(("net", open(pid, "net")?, CloneFlags::CLONE_NEWNET));
    }
    if wanted.mnt && !same(pid, "mnt") {
        files.push(("mnt", open(pid, "mnt")?, CloneFlags::CLONE_NEWNS));
    }
    for (name, file, flag) in &files {
        setns(file, *flag).map_err(|e| EnterError::Join(name, e))?;
    }
    if userns {
        setgroups(&[]).map_err(EnterError::Root)?;
        setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .map_err(EnterError::Root)?;
        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .map_err(EnterError::Root)?;
    }
    Ok(userns)
}
