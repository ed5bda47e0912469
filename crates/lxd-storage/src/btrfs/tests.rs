//! Unit tests of the btrfs driver against a recording runner that also plays the filesystem
//! side of `btrfs subvolume create/snapshot/delete` in a temporary directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lxd_sys::command::{CommandError, CommandRunner, RecordingCommandRunner, ScriptedAnswer};

use super::BtrfsDriver;
use crate::driver::{PoolConfig, StorageDriver};
use crate::volume::{Pool, Volume, VolumeType};

/// Records and answers through [`RecordingCommandRunner`]; successful subvolume commands also
/// create or remove their directory so the driver's own file operations find it.
struct FakeBtrfs(RecordingCommandRunner);

impl CommandRunner for FakeBtrfs {
    fn run(&self, program: &str, args: &[&str]) -> Result<String, CommandError> {
        let out = self.0.run(program, args)?;
        let last = args.last().map(PathBuf::from).unwrap_or_default();
        match (program, args) {
            ("btrfs", ["subvolume", "create", ..]) | ("btrfs", ["subvolume", "snapshot", ..]) => {
                std::fs::create_dir(&last).unwrap();
            }
            ("btrfs", ["subvolume", "delete", ..]) => std::fs::remove_dir_all(&last).unwrap(),
            _ => {}
        }
        Ok(out)
    }

    fn run_streaming(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&mut (dyn std::io::Read + Send)>,
        output: Option<&mut dyn std::io::Write>,
    ) -> Result<(), CommandError> {
        self.0.run_streaming(program, args, input, output)
    }
}

struct Setup {
    _tmp: tempfile::TempDir,
    fake: Arc<FakeBtrfs>,
    driver: BtrfsDriver,
    pool: Pool,
}

fn ok(s: &str) -> ScriptedAnswer {
    Ok(s.to_string())
}

fn fail() -> ScriptedAnswer {
    Err((1, "ERROR".to_string()))
}

/// A pool `p` in `$TMP/lxd/storage-pools/p` with its directories, not in the mount table
/// unless `mounted`.
fn setup(answers: Vec<ScriptedAnswer>, mounted: bool) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("lxd/storage-pools/p");
    crate::dir::create_pool_dirs(&mount).unwrap();
    let mountinfo = tmp.path().join("mountinfo");
    let line = format!("40 1 0:50 / {} rw - btrfs /dev/loop7 rw\n", mount.display());
    std::fs::write(&mountinfo, if mounted { line } else { String::new() }).unwrap();
    let fake = Arc::new(FakeBtrfs(RecordingCommandRunner::new(answers)));
    let driver = BtrfsDriver::new(fake.clone()).with_mountinfo(&mountinfo);
    let loop_file = tmp.path().join("lxd/disks/p.img").display().to_string();
    let config = PoolConfig::from([("source".to_string(), loop_file)]);
    let pool = Pool::new("p", &mount, config);
    Setup {
        _tmp: tmp,
        fake,
        driver,
        pool,
    }
}

impl Setup {
    /// Calls so far, one string each, with the pool mount shown as `$P` and its LXD dir as `$L`.
    fn calls(&self) -> Vec<String> {
        let mount = self.pool.mount.display().to_string();
        let lxd = self.pool.mount.parent().unwrap().parent().unwrap();
        let lxd = lxd.display().to_string();
        self.fake
            .0
            .calls()
            .iter()
            .map(|c| c.join(" ").replace(&mount, "$P").replace(&lxd, "$L"))
            .collect()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.pool.mount.join(rel)
    }
}

fn fill_ok(p: &Path) -> Result<(), crate::FillError> {
    std::fs::write(p.join("metadata.yaml"), "architecture: x86_64\n")?;
    Ok(())
}

#[test]
fn btrfs_fill_config_no_source_loop_file_and_default_size() {
    let s = setup(vec![], false);
    let mut cfg = PoolConfig::new();
    s.driver.fill_pool_config(&mut cfg, &s.pool.mount).unwrap();
    assert_eq!(cfg["source"], s.pool.config["source"]);
    let gib: u64 = cfg["size"].strip_suffix("GiB").unwrap().parse().unwrap();
    assert!((5..=30).contains(&gib), "{gib}");
    assert!(!cfg.contains_key("volatile.initial_source"));
    assert!(s.calls().is_empty());
}

