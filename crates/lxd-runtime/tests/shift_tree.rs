//! Privileged tier: shifting a tree on disk and back (the fallback where idmapped mounts are
//! unavailable). Needs root; skips with a printed reason otherwise.
//!
//! A small tree with a set-user-ID binary, a file with capabilities, named ACL entries, a
//! default ACL, a symlink and a hard link is shifted by `0 1000000 65536` and back: owners
//! move by the map, the mode bits chown clears come back, capabilities follow the container's
//! root (version 3 with its host uid, then version 2 again), ACL qualifiers follow the map.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use lxd_runtime::shift::{shift_tree, xattrs, ShiftDirection};
use lxd_shared::idmap::{IdmapEntry, IdmapSet};

const HOST_ROOT: u32 = 1_000_000;

fn map() -> IdmapSet {
    IdmapSet::new(vec![
        IdmapEntry::uid(i64::from(HOST_ROOT), 0, 65_536),
        IdmapEntry::gid(i64::from(HOST_ROOT), 0, 65_536),
    ])
}

fn owner(path: &Path) -> (u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// A version 2 capability xattr: cap_net_raw permitted, effective.
fn net_raw_v2() -> Vec<u8> {
    let mut v = 0x0200_0001u32.to_le_bytes().to_vec();
    v.extend_from_slice(&(1u32 << 13).to_le_bytes());
    v.extend_from_slice(&[0; 12]);
    v
}

/// An access ACL: owner, named user `uid`, owning group, named group `gid`, mask, other.
fn acl(uid: u32, gid: u32) -> Vec<u8> {
    let mut out = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 7u16, u32::MAX),
        (0x02, 6, uid),
        (0x04, 5, u32::MAX),
        (0x08, 4, gid),
        (0x10, 7, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&perm.to_le_bytes());
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

#[test]
fn shift_tree_to_host_and_back_keeps_modes_caps_and_acls() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: not root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    for d in ["bin", "home/u", "shared"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let su = root.join("bin/su");
    std::fs::write(&su, "su").unwrap();
    chown(&su, 0, 0);
    std::fs::set_permissions(&su, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let sgid = root.join("bin/wall");
    std::fs::write(&sgid, "wall").unwrap();
    chown(&sgid, 0, 5);
    std::fs::set_permissions(&sgid, std::fs::Permissions::from_mode(0o2755)).unwrap();
    let ping = root.join("bin/ping");
    std::fs::write(&ping, "ping").unwrap();
    let caps_ok = xattr::set(&ping, "security.capability", &net_raw_v2()).is_ok();
    let user_file = root.join("home/u/notes");
    std::fs::write(&user_file, "x").unwrap();
    chown(&root.join("home/u"), 1000, 1000);
    chown(&user_file, 1000, 1000);
    let acls_ok = xattr::set(&user_file, "system.posix_acl_access", &acl(1000, 50)).is_ok()
        && xattr::set(
            root.join("shared"),
            "system.posix_acl_default",
            &acl(33, 33),
        )
        .is_ok();
    std::os::unix::fs::symlink("../home/u/notes", root.join("bin/link")).unwrap();
    std::fs::hard_link(&user_file, root.join("shared/hard")).unwrap();
    chown(&root.join("bin/link"), 1000, 1000);

    let summary = shift_tree(&root, &map(), ShiftDirection::ToHost).unwrap();
    // rootfs bin su wall ping link home u notes(+hard once) shared
    assert_eq!(summary.entries, 10);
    assert_eq!(summary.chowned, 10);
    assert_eq!(owner(&root), (HOST_ROOT, HOST_ROOT));
    assert_eq!(owner(&su), (HOST_ROOT, HOST_ROOT));
    assert_eq!(mode(&su), 0o4755, "set-user-ID kept");
    assert_eq!(owner(&sgid), (HOST_ROOT, HOST_ROOT + 5));
    assert_eq!(mode(&sgid), 0o2755, "set-group-ID kept");
    assert_eq!(owner(&user_file), (HOST_ROOT + 1000, HOST_ROOT + 1000));
    assert_eq!(
        owner(&root.join("bin/link")),
        (HOST_ROOT + 1000, HOST_ROOT + 1000)
    );
    assert_eq!(
        std::fs::read_link(root.join("bin/link")).unwrap(),
        Path::new("../home/u/notes")
    );
    if caps_ok {
        let caps = xattr::get(&ping, "security.capability").unwrap().unwrap();
        assert_eq!(xattrs::cap_rootid(&caps), Some(HOST_ROOT), "{caps:?}");
        assert_eq!(&caps[4..8], &(1u32 << 13).to_le_bytes());
    } else {
        eprintln!("file capabilities not checked: the filesystem refused them");
    }
    if acls_ok {
        let got = xattr::get(&user_file, "system.posix_acl_access")
            .unwrap()
            .unwrap();
        assert_eq!(got, acl(HOST_ROOT + 1000, HOST_ROOT + 50));
        let got = xattr::get(root.join("shared"), "system.posix_acl_default")
            .unwrap()
            .unwrap();
        assert_eq!(got, acl(HOST_ROOT + 33, HOST_ROOT + 33));
    } else {
        eprintln!("ACLs not checked: the filesystem refused them");
    }

    shift_tree(&root, &map(), ShiftDirection::ToContainer).unwrap();
    assert_eq!(owner(&root), (0, 0));
    assert_eq!((owner(&su), mode(&su)), ((0, 0), 0o4755));
    assert_eq!((owner(&sgid), mode(&sgid)), ((0, 5), 0o2755));
    assert_eq!(owner(&user_file), (1000, 1000));
    if caps_ok {
        let caps = xattr::get(&ping, "security.capability").unwrap().unwrap();
        assert_eq!(caps, net_raw_v2());
    }
    if acls_ok {
        let got = xattr::get(&user_file, "system.posix_acl_access")
            .unwrap()
            .unwrap();
        assert_eq!(got, acl(1000, 50));
    }
}
