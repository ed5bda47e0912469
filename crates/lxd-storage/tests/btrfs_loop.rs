//! Privileged tier: a real btrfs pool on a loop file in a temporary directory, driven through
//! the driver's whole volume life cycle, then torn down without leaving a mount, a loop device
//! or a file behind. Skips with a printed reason when not root or btrfs-progs is missing.

mod common;

use std::path::Path;
use std::process::Command;

use common::{
    assert_image_content, fill_image, is_mounted, loop_devices_of, loop_released, LoopPool,
};
use lxd_storage::{StorageDriver, Volume, VolumeType};

const TOOLS: &[&str] = &["mkfs.btrfs", "btrfs", "losetup", "mount"];

fn skip() -> bool {
    match common::skip_reason(TOOLS) {
        Some(reason) => {
            eprintln!("skipped: {reason}");
            true
        }
        None => false,
    }
}

fn readonly(path: &Path) -> bool {
    let out = Command::new("btrfs")
        .args(["property", "get", "-ts"])
        .arg(path)
        .arg("ro")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "ro=true"
}

#[test]
fn btrfs_loop_pool_lifecycle_leaves_nothing_behind() {
    if skip() {
        return;
    }
    let p = LoopPool::create("300MiB");
    let file = p.loop_file();
    assert!(is_mounted(&p.pool.mount));
    assert_eq!(loop_devices_of(&file).len(), 1);
    assert!(p.path("containers").is_dir() && p.path("custom-snapshots").is_dir());
    // Mounting again is a no-op.
    assert!(!p.driver.mount_pool(&p.pool).unwrap());

    p.driver.delete_pool(&p.pool.config, &p.pool.mount).unwrap();
    assert!(!is_mounted(&p.pool.mount));
    assert!(loop_released(&file));
    assert!(!file.exists());
    assert!(!p.pool.mount.exists());
}

#[test]
fn btrfs_loop_pool_unmount_then_mount_keeps_data() {
    if skip() {
        return;
    }
    let p = LoopPool::create("300MiB");
    let vol = Volume::filesystem(VolumeType::Custom, "default_v");
    let path = p.driver.create_volume(&p.pool, &vol).unwrap();
    std::fs::write(path.join("data"), "x").unwrap();
    assert!(p.driver.unmount_pool(&p.pool).unwrap());
    assert!(!is_mounted(&p.pool.mount));
    assert!(loop_released(&p.loop_file()));
    assert!(p.driver.mount_pool(&p.pool).unwrap());
    assert_eq!(std::fs::read_to_string(path.join("data")).unwrap(), "x");
    p.driver
        .delete_volume(&p.pool, VolumeType::Custom, "default_v")
        .unwrap();
    p.driver.delete_pool(&p.pool.config, &p.pool.mount).unwrap();
    assert!(loop_released(&p.loop_file()));
}

#[test]
fn btrfs_volumes_image_snapshot_restore_copy_behave_as_lxd() {
    if skip() {
        return;
    }
    let p = LoopPool::create("300MiB");
    let (d, pool) = (&p.driver, &p.pool);
    let ct = VolumeType::Container;
    let mut fills = 0;
    let mut fill = |dir: &Path| {
        fills += 1;
        fill_image(dir)
    };
    let c1 = d
        .create_volume_from_image(pool, &Volume::filesystem(ct, "c1"), "abc", &mut fill)
        .unwrap();
    d.create_volume_from_image(pool, &Volume::filesystem(ct, "c2"), "abc", &mut fill)
        .unwrap();
    assert_eq!(fills, 1, "image unpacked once per pool");
    assert!(readonly(&p.path("images/abc")));
    assert!(!readonly(&c1));
    assert_image_content(&c1);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&c1).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o100);

    // Snapshot: read-only, content frozen.
    let snap = d.create_snapshot(pool, ct, "c1", "snap0").unwrap();
    assert!(readonly(&snap));
    assert!(std::fs::write(snap.join("x"), "x").is_err());
    std::fs::write(c1.join("rootfs/after"), "later").unwrap();
    std::fs::remove_file(c1.join("rootfs/etc/name")).unwrap();

    // Restore brings back the snapshot's content.
    d.restore_snapshot(pool, ct, "c1", "snap0").unwrap();
    assert!(!c1.join("rootfs/after").exists());
    assert_image_content(&c1);
    assert!(!readonly(&c1));
    assert!(!p.path("containers/c1.lxdtmp").exists());

    // Copy with snapshots; a copy of a snapshot is writable.
    let c3 = d
        .copy_volume(pool, ct, "c1", &Volume::filesystem(ct, "c3"), true)
        .unwrap();
    assert_image_content(&c3);
    assert_eq!(d.list_snapshots(pool, ct, "c3").unwrap(), ["snap0"]);
    assert!(readonly(&p.path("containers-snapshots/c3/snap0")));
    let c4 = d
        .copy_volume(pool, ct, "c1/snap0", &Volume::filesystem(ct, "c4"), false)
        .unwrap();
    std::fs::write(c4.join("w"), "w").unwrap();

    // Rename carries snapshots along.
    d.rename_volume(pool, ct, "c3", "c5").unwrap();
    assert_eq!(d.list_snapshots(pool, ct, "c5").unwrap(), ["snap0"]);

    // Teardown through the driver.
    let err = d.delete_volume(pool, ct, "c1").unwrap_err();
    assert_eq!(err.to_string(), "Cannot remove a volume that has snapshots");
    d.delete_snapshot(pool, ct, "c1", "snap0").unwrap();
    d.delete_snapshot(pool, ct, "c5", "snap0").unwrap();
    for name in ["c1", "c2", "c4", "c5"] {
        d.delete_volume(pool, ct, name).unwrap();
    }
    d.delete_volume(pool, VolumeType::Image, "abc").unwrap();
    assert!(std::fs::read_dir(p.path("containers"))
        .unwrap()
        .next()
        .is_none());
    assert!(!p.path("containers-snapshots/c1").exists());
    d.delete_pool(&pool.config, &pool.mount).unwrap();
    assert!(!is_mounted(&pool.mount) && !p.loop_file().exists());
}