#[test]
fn btrfs_fill_config_bad_keys_lxd_errors() {
    let s = setup(vec![], false);
    let mut cfg = PoolConfig::from([("size".to_string(), "lots".to_string())]);
    let err = s
        .driver
        .fill_pool_config(&mut cfg, &s.pool.mount)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value for option \"size\": Invalid value: lots"
    );
    let mut cfg = PoolConfig::from([("zfs.pool_name".to_string(), "x".to_string())]);
    let err = s
        .driver
        .fill_pool_config(&mut cfg, &s.pool.mount)
        .unwrap_err();
    assert_eq!(err.to_string(), "Invalid option \"zfs.pool_name\"");
}

#[test]
fn btrfs_fill_config_path_not_on_btrfs_refused() {
    let s = setup(vec![ok("ext2/ext3\n")], false);
    let mut cfg = PoolConfig::from([("source".to_string(), "/srv".to_string())]);
    let err = s
        .driver
        .fill_pool_config(&mut cfg, &s.pool.mount)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Provided path does not reside on a btrfs filesystem"
    );
    assert_eq!(s.calls(), ["stat -f -c %T /srv"]);
}

#[test]
fn btrfs_create_pool_loop_formats_attaches_mounts_detaches() {
    let s = setup(vec![ok(""), ok("/dev/loop7\n"), ok(""), ok("")], false);
    let mut cfg = PoolConfig::from([("size".to_string(), "1GiB".to_string())]);
    s.driver.fill_pool_config(&mut cfg, &s.pool.mount).unwrap();
    s.driver.create_pool(&cfg, &s.pool.mount).unwrap();
    assert_eq!(
        s.calls(),
        [
            "mkfs.btrfs -L p $L/disks/p.img",
            "losetup --find --nooverlap --direct-io=on --show $L/disks/p.img",
            "mount -t btrfs -o user_subvol_rm_allowed /dev/loop7 $P",
            "losetup --detach /dev/loop7",
        ]
    );
    let meta = std::fs::metadata(&cfg["source"]).unwrap();
    assert_eq!(meta.len(), 1 << 30);
}

#[test]
fn btrfs_create_pool_mkfs_failure_removes_loop_file() {
    let s = setup(vec![fail()], false);
    let mut cfg = PoolConfig::from([("size".to_string(), "1GiB".to_string())]);
    s.driver.fill_pool_config(&mut cfg, &s.pool.mount).unwrap();
    assert!(s.driver.create_pool(&cfg, &s.pool.mount).is_err());
    assert!(!Path::new(&cfg["source"]).exists());
}

#[test]
fn btrfs_mount_pool_direct_io_refused_retries_without() {
    let s = setup(vec![fail(), ok("/dev/loop3\n"), ok(""), ok("")], false);
    assert!(s.driver.mount_pool(&s.pool).unwrap());
    assert_eq!(
        s.calls()[1..],
        [
            "losetup --find --nooverlap --show $L/disks/p.img",
            "mount -t btrfs -o user_subvol_rm_allowed /dev/loop3 $P",
            "losetup --detach /dev/loop3",
        ]
    );
}

#[test]
fn btrfs_mount_pool_already_mounted_no_commands() {
    let s = setup(vec![], true);
    assert!(!s.driver.mount_pool(&s.pool).unwrap());
    assert!(s.calls().is_empty());
}

#[test]
fn btrfs_delete_pool_loop_unmounts_and_removes_file() {
    let lo = ok("/dev/loop7: []: (/x/disks/p.img)\n");
    // The device is still listed once after the first detach (autoclear is asynchronous).
    let s = setup(
        vec![
            ok(""),
            lo,
            ok(""),
            ok("/dev/loop7: []: (/x/disks/p.img)\n"),
            ok(""),
            ok(""),
        ],
        true,
    );
    let file = PathBuf::from(&s.pool.config["source"]);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "").unwrap();
    s.driver.delete_pool(&s.pool.config, &s.pool.mount).unwrap();
    assert_eq!(
        s.calls(),
        [
            "umount $P",
            "losetup -j $L/disks/p.img",
            "losetup --detach /dev/loop7",
            "losetup -j $L/disks/p.img",
            "losetup --detach /dev/loop7",
            "losetup -j $L/disks/p.img"
        ]
    );
    assert!(!file.exists());
}

#[test]
fn btrfs_update_pool_mount_options_remounts() {
    let s = setup(vec![ok("")], true);
    let changed = PoolConfig::from([("btrfs.mount_options".to_string(), "noatime".to_string())]);
    s.driver.update_pool(&s.pool, &changed).unwrap();
    assert_eq!(s.calls(), ["mount -o remount,noatime $P"]);
}

