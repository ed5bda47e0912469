//! What decides whether a container may run containers of its own, set up by its init
//! between clone and exec as liblxc does it for LXD:
//!
//! - every container gets its own boot id: a random UUID in `/dev/.lxc-boot-id` bound
//!   read-only over `/proc/sys/kernel/random/boot_id`. That mount on a file inside `/proc`
//!   also makes the container's proc "not fully visible" to the kernel, which therefore
//!   refuses a fresh proc mount in any user namespace created inside: nested container
//!   managers fail unless nesting is allowed.
//! - `security.nesting=true` adds an untouched proc and sysfs on `/dev/.lxc/proc` and
//!   `/dev/.lxc/sys` (LXD's `lxc.mount.entry` lines for nesting), which is what the kernel looks
//!   for before it lets a nested container mount its own.
//!
//! Must not: mask anything else (the rest of `/proc` and `/sys` stays as it is mounted).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use super::mounts::MountError;

const NONE: Option<&str> = None;

/// Whether the instance config allows nesting (`security.nesting`, LXD's `IsTrue`).
pub fn nesting_allowed(config: &std::collections::BTreeMap<String, String>) -> bool {
    config
        .get("security.nesting")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"))
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

/// Mount the nesting proc and sysfs under `dev/.lxc` of `rootfs` (its `/dev` already a tmpfs).
pub fn mount_nesting_filesystems(rootfs: &Path) -> Result<(), MountError> {
    let base = rootfs.join("dev/.lxc");
    for (name, fstype) in [("proc", "proc"), ("sys", "sysfs")] {
        let target = base.join(name);
        std::fs::create_dir_all(&target).map_err(io(&target))?;
        mount(Some(name), &target, Some(fstype), MsFlags::empty(), NONE)
            .map_err(sys("mount the nesting filesystem on", &target))?;
    }
    Ok(())
}

/// Give the container its own boot id: a fresh UUID in `dev/.lxc-boot-id`, bound read-only
/// over `proc/sys/kernel/random/boot_id` (both inside `rootfs`, whose proc is mounted).
pub fn mount_boot_id(rootfs: &Path) -> Result<(), MountError> {
    // The new proc's own generator: a random UUID on every read.
    let uuid_path = rootfs.join("proc/sys/kernel/random/uuid");
    let uuid = std::fs::read_to_string(&uuid_path).map_err(io(&uuid_path))?;
    let source = rootfs.join("dev/.lxc-boot-id");
    std::fs::write(&source, uuid).map_err(io(&source))?;
    std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o444))
        .map_err(io(&source))?;
    let target = rootfs.join("proc/sys/kernel/random/boot_id");
    mount(Some(&source), &target, NONE, MsFlags::MS_BIND, NONE)
        .map_err(sys("bind the boot id on", &target))?;
    let flags = MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV
        | MsFlags::MS_NOEXEC;
    mount(NONE, &target, NONE, flags, NONE).map_err(sys("make read-only", &target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_allowed_true_values_only() {
        let config = |v: &str| [("security.nesting".to_string(), v.to_string())].into();
        assert!(nesting_allowed(&config("true")));
        assert!(nesting_allowed(&config("On")));
        assert!(!nesting_allowed(&config("false")));
        assert!(!nesting_allowed(&config("")));
        assert!(!nesting_allowed(&Default::default()));
    }
}