#[test]
fn btrfs_nested_subvolume_snapshotted_and_deleted() {
    if skip() {
        return;
    }
    let p = LoopPool::create("300MiB");
    let (d, pool) = (&p.driver, &p.pool);
    let ct = VolumeType::Container;
    let c1 = d
        .create_volume(pool, &Volume::filesystem(ct, "c1"))
        .unwrap();
    std::fs::create_dir_all(c1.join("rootfs/var/lib")).unwrap();
    let nested = c1.join("rootfs/var/lib/machines");
    let ok = Command::new("btrfs")
        .args(["subvolume", "create"])
        .arg(&nested)
        .output()
        .unwrap();
    assert!(ok.status.success());
    std::fs::write(nested.join("m"), "m").unwrap();

    let snap = d.create_snapshot(pool, ct, "c1", "s").unwrap();
    assert_eq!(
        std::fs::read_to_string(snap.join("rootfs/var/lib/machines/m")).unwrap(),
        "m"
    );
    assert!(readonly(&snap));
    let c2 = d
        .copy_volume(pool, ct, "c1", &Volume::filesystem(ct, "c2"), false)
        .unwrap();
    assert!(c2.join("rootfs/var/lib/machines/m").is_file());
    d.delete_snapshot(pool, ct, "c1", "s").unwrap();
    d.delete_volume(pool, ct, "c1").unwrap();
    d.delete_volume(pool, ct, "c2").unwrap();
    assert!(!c1.exists() && !c2.exists() && !snap.exists());
    d.delete_pool(&pool.config, &pool.mount).unwrap();
}

#[test]
fn btrfs_quota_write_past_limit_fails_and_usage_read() {
    if skip() {
        return;
    }
    let p = LoopPool::create("300MiB");
    let (d, pool) = (&p.driver, &p.pool);
    let mut vol = Volume::filesystem(VolumeType::Custom, "default_q");
    vol.size = Some(20 << 20);
    let path = d.create_volume(pool, &vol).unwrap();

    let small = vec![7u8; 4 << 20];
    std::fs::write(path.join("small"), &small).unwrap();
    let _ = Command::new("sync").status();
    let usage = d
        .volume_usage(pool, VolumeType::Custom, "default_q")
        .unwrap();
    assert!(usage >= 4 << 20, "usage {usage}");

    let big = vec![1u8; 1 << 20];
    let mut err = None;
    {
        use std::io::Write;
        let mut f = std::fs::File::create(path.join("big")).unwrap();
        for _ in 0..64 {
            if let Err(e) = f.write_all(&big).and_then(|()| f.sync_data()) {
                err = Some(e);
                break;
            }
        }
    }
    let err = err.expect("write past the 20 MiB quota succeeded");
    assert!(
        matches!(err.raw_os_error(), Some(122) | Some(28)),
        "unexpected error {err}"
    );

    // Lifting the quota lets writes through again.
    d.set_quota(pool, VolumeType::Custom, "default_q", None)
        .unwrap();
    std::fs::write(path.join("big"), vec![1u8; 30 << 20]).unwrap();
    d.delete_volume(pool, VolumeType::Custom, "default_q")
        .unwrap();
    d.delete_pool(&pool.config, &pool.mount).unwrap();
    assert!(loop_released(&p.loop_file()));
}
