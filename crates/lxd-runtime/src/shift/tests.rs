//! Unit checks of the walk that need no privileges: ids the map does not cover stay, every
//! inode is visited once, a missing root is an error. The privileged tier
//! (`tests/shift_tree.rs`) chowns for real.

use std::os::unix::fs::MetadataExt;

use lxd_shared::idmap::{IdmapEntry, IdmapSet};

use super::*;

/// A map that covers none of the ids a test process owns files with.
fn far_map() -> IdmapSet {
    IdmapSet::new(vec![
        IdmapEntry::uid(3_000_000_000, 2_000_000_000, 10),
        IdmapEntry::gid(3_000_000_000, 2_000_000_000, 10),
    ])
}

#[test]
fn shift_tree_unmapped_ids_left_alone_inodes_counted_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/a"), "a").unwrap();
    std::fs::hard_link(root.join("etc/a"), root.join("b")).unwrap();
    std::os::unix::fs::symlink("/nowhere", root.join("dangling")).unwrap();
    let before = std::fs::metadata(root.join("etc/a")).unwrap();
    for direction in [ShiftDirection::ToHost, ShiftDirection::ToContainer] {
        let summary = shift_tree(&root, &far_map(), direction).unwrap();
        // rootfs, etc, one of the two links, the symlink.
        assert_eq!(summary.entries, 4);
        assert_eq!(summary.chowned, 0);
    }
    let after = std::fs::metadata(root.join("etc/a")).unwrap();
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
}

#[test]
fn shift_tree_missing_root_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = shift_tree(&tmp.path().join("nope"), &far_map(), ShiftDirection::ToHost);
    assert!(matches!(err, Err(ShiftError::Missing(_))));
}
