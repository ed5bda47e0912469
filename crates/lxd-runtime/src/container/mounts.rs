//! The container's filesystem, set up by its init process inside the new mount namespace:
//! the root (an idmapped mount or a bind mount), `/proc`, `/sys`, a `/dev` with the standard
//! devices, and the switch of root with `pivot_root`.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// Why the container's filesystem could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("Failed to {action} {path}")]
    Sys {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: nix::Error,
    },
    #[error("Failed to prepare {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The kernel refused a new proc: it does inside a user namespace whose mount namespace
    /// shows no fully visible proc, i.e. in a container started inside a container that was
    /// not given `security.nesting=true`.
    #[error(
        "Failed to mount proc on {path}: {source} (a container inside another container needs \
         security.nesting=true on the outer one)"
    )]
    ProcRefused { path: PathBuf, source: nix::Error },
}

fn sys(action: &'static str, path: &Path) -> impl FnOnce(nix::Error) -> MountError {
    let path = path.to_path_buf();
    move |source| MountError::Sys {
        action,
        path,
        source,
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MountError {
    let path = path.to_path_buf();
    move |source| MountError::Io { path, source }
}

/// Devices bound from the host into `/dev`, as LXD provides them.
const DEVICES: &[&str] = &[
    "null", "zero", "full", "random", "urandom", "tty", "net/tun", "fuse",
];

const NONE: Option<&str> = None;

/// Make every mount private so nothing propagates back to the host.
pub fn make_private() -> Result<(), MountError> {
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE)
        .map_err(sys("make private", Path::new("/")))
}

/// Put the root filesystem in place at `rootfs`: attach the idmapped tree `idmapped` there, or
/// bind `rootfs` onto itself so it is a mount point for `pivot_root`.
pub fn mount_root(rootfs: &Path, idmapped: Option<OwnedFd>) -> Result<(), MountError> {
    match idmapped {
        Some(fd) => lxd_sys::mount_api::move_mount(fd.as_fd(), rootfs).map_err(io(rootfs)),
        None => mount(
            Some(rootfs),
            rootfs,
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            NONE,
        )
        .map_err(sys("bind the root", rootfs)),
    }
}

fn ensure_dir(path: &Path) -> Result<(), MountError> {
    std::fs::create_dir_all(path).map_err(io(path))
}

fn ensure_file(path: &Path) -> Result<(), MountError> {
    if let Some(parent) = path.parent() {
        ensure_dir(parent)?;
    }
    if !path.exists() {
        std::fs::File::create(path).map_err(io(path))?;
    }
    Ok(())
}

/// Mount `/proc`, `/sys`, `/dev` (tmpfs with bound devices, a new devpts, `/dev/shm`) and the
/// console inside `rootfs`, and the extra binds.
pub fn mount_kernel_filesystems(
    rootfs: &Path,
    console: Option<&Path>,
    binds: &[(PathBuf, PathBuf, bool)],
    cgroup2: bool,
) -> Result<(), MountError> {
    let nosuid = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let proc = rootfs.join("proc");
    ensure_dir(&proc)?;
    mount(Some("proc"), &proc, Some("proc"), nosuid, NONE).map_err(|source| match source {
        nix::Error::EPERM => MountError::ProcRefused {
            path: proc.clone(),
            source,
        },
        _ => sys("mount proc on", &proc)(source),
    })?;
    let sysfs = rootfs.join("sys");
    ensure_dir(&sysfs)?;
    mount(
        Some("sysfs"),
        &sysfs,
        Some("sysfs"),
        nosuid | MsFlags::MS_RDONLY,
        NONE,
    )
    .map_err(sys("mount sysfs on", &sysfs))?;
    if cgroup2 {
        // Inside the cgroup namespace, cgroup2 shows the container's own cgroup as its root.
        let cgroup = sysfs.join("fs/cgroup");
        mount(Some("cgroup2"), &cgroup, Some("cgroup2"), nosuid, NONE)
            .map_err(sys("mount cgroup2 on", &cgroup))?;
    }

    let dev = rootfs.join("dev");
    ensure_dir(&dev)?;
    mount(
        Some("none"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("mode=755,size=500k"),
    )
    .map_err(sys("mount tmpfs on", &dev))?;
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        if !host.exists() {
            continue;
        }
        let target = dev.join(name);
        ensure_file(&target)?;
        mount(Some(&host), &target, NONE, MsFlags::MS_BIND, NONE)
            .map_err(sys("bind device", &target))?;
    }
    let pts = dev.join("pts");
    ensure_dir(&pts)?;
    mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .map_err(sys("mount devpts on", &pts))?;
    std::os::unix::fs::symlink("pts/ptmx", dev.join("ptmx")).map_err(io(&dev.join("ptmx")))?;
    let shm = dev.join("shm");
    ensure_dir(&shm)?;
    mount(Some("shm"), &shm, Some("tmpfs"), nosuid, Some("mode=1777"))
        .map_err(sys("mount tmpfs on", &shm))?;
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(link)).map_err(io(&dev.join(link)))?;
    }
    if let Some(console) = console {
        let target = dev.join("console");
        ensure_file(&target)?;
        mount(Some(console), &target, NONE, MsFlags::MS_BIND, NONE)
            .map_err(sys("bind the console on", &target))?;
    }
    for (host, inside, readonly) in binds {
        let target = rootfs.join(inside.strip_prefix("/").unwrap_or(inside));
        if host.is_dir() {
            ensure_dir(&target)?;
        } else {
            ensure_file(&target)?;
        }
        mount(
            Some(host.as_path()),
            &target,
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            NONE,
        )
        .map_err(sys("bind", &target))?;
        if *readonly {
            let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            mount(NONE, &target, NONE, flags, NONE).map_err(sys("make read-only", &target))?;
        }
    }
    Ok(())
}

/// Attach the disk mounts' trees (opened by the parent, idmapped or not) inside `rootfs`,
/// creating each mount point as a directory or a file like its source; then make read-only
/// ones read-only.
pub fn mount_volumes(
    rootfs: &Path,
    volumes: &[super::spec::VolumeBind],
    trees: Vec<OwnedFd>,
) -> Result<(), MountError> {
    for (bind, tree) in volumes.iter().zip(trees) {
        let inside = &bind.target;
        let target = rootfs.join(inside.strip_prefix("/").unwrap_or(inside));
        let is_dir = nix::sys::stat::fstat(tree.as_fd())
            .map(|st| (st.st_mode & libc_s_ifmt()) == libc_s_ifdir())
            .unwrap_or(true);
        if is_dir {
            ensure_dir(&target)?;
        } else {
            ensure_file(&target)?;
        }
        lxd_sys::mount_api::move_mount(tree.as_fd(), &target).map_err(io(&target))?;
        if bind.readonly {
            let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            mount(NONE, &target, NONE, flags, NONE).map_err(sys("make read-only", &target))?;
        }
    }
    Ok(())
}

fn libc_s_ifmt() -> u32 {
    nix::sys::stat::SFlag::S_IFMT.bits()
}

fn libc_s_ifdir() -> u32 {
    nix::sys::stat::SFlag::S_IFDIR.bits()
}

/// Switch the root to `rootfs` and drop the old root.
pub fn pivot_into(rootfs: &Path) -> Result<(), MountError> {
    nix::unistd::chdir(rootfs).map_err(sys("enter", rootfs))?;
    nix::unistd::pivot_root(".", ".").map_err(sys("pivot_root into", rootfs))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(sys("detach the old root from", rootfs))?;
    nix::unistd::chdir("/").map_err(sys("enter", Path::new("/")))
}