#[test]
fn btrfs_create_from_image_first_unpacks_then_snapshots() {
    let s = setup(vec![ok(""), ok(""), ok(""), ok("")], true);
    let vol = Volume::filesystem(VolumeType::Container, "c1");
    let mut fills = 0;
    let mut fill = |p: &Path| {
        fills += 1;
        fill_ok(p)
    };
    let path = s
        .driver
        .create_volume_from_image(&s.pool, &vol, "abc", &mut fill)
        .unwrap();
    assert_eq!(path, s.path("containers/c1"));
    assert_eq!(fills, 1);
    assert_eq!(
        s.calls(),
        [
            "btrfs subvolume create $P/images/abc",
            "btrfs property set -ts $P/images/abc ro true",
            "btrfs subvolume list -o $P/images/abc",
            "btrfs subvolume snapshot $P/images/abc $P/containers/c1",
        ]
    );
}

#[test]
fn btrfs_create_from_image_existing_target_refused() {
    let s = setup(vec![], true);
    let vol = Volume::filesystem(VolumeType::Container, "c2");
    std::fs::create_dir(s.path("containers/c2")).unwrap();
    let err = s
        .driver
        .create_volume_from_image(&s.pool, &vol, "abc", &mut fill_ok)
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert!(s.calls().is_empty());
}

#[test]
fn btrfs_create_from_image_fill_failure_deletes_image_subvolume() {
    let s = setup(vec![ok(""), ok("")], true);
    let vol = Volume::filesystem(VolumeType::Container, "c1");
    let mut fill = |_: &Path| -> Result<(), crate::FillError> { Err("bad tarball".into()) };
    let err = s
        .driver
        .create_volume_from_image(&s.pool, &vol, "abc", &mut fill)
        .unwrap_err();
    assert!(matches!(err, crate::StorageError::Fill { .. }));
    assert_eq!(
        s.calls(),
        [
            "btrfs subvolume create $P/images/abc",
            "btrfs subvolume delete $P/images/abc",
        ]
    );
    assert!(!s.path("images/abc").exists());
}

#[test]
fn btrfs_create_volume_with_size_enables_quota_and_limits() {
    let qgroup = "Qgroupid Referenced Exclusive Max Path\n-------- ---------- --------- --- ----\n\
                  0/260 16384 16384 none custom/default_v\n";
    let answers = vec![ok(""), fail(), ok(""), ok(qgroup), ok(""), ok("")];
    let s = setup(answers, true);
    let mut vol = Volume::filesystem(VolumeType::Custom, "default_v");
    vol.size = Some(50_000_000);
    s.driver.create_volume(&s.pool, &vol).unwrap();
    assert_eq!(
        s.calls(),
        [
            "btrfs subvolume create $P/custom/default_v",
            "btrfs qgroup show -e -f --raw $P/custom/default_v",
            "btrfs quota enable $P",
            "btrfs qgroup show -e -f --raw $P/custom/default_v",
            "btrfs qgroup limit 50000000 0/260 $P/custom/default_v",
            "btrfs qgroup limit -e none 0/260 $P/custom/default_v",
        ]
    );
}

