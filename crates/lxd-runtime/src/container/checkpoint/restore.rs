//! The target's half: CRIU rebuilds init's tree in a new set of namespaces, in the cgroup the
//! monitor prepared, under the AppArmor policy it loaded, with a new console.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::unistd::Pid;

use super::{
    criu_failure, label_namespace, read_notes, restore_args, same_label, CheckpointError,
    CheckpointNotes, RestoreInputs, CRIU, RESTORE_LOG,
};
use crate::container::spec::{ContainerSpec, IdMaps};
use crate::container::start::{write_maps, PrepareCgroups, StartError, Started};

/// The root CRIU restores into; a mount made for it goes when the restore is done.
struct RestoreRoot {
    path: PathBuf,
    mounted: bool,
}

impl RestoreRoot {
    /// The rootfs as init saw it: bound as it is for a privileged container or a rootfs stored
    /// shifted, else mapped through a user namespace with the container's maps and mounted at
    /// `at` (where the filesystem cannot take an idmapped mount, the daemon stores the rootfs
    /// shifted).
    fn prepare(spec: &ContainerSpec, at: &Path) -> Result<Self, StartError> {
        let Some(maps) = spec.idmap.as_ref().filter(|_| !spec.shifted_rootfs) else {
            return Ok(Self {
                path: spec.rootfs.clone(),
                mounted: false,
            });
        };
        let tree = idmapped_copy(&spec.rootfs, maps)?;
        std::fs::create_dir_all(at).map_err(StartError::Idmap)?;
        lxd_sys::mount_api::move_mount(tree.as_fd(), at).map_err(StartError::Idmap)?;
        Ok(Self {
            path: at.to_path_buf(),
            mounted: true,
        })
    }
}

impl Drop for RestoreRoot {
    fn drop(&mut self) {
        if self.mounted {
            let _ = nix::mount::umount2(&self.path, nix::mount::MntFlags::MNT_DETACH);
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// A detached copy of `path` mapped with `maps`, through a user namespace made for it.
fn idmapped_copy(path: &Path, maps: &IdMaps) -> Result<OwnedFd, StartError> {
    let holder = lxd_sys::spawn::clone_child(
        nix::sched::CloneFlags::CLONE_NEWUSER,
        Box::new(|| loop {
            nix::unistd::pause();
        }),
    )?;
    let mapped = || -> std::io::Result<OwnedFd> {
        write_maps(holder, maps)?;
        let userns = std::fs::File::open(format!("/proc/{holder}/ns/user"))?;
        let tree = lxd_sys::mount_api::clone_tree(path, true)?;
        lxd_sys::mount_api::mount_setattr_idmap(tree.as_fd(), userns.as_fd(), true)?;
        Ok(tree)
    };
    let result = mapped();
    let _ = nix::sys::signal::kill(holder, nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(holder, None);
    result.map_err(StartError::Idmap)
}

/// The namespace of the dumped label when the restore would bring it back under a name that
/// is neither this container's nor already present on this host.
fn stray_namespace(notes: &CheckpointNotes, spec: &ContainerSpec) -> Option<String> {
    let policy = spec.apparmor.as_ref()?;
    let dumped = label_namespace(notes.label.as_deref()?)?;
    let present = policy
        .securityfs
        .join("policy/namespaces")
        .join(dumped)
        .exists();
    (policy.namespace.as_deref() != Some(dumped) && !present).then(|| dumped.to_string())
}

/// Restore the container from the images in `dir` (the monitor's [`crate::container::start::start`] for
/// a migrated container): cgroups prepared as for a start, the AppArmor policy already
/// loaded, a new console, the NICs' veth pairs recreated by CRIU and `configure` called on
/// init's pid for the rest (the host ends brought up). Returns once init runs again, as this
/// process's child.
pub fn restore(
    spec: &ContainerSpec,
    prepare_cgroups: PrepareCgroups<'_>,
    configure: &mut dyn FnMut(Pid) -> Result<(), String>,
    dir: &Path,
) -> Result<Started, StartError> {
    let failed = |e: CheckpointError| StartError::Child(e.to_string());
    let notes = read_notes(dir).map_err(failed)?;
    let cgroup = prepare_cgroups()
        .map_err(StartError::Cgroup)?
        .v2_path
        .map(|p| p.display().to_string());
    let console = crate::container::start::open_console(spec)?;
    let root = RestoreRoot::prepare(spec, &spec.state_dir.join("restore-root"))?;
    let target_label = spec.apparmor.as_ref().and_then(|p| p.exec_label.clone());
    let lsm_profile = match (&notes.label, &target_label, &spec.apparmor) {
        (Some(dumped), Some(ours), _) if same_label(dumped, ours) => None,
        (_, Some(_), Some(policy)) => Some(format!("apparmor:{}", policy.profile)),
        (Some(_), None, _) => Some("none:".to_string()),
        _ => None,
    };
    // CRIU recreates the AppArmor namespace of the dumped label under its dumped name; when
    // that is not this container's (another LXD_DIR), it goes once the restore is done.
    let stray_namespace = stray_namespace(&notes, spec);
    let pidfile = spec.state_dir.join("restore.pid");
    let _ = std::fs::remove_file(&pidfile);
    let inputs = RestoreInputs {
        dir,
        root: &root.path,
        console_key: &notes.console_key,
        console_path: &console.slave_path,
        cgroup: cgroup.as_deref(),
        lsm_profile: lsm_profile.as_deref(),
        nics: &spec.nics,
        pidfile: &pidfile,
    };
    let output = Command::new(CRIU)
        .args(restore_args(&inputs))
        .stdin(Stdio::from(console.slave))
        .stdout(Stdio::null())
        .output()
        .map_err(|e| StartError::Setup {
            what: "the restore (running criu)",
            source: e,
        })?;
    if let (Some(namespace), Some(policy)) = (&stray_namespace, &spec.apparmor) {
        let _ = crate::apparmor::delete_namespace(&policy.securityfs, namespace);
    }
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(failed(criu_failure(
            "Restoring the container",
            dir,
            RESTORE_LOG,
            &stderr,
        )));
    }
    let pid = std::fs::read_to_string(&pidfile)
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
        .ok_or_else(|| StartError::Child("The restore recorded no init pid".into()))?;
    let init = Pid::from_raw(pid);
    if let Err(e) = configure(init) {
        let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(init, None);
        return Err(StartError::Attach(e));
    }
    Ok(Started {
        init,
        console: console.master,
    })
}
