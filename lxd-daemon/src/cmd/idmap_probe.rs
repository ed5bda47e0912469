//! `lxd forkidmapprobe PATH UID GID` (internal): whether the filesystem holding `PATH`
//! accepts an idmapped mount for a user namespace whose root is host `UID`/`GID` (LXD's
//! `CanIdmapMount`). It needs a child in a new user namespace, which only a single-threaded
//! process may clone, hence a helper of its own. Exits 0 when it does, 1 when it does not.

use std::os::fd::AsFd;
use std::path::Path;

use anyhow::Context;
use lxd_sys::proc::{open_userns, write_id_maps, SetGroups};
use lxd_sys::HostPaths;
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, Signal};

/// Probe `path` with a throwaway user namespace mapping root to `uid`/`gid`.
pub fn run(path: &Path, uid: u32, gid: u32) -> anyhow::Result<bool> {
    let child = lxd_sys::spawn::clone_child(
        CloneFlags::CLONE_NEWUSER,
        Box::new(|| loop {
            nix::unistd::pause();
        }),
    )
    .context("Failed to create a user namespace")?;
    let probe = || -> anyhow::Result<bool> {
        let paths = HostPaths::real();
        let (uid_map, gid_map) = (format!("0 {uid} 1\n"), format!("0 {gid} 1\n"));
        write_id_maps(&paths, child, &uid_map, &gid_map, SetGroups::Allow)?;
        let userns = open_userns(&paths, child)?;
        Ok(lxd_sys::mount_api::can_idmap_mount(path, userns.as_fd()))
    };
    let result = probe();
    let _ = kill(child, Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(child, None);
    result
}
