//! Starting a container's init from the (single-threaded) monitor process: let the caller
//! prepare cgroups, clone into new namespaces (and the v2 cgroup), write the id maps, let the
//! caller attach NICs, hand over the idmapped root, and wait until init has exec'd or
//! reported why it could not.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use nix::sched::CloneFlags;
use nix::unistd::Pid;

use super::spec::{ContainerSpec, IdMaps};

/// Why init could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Failed to create {what}")]
    Setup {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Spawn(#[from] lxd_sys::spawn::SpawnError),
    #[error("Failed to write the id maps of the container")]
    IdMap(#[source] std::io::Error),
    #[error("Failed to set up cgroups: {0}")]
    Cgroup(String),
    /// The caller's hook on the new child failed (a NIC that could not be moved in, say); its
    /// message says what.
    #[error("{0}")]
    Attach(String),
    #[error("Failed to prepare the idmapped root filesystem")]
    Idmap(#[source] std::io::Error),
    #[error("{0}")]
    Child(String),
    #[error(transparent)]
    AppArmor(#[from] crate::apparmor::AppArmorError),
}

/// A container whose init runs.
pub struct Started {
    pub init: Pid,
    /// The console's pty master (the monitor logs it).
    pub console: OwnedFd,
}

fn setup(what: &'static str) -> impl FnOnce(std::io::Error) -> StartError {
    move |source| StartError::Setup { what, source }
}

/// Write `maps` as the user namespace maps of `pid`.
pub(crate) fn write_maps(pid: Pid, maps: &IdMaps) -> std::io::Result<()> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    std::fs::write(proc.join("uid_map"), IdMaps::render(&maps.uid))?;
    std::fs::write(proc.join("gid_map"), IdMaps::render(&maps.gid))
}

/// How init joins its cgroups without the kernel's thread-group write lock (which waits for
/// an RCU grace period): `v1_tasks` are the `tasks` files of its v1 hierarchies, opened by
/// the monitor (as the host's root) and written `0` by init's process itself; `v2_dir` is the
/// v2 directory it is cloned into (`CLONE_INTO_CGROUP`), `v2_path` the same cgroup named
/// below its hierarchy's root (where a restore has CRIU put the processes).
#[derive(Debug, Default)]
pub struct CgroupEntry {
    pub v1_tasks: Vec<std::fs::File>,
    pub v2_dir: Option<OwnedFd>,
    pub v2_path: Option<PathBuf>,
}

/// Prepares the container's cgroups (created, limited, delegated) before init is cloned.
pub type PrepareCgroups<'a> = &'a mut dyn FnMut() -> Result<CgroupEntry, String>;

/// Start init. `prepare_cgroups` runs before the child is cloned, `attach` once it exists and
/// before it continues (NICs move into its network namespace there).
pub fn start(
    spec: &ContainerSpec,
    prepare_cgroups: PrepareCgroups<'_>,
    attach: &mut dyn FnMut(Pid) -> Result<(), String>,
) -> Result<Started, StartError> {
    let cgroups = prepare_cgroups().map_err(StartError::Cgroup)?;
    let (parent_sock, child_sock) = UnixStream::pair().map_err(setup("the sync socket"))?;
    let console = open_console(spec)?;
    let console_path = console.slave_path.clone();
    let mut flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET;
    if spec.idmap.is_some() {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    let tasks = &cgroups.v1_tasks;
    let child = Box::new(|| match child_sock.try_clone() {
        Ok(sock) => super::child::run(spec, sock, Some(&console_path), tasks),
        Err(_) => 1,
    });
    let pid = match &cgroups.v2_dir {
        Some(dir) => lxd_sys::spawn::clone_child_into(flags, dir.as_fd(), child)?,
        None => lxd_sys::spawn::clone_child(flags, child)?,
    };
    drop(cgroups);
    drop(child_sock);
    drop(console.slave);
    let result = continue_child(spec, pid, &parent_sock, attach);
    if let Err(e) = result {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
        return Err(e);
    }
    Ok(Started {
        init: pid,
        console: console.master,
    })
}

/// A new console for the container: its pty pair and the slave's path.
pub(crate) struct ConsolePair {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    pub slave_path: PathBuf,
}

/// Open the container's console, owned by the container's root and closed on exec (init
/// opens its console by path, inside).
pub(crate) fn open_console(spec: &ContainerSpec) -> Result<ConsolePair, StartError> {
    let failed = |e: nix::Error| StartError::Setup {
        what: "the console",
        source: e.into(),
    };
    let pty = nix::pty::openpty(None, None).map_err(failed)?;
    for end in [&pty.master, &pty.slave] {
        nix::fcntl::fcntl(
            end,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        )
        .map_err(failed)?;
    }
    let slave_path = nix::unistd::ttyname(&pty.slave).map_err(failed)?;
    if let Some(maps) = &spec.idmap {
        let uid = IdMaps::host_root(&maps.uid).map(nix::unistd::Uid::from_raw);
        let gid = IdMaps::host_root(&maps.gid).map(nix::unistd::Gid::from_raw);
        nix::unistd::fchown(&pty.slave, uid, gid).map_err(failed)?;
    }
    Ok(ConsolePair {
        master: pty.master,
        slave: pty.slave,
        slave_path,
    })
}

fn continue_child(
    spec: &ContainerSpec,
    pid: Pid,
    sock: &UnixStream,
    attach: &mut dyn FnMut(Pid) -> Result<(), String>,
) -> Result<(), StartError> {
    if let Some(maps) = &spec.idmap {
        write_maps(pid, maps).map_err(StartError::IdMap)?;
    }
    attach(pid).map_err(StartError::Attach)?;
    // The root's flag ('I': its idmapped tree comes along, 'G': bind it as it is), then one
    // tree per disk mount, in order.
    let mut flags = Vec::with_capacity(1);
    let mut trees: Vec<OwnedFd> = Vec::new();
    match (&spec.idmap, idmapped_root(spec, pid)?) {
        (Some(_), Some(tree)) => {
            flags.push(b'I');
            trees.push(tree);
        }
        _ => flags.push(b'G'),
    }
    for bind in &spec.volume_binds {
        let mapped = if bind.idmap {
            idmapped_tree(spec, pid, &bind.source, bind.recursive)?
        } else {
            None
        };
        let tree = match mapped {
            Some(tree) => tree,
            None => lxd_sys::mount_api::clone_tree(&bind.source, bind.recursive)
                .map_err(StartError::Idmap)?,
        };
        trees.push(tree);
    }
    let borrowed: Vec<_> = trees.iter().map(|t| t.as_fd()).collect();
    lxd_sys::fdpass::send_fds(sock.as_fd(), &flags, &borrowed).map_err(StartError::Idmap)?;
    drop(trees);
    let mut report = String::new();
    let mut reader = sock;
    reader
        .read_to_string(&mut report)
        .map_err(setup("the sync message"))?;
    if report.is_empty() {
        Ok(())
    } else {
        Err(StartError::Child(report))
    }
}

/// A detached copy of the rootfs mapped through the child's user namespace, when the kernel
/// and filesystem allow idmapped mounts and the rootfs is not stored shifted; `None`
/// otherwise (the root is bind-mounted).
fn idmapped_root(spec: &ContainerSpec, pid: Pid) -> Result<Option<OwnedFd>, StartError> {
    if spec.shifted_rootfs {
        return Ok(None);
    }
    idmapped_tree(spec, pid, &spec.rootfs, true)
}

/// A detached copy of `path` mapped through the child's user namespace, or `None` for a
/// privileged container or where idmapped mounts are not possible.
fn idmapped_tree(
    spec: &ContainerSpec,
    pid: Pid,
    path: &std::path::Path,
    recursive: bool,
) -> Result<Option<OwnedFd>, StartError> {
    if spec.idmap.is_none() {
        return Ok(None);
    }
    let userns = std::fs::File::open(format!("/proc/{pid}/ns/user")).map_err(StartError::Idmap)?;
    if !lxd_sys::mount_api::can_idmap_mount(path, userns.as_fd()) {
        return Ok(None);
    }
    let tree = lxd_sys::mount_api::clone_tree(path, recursive).map_err(StartError::Idmap)?;
    lxd_sys::mount_api::mount_setattr_idmap(tree.as_fd(), userns.as_fd(), recursive)
        .map_err(StartError::Idmap)?;
    Ok(Some(tree))
}