#[test]
fn btrfs_set_quota_missing_qgroup_created() {
    let header = "Qgroupid Referenced Exclusive Max Path\n";
    let qgroup = format!("{header}0/300 16384 16384 none containers/c1\n");
    let answers = vec![
        ok(header),
        ok("containers/c1\n\tSubvolume ID: \t\t300\n"),
        ok(""),
        ok(&qgroup),
        ok(""),
        ok(""),
    ];
    let s = setup(answers, true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    s.driver
        .set_quota(&s.pool, VolumeType::Container, "c1", None)
        .unwrap();
    assert_eq!(
        s.calls()[1..],
        [
            "btrfs subvolume show $P/containers/c1",
            "btrfs qgroup create 0/300 $P/containers/c1",
            "btrfs qgroup show -e -f --raw $P/containers/c1",
            "btrfs qgroup limit none 0/300 $P/containers/c1",
            "btrfs qgroup limit none -e 0/300 $P/containers/c1",
        ]
    );
}

#[test]
fn btrfs_set_quota_none_without_quota_noop() {
    let s = setup(vec![fail()], true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    s.driver
        .set_quota(&s.pool, VolumeType::Container, "c1", None)
        .unwrap();
    assert_eq!(
        s.calls(),
        ["btrfs qgroup show -e -f --raw $P/containers/c1"]
    );
}

#[test]
fn btrfs_volume_usage_qgroup_exclusive_or_walk() {
    let out = "qgroupid rfer excl max_excl\n-------- ---- ---- --------\n0/257 900000 4096 none\n";
    let s = setup(vec![ok(out), fail()], true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    let usage = |s: &Setup| s.driver.volume_usage(&s.pool, VolumeType::Container, "c1");
    assert_eq!(usage(&s).unwrap(), 4096);
    assert!(usage(&s).unwrap() < 1 << 20);
}

#[test]
fn btrfs_snapshot_readonly_snapshot_command() {
    let s = setup(vec![ok(""), ok("")], true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    let path = s
        .driver
        .create_snapshot(&s.pool, VolumeType::Container, "c1", "snap0")
        .unwrap();
    assert_eq!(path, s.path("containers-snapshots/c1/snap0"));
    assert_eq!(
        s.calls(),
        [
            "btrfs subvolume list -o $P/containers/c1",
            "btrfs subvolume snapshot -r $P/containers/c1 $P/containers-snapshots/c1/snap0",
        ]
    );
    assert_eq!(
        s.driver
            .list_snapshots(&s.pool, VolumeType::Container, "c1")
            .unwrap(),
        ["snap0"]
    );
}

#[test]
fn btrfs_delete_volume_with_snapshots_refused_then_deleted() {
    let s = setup(vec![ok(""), ok("")], true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    std::fs::create_dir_all(s.path("containers-snapshots/c1/snap0")).unwrap();
    let err = s
        .driver
        .delete_volume(&s.pool, VolumeType::Container, "c1")
        .unwrap_err();
    assert_eq!(err.to_string(), "Cannot remove a volume that has snapshots");
    s.driver
        .delete_snapshot(&s.pool, VolumeType::Container, "c1", "snap0")
        .unwrap();
    assert!(!s.path("containers-snapshots/c1").exists());
    s.driver
        .delete_volume(&s.pool, VolumeType::Container, "c1")
        .unwrap();
    assert!(!s.path("containers/c1").exists());
    assert_eq!(
        s.calls().len(),
        0,
        "plain directories need no btrfs command"
    );
}

#[test]
fn btrfs_restore_snapshot_missing_snapshot_refused() {
    let s = setup(vec![], true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    let err = s
        .driver
        .restore_snapshot(&s.pool, VolumeType::Container, "c1", "nope")
        .unwrap_err();
    assert_eq!(err.to_string(), "Snapshot not found");
}

#[test]
fn btrfs_copy_volume_with_snapshots_writable_then_readonly() {
    let s = setup(vec![ok(""), ok(""), ok(""), ok("")], true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    std::fs::create_dir_all(s.path("containers-snapshots/c1/snap0")).unwrap();
    let dst = Volume::filesystem(VolumeType::Container, "c2");
    s.driver
        .copy_volume(&s.pool, VolumeType::Container, "c1", &dst, true)
        .unwrap();
    assert_eq!(
        s.calls(),
        [
            "btrfs subvolume list -o $P/containers/c1",
            "btrfs subvolume snapshot $P/containers/c1 $P/containers/c2",
            "btrfs subvolume list -o $P/containers-snapshots/c1/snap0",
            "btrfs subvolume snapshot -r $P/containers-snapshots/c1/snap0 \
             $P/containers-snapshots/c2/snap0",
        ]
    );
}

#[test]
fn btrfs_rename_volume_moves_snapshots_dir() {
    let s = setup(vec![], true);
    std::fs::create_dir(s.path("containers/c1")).unwrap();
    std::fs::create_dir_all(s.path("containers-snapshots/c1/snap0")).unwrap();
    s.driver
        .rename_volume(&s.pool, VolumeType::Container, "c1", "c9")
        .unwrap();
    assert!(s.path("containers/c9").is_dir());
    assert!(s.path("containers-snapshots/c9/snap0").is_dir());
    assert!(!s.path("containers-snapshots/c1").exists());
}

#[test]
fn btrfs_probe_version_parsed() {
    let s = setup(vec![ok("btrfs-progs v6.2\n")], false);
    let info = s.driver.probe().unwrap();
    assert_eq!((info.name, info.version.as_str()), ("btrfs", "6.2"));
}
