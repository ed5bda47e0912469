//! Code run by the container's init process between `clone` and `exec`: wait for the
//! parent (id maps, cgroups, idmapped root), build the filesystem, drop privileges the way
//! LXD does, and exec init. Failures are reported on the sync socket before exiting.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sched::{unshare, CloneFlags};
use nix::unistd::{setgroups, sethostname, setresgid, setresuid, setsid, Gid, Uid};

use super::spec::ContainerSpec;
use super::{mounts, nesting};

/// Capabilities LXD drops from unprivileged containers (bounding set).
const DROPPED_CAPS: &[caps::Capability] = &[
    caps::Capability::CAP_MAC_ADMIN,
    caps::Capability::CAP_MAC_OVERRIDE,
    caps::Capability::CAP_SYS_TIME,
    caps::Capability::CAP_SYS_MODULE,
];

/// Entry point of the child; returns the exit status when exec failed.
pub fn run(
    spec: &ContainerSpec,
    mut sync: UnixStream,
    console: Option<&Path>,
    cgroup_tasks: &[std::fs::File],
) -> isize {
    match setup_and_exec(spec, &mut sync, console, cgroup_tasks) {
        Ok(never) => match never {},
        Err(msg) => {
            let _ = sync.write_all(msg.as_bytes());
            1
        }
    }
}

fn setup_and_exec(
    spec: &ContainerSpec,
    sync: &mut UnixStream,
    console: Option<&Path>,
    cgroup_tasks: &[std::fs::File],
) -> Result<std::convert::Infallible, String> {
    let mut go = [0u8; 1];
    let (n, mut fds) = lxd_sys::fdpass::recv_fds(sync.as_fd(), &mut go)
        .map_err(|e| format!("Failed waiting for the parent: {e}"))?;
    if n == 0 {
        return Err("The parent went away".into());
    }
    // 'I': the idmapped root comes first; 'G': bind the root as it is. One tree per disk
    // mount follows.
    let idmapped: Option<OwnedFd> = if go[0] == b'I' && !fds.is_empty() {
        Some(fds.remove(0))
    } else {
        None
    };
    let volume_trees = fds;
    // AppArmor: init's exec runs under the container's profile.
    super::apparmor_exec_label(spec)?;
    // Into the v1 hierarchies before the cgroup namespace is made, so that it is rooted at
    // the container's cgroup (the v2 one it was cloned into).
    for mut tasks in cgroup_tasks {
        tasks
            .write_all(b"0")
            .map_err(|e| format!("Failed to join the container's cgroup: {e}"))?;
    }
    unshare(CloneFlags::CLONE_NEWCGROUP)
        .map_err(|e| format!("Failed to create the cgroup namespace: {e}"))?;
    mounts::make_private().map_err(|e| e.to_string())?;
    // Attach the root and enter it while still holding the host's uid: the directories above
    // the root (LXD gives instance volumes mode 0100) are only traversable by host root.
    mounts::mount_root(&spec.rootfs, idmapped).map_err(|e| e.to_string())?;
    nix::unistd::chdir(&spec.rootfs)
        .map_err(|e| format!("Failed to enter the root filesystem: {e}"))?;
    if spec.idmap.is_some() {
        setgroups(&[]).map_err(|e| format!("Failed to clear groups: {e}"))?;
        setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
            .map_err(|e| format!("Failed to become gid 0: {e}"))?;
        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
            .map_err(|e| format!("Failed to become uid 0: {e}"))?;
    }
    let here = Path::new(".");
    mounts::mount_kernel_filesystems(here, console, &spec.binds, spec.mount_cgroup2)
        .map_err(|e| e.to_string())?;
    if nesting::nesting_allowed(&spec.config) {
        nesting::mount_nesting_filesystems(here).map_err(|e| e.to_string())?;
    }
    nesting::mount_boot_id(here).map_err(|e| e.to_string())?;
    mounts::mount_volumes(here, &spec.volume_binds, volume_trees).map_err(|e| e.to_string())?;
    mounts::pivot_into(here).map_err(|e| e.to_string())?;
    sethostname(&spec.name).map_err(|e| format!("Failed to set the hostname: {e}"))?;
    setsid().map_err(|e| format!("Failed to start a session: {e}"))?;
    if console.is_some() {
        attach_console().map_err(|e| format!("Failed to open the console: {e}"))?;
    }
    if spec.idmap.is_some() {
        for cap in DROPPED_CAPS {
            caps::drop(None, caps::CapSet::Bounding, *cap)
                .map_err(|e| format!("Failed to drop {cap}: {e}"))?;
        }
    }
    tie_to_monitor(sync)?;
    super::load_seccomp_program(&super::seccomp_program(&spec.config))?;
    let argv: Vec<CString> = spec
        .init
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| "Init command contains a NUL byte".to_string())?;
    let env: Vec<CString> = spec
        .env
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| "Environment contains a NUL byte".to_string())?;
    let program = argv.first().ok_or("No init command")?;
    // The sync socket is close-on-exec: the parent sees EOF once exec succeeded.
    nix::unistd::execve(program, &argv, &env)
        .map_err(|e| format!("Failed to run {}: {e}", spec.init[0]))
}

/// Make `/dev/console` init's stdin, stdout and stderr.
fn attach_console() -> std::io::Result<()> {
    let console = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/console")?;
    nix::unistd::dup2_stdin(&console)?;
    nix::unistd::dup2_stdout(&console)?;
    nix::unistd::dup2_stderr(&console)?;
    Ok(())
}

/// The monitor owns the container: if it dies (kill -9 included), init gets SIGKILL rather
/// than running on untracked. Set after the last credential change (which clears it); a
/// monitor that died before shows as a hung-up sync socket.
fn tie_to_monitor(sync: &UnixStream) -> Result<(), String> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("Failed to tie init to its monitor: {e}"))?;
    let mut fds = [PollFd::new(sync.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::ZERO).map_err(|e| format!("Failed to poll: {e}"))?;
    let gone = fds[0]
        .revents()
        .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP));
    if ready > 0 && gone {
        return Err("The monitor went away".into());
    }
    Ok(())
}
