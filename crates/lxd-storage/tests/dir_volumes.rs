//! Privileged tier: the dir driver's volumes on a temporary pool with the real `rsync`:
//! image unpacked per instance, full-copy snapshots keeping owners, modes, hard links, symlinks
//! and fifos, restore, copy with snapshots, usage. Skips when not root or rsync is missing.

mod common;

use std::path::Path;

use common::{assert_image_content, fill_image};
use lxd_storage::dir::DirDriver;
use lxd_storage::{Pool, PoolConfig, StorageDriver, Volume, VolumeType};

#[test]
fn dir_volumes_snapshot_restore_copy_preserve_metadata() {
    if let Some(reason) = common::skip_reason(&["rsync"]) {
        eprintln!("skipped: {reason}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("storage-pools/d");
    let d = DirDriver::default();
    let mut cfg = PoolConfig::new();
    d.fill_pool_config(&mut cfg, &mount).unwrap();
    d.create_pool(&cfg, &mount).unwrap();
    let pool = Pool::new("d", &mount, cfg);
    let ct = VolumeType::Container;

    let mut fills = 0;
    let mut fill = |dir: &Path| {
        fills += 1;
        fill_image(dir)
    };
    let c1 = d
        .create_volume_from_image(&pool, &Volume::filesystem(ct, "c1"), "abc", &mut fill)
        .unwrap();
    d.create_volume_from_image(&pool, &Volume::filesystem(ct, "c2"), "abc", &mut fill)
        .unwrap();
    assert_eq!(fills, 2, "dir unpacks per instance");
    assert!(!mount.join("images/abc").exists());
    assert_image_content(&c1);

    let snap = d.create_snapshot(&pool, ct, "c1", "snap0").unwrap();
    assert_eq!(snap, mount.join("containers-snapshots/c1/snap0"));
    assert_image_content(&snap);
    std::fs::write(c1.join("rootfs/after"), "x").unwrap();
    std::fs::write(c1.join("rootfs/etc/hostname"), "changed\n").unwrap();
    d.restore_snapshot(&pool, ct, "c1", "snap0").unwrap();
    assert!(!c1.join("rootfs/after").exists());
    assert_eq!(
        std::fs::read_to_string(c1.join("rootfs/etc/hostname")).unwrap(),
        "img\n"
    );
    assert_image_content(&c1);

    let c3 = d
        .copy_volume(&pool, ct, "c1", &Volume::filesystem(ct, "c3"), true)
        .unwrap();
    assert_image_content(&c3);
    assert_eq!(d.list_snapshots(&pool, ct, "c3").unwrap(), ["snap0"]);
    assert!(d.volume_usage(&pool, ct, "c3").unwrap() > 0);

    // Quotas are accepted and ignored on dir, as LXD does without project quotas.
    d.set_quota(&pool, ct, "c1", Some(1 << 20)).unwrap();

    assert!(d.delete_volume(&pool, ct, "c1").is_err());
    for (name, snap) in [("c1", "snap0"), ("c3", "snap0")] {
        d.delete_snapshot(&pool, ct, name, snap).unwrap();
    }
    for name in ["c1", "c2", "c3"] {
        d.delete_volume(&pool, ct, name).unwrap();
    }
    d.delete_pool(&pool.config, &pool.mount).unwrap();
    assert!(!mount.exists());
}
