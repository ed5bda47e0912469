//! Times btrfs instance creation from an image, snapshot and copy of a ~100 MB tree on a loop
//! pool in a temporary directory (root only), with the dir driver's rsync snapshot beside it.
//! Run: `cargo run -p lxd-storage --example btrfs_timing`. Not a test: it prints numbers.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use lxd_storage::btrfs::BtrfsDriver;
use lxd_storage::dir::DirDriver;
use lxd_storage::{Pool, PoolConfig, StorageDriver, Volume, VolumeType};

fn fill(dir: &Path) -> Result<(), lxd_storage::FillError> {
    let data = vec![0x5au8; 100 * 1024];
    for d in 0..20 {
        let sub = dir.join(format!("rootfs/usr/d{d}"));
        std::fs::create_dir_all(&sub)?;
        for f in 0..50 {
            std::fs::write(sub.join(format!("f{f}")), &data)?;
        }
    }
    Ok(())
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    println!(
        "{label:<40} {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    out
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("lxd/storage-pools/p");
    std::fs::create_dir_all(mount.parent().unwrap()).unwrap();
    let d = BtrfsDriver::default();
    let mut cfg = PoolConfig::from([("size".to_string(), "1GiB".to_string())]);
    d.fill_pool_config(&mut cfg, &mount).unwrap();
    d.create_pool(&cfg, &mount).unwrap();
    let pool = Pool::new("p", &mount, cfg);
    let ct = VolumeType::Container;
    let vol = |n: &str| Volume::filesystem(ct, n);
    time("btrfs: unpack image + first instance", || {
        d.create_volume_from_image(&pool, &vol("c1"), "img", &mut fill)
            .unwrap()
    });
    let _ = Command::new("sync").status();
    time("btrfs: second instance (snapshot)", || {
        d.create_volume_from_image(&pool, &vol("c2"), "img", &mut fill)
            .unwrap()
    });
    time("btrfs: snapshot c1/snap0", || {
        d.create_snapshot(&pool, ct, "c1", "snap0").unwrap()
    });
    time("btrfs: copy c1 -> c3 (with snapshot)", || {
        d.copy_volume(&pool, ct, "c1", &vol("c3"), true).unwrap()
    });
    time("btrfs: restore c1 from snap0", || {
        d.restore_snapshot(&pool, ct, "c1", "snap0").unwrap()
    });
    time("btrfs: set quota on c2", || {
        d.set_quota(&pool, ct, "c2", Some(1 << 30)).unwrap()
    });

    let dd = DirDriver::default();
    let dmount = tmp.path().join("lxd/storage-pools/d");
    let mut dcfg = PoolConfig::new();
    dd.fill_pool_config(&mut dcfg, &dmount).unwrap();
    dd.create_pool(&dcfg, &dmount).unwrap();
    let dpool = Pool::new("d", &dmount, dcfg);
    dd.create_volume_from_image(&dpool, &vol("c1"), "img", &mut fill)
        .unwrap();
    time("dir: snapshot c1/snap0 (rsync)", || {
        dd.create_snapshot(&dpool, ct, "c1", "snap0").unwrap()
    });
    time("dir: copy c1 -> c2 (rsync)", || {
        dd.copy_volume(&dpool, ct, "c1", &vol("c2"), false).unwrap()
    });
    d.delete_pool(&pool.config, &pool.mount).unwrap();
}
