//! Privileged tier: idmapped mounts through a real user namespace. Needs root and
//! `unshare(1)`; each test skips with a printed reason otherwise.
//!
//! A child `unshare -U sleep` gets the map `0 100000 65536` from [`write_id_maps`]; a temp
//! tree is cloned, idmapped with the child's namespace and attached on a second temp dir,
//! where a file owned by uid 0 must show as uid 100000 while the original stays 0. Guards
//! unmount and reap the child whatever happens.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lxd_sys::mount_api::{
    can_idmap_mount, clone_tree, idmapped_bind, idmapped_mounts_supported, mount_setattr_idmap,
    move_mount, unmount,
};
use lxd_sys::proc::{open_userns, write_id_maps, SetGroups};
use lxd_sys::HostPaths;
use nix::unistd::{chown, Gid, Pid, Uid};
use std::os::fd::AsFd;

const MAP: &str = "0 100000 65536\n";

/// A child in a new user namespace, killed and reaped on drop.
struct UsernsChild {
    child: Child,
}

impl UsernsChild {
    fn spawn() -> Self {
        let child = Command::new("unshare")
            .args(["-U", "sleep", "60"])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn unshare");
        let me = UsernsChild { child };
        // Wait until the child has actually left our user namespace.
        let ours = std::fs::read_link("/proc/self/ns/user").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{}/ns/user", me.child.id()))
            .ok()
            .as_ref()
            == Some(&ours)
        {
            assert!(Instant::now() < deadline, "child never unshared");
            std::thread::sleep(Duration::from_millis(5));
        }
        me
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }
}

impl Drop for UsernsChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mount we attached, detached on drop.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = unmount(&self.0, true);
    }
}

fn skip_reason() -> Option<&'static str> {
    if !Uid::effective().is_root() {
        return Some("not root");
    }
    if Command::new("unshare").arg("--version").output().is_err() {
        return Some("no unshare(1)");
    }
    if !idmapped_mounts_supported() {
        return Some("kernel without idmapped mounts");
    }
    None
}

macro_rules! require_privileges {
    () => {
        if let Some(reason) = skip_reason() {
            eprintln!("skipped: {reason}");
            return;
        }
    };
}

fn mapped_child() -> UsernsChild {
    let child = UsernsChild::spawn();
    write_id_maps(&HostPaths::real(), child.pid(), MAP, MAP, SetGroups::Allow).unwrap();
    child
}

fn owned_file(dir: &Path, name: &str, uid: u32, gid: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, name).unwrap();
    chown(&path, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).unwrap();
    path
}

fn owner(path: &Path) -> (u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

#[test]
fn idmapped_mount_userns_map_shows_shifted_owner() {
    require_privileges!();
    let child = mapped_child();
    let userns = open_userns(&HostPaths::real(), child.pid()).unwrap();
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let root_file = owned_file(src.path(), "root-owned", 0, 0);
    owned_file(src.path(), "user-owned", 1000, 1001);

    let tree = clone_tree(src.path(), true).unwrap();
    mount_setattr_idmap(tree.as_fd(), userns.as_fd(), true).unwrap();
    move_mount(tree.as_fd(), dst.path()).unwrap();
    let _mounted = MountGuard(dst.path().to_path_buf());

    assert_eq!(owner(&dst.path().join("root-owned")), (100_000, 100_000));
    assert_eq!(owner(&dst.path().join("user-owned")), (101_000, 101_001));
    assert_eq!(
        owner(&root_file),
        (0, 0),
        "the original must not be chowned"
    );
    let content = std::fs::read_to_string(dst.path().join("root-owned")).unwrap();
    assert_eq!(content, "root-owned");
}

#[test]
fn idmapped_bind_then_unmount_original_view_back() {
    require_privileges!();
    let child = mapped_child();
    let userns = open_userns(&HostPaths::real(), child.pid()).unwrap();
    let src = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    owned_file(src.path(), "f", 0, 0);

    idmapped_bind(src.path(), dst.path(), userns.as_fd()).unwrap();
    let guard = MountGuard(dst.path().to_path_buf());
    assert_eq!(owner(&dst.path().join("f")), (100_000, 100_000));
    unmount(dst.path(), false).unwrap();
    std::mem::forget(guard);
    assert!(
        !dst.path().join("f").exists(),
        "the mount point is empty again"
    );
}

#[test]
fn mount_setattr_idmap_already_idmapped_refused() {
    require_privileges!();
    let child = mapped_child();
    let userns = open_userns(&HostPaths::real(), child.pid()).unwrap();
    let src = tempfile::tempdir().unwrap();
    let tree = clone_tree(src.path(), false).unwrap();
    mount_setattr_idmap(tree.as_fd(), userns.as_fd(), false).unwrap();
    let again = mount_setattr_idmap(tree.as_fd(), userns.as_fd(), false).unwrap_err();
    // EPERM on current kernels, EINVAL on older ones: a mount is idmapped once.
    let errno = again.raw_os_error();
    assert!(
        errno == Some(libc::EPERM) || errno == Some(libc::EINVAL),
        "{again}"
    );
}

#[test]
fn mount_setattr_idmap_regular_fd_not_a_userns_einval() {
    require_privileges!();
    let src = tempfile::tempdir().unwrap();
    let tree = clone_tree(src.path(), false).unwrap();
    let not_userns = std::fs::File::open(src.path()).unwrap();
    let err = mount_setattr_idmap(tree.as_fd(), not_userns.as_fd(), false).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
}

#[test]
fn can_idmap_mount_tempdir_with_mapped_userns_true() {
    require_privileges!();
    let child = mapped_child();
    let userns = open_userns(&HostPaths::real(), child.pid()).unwrap();
    let src = tempfile::tempdir().unwrap();
    assert!(can_idmap_mount(src.path(), userns.as_fd()));
    let ours = std::fs::File::open("/proc/self/ns/user").unwrap();
    assert!(
        !can_idmap_mount(src.path(), ours.as_fd()),
        "the initial namespace is refused"
    );
}

#[test]
fn write_id_maps_second_write_error_names_file() {
    require_privileges!();
    let child = mapped_child();
    let uid_map = std::fs::read_to_string(format!("/proc/{}/uid_map", child.pid())).unwrap();
    assert_eq!(
        uid_map.split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    let err =
        write_id_maps(&HostPaths::real(), child.pid(), MAP, MAP, SetGroups::Allow).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Failed to write /proc/{}/uid_map", child.pid())
    );
}

#[test]
fn write_id_maps_setgroups_deny_written_before_gid_map() {
    require_privileges!();
    let child = UsernsChild::spawn();
    write_id_maps(&HostPaths::real(), child.pid(), MAP, MAP, SetGroups::Deny).unwrap();
    let setgroups = std::fs::read_to_string(format!("/proc/{}/setgroups", child.pid())).unwrap();
    assert_eq!(setgroups.trim(), "deny");
}
