//! Privileged tier: `btrfs send`/`receive` through the driver on two loop-file pools. An
//! optimized backup of a volume with two snapshots and a nested subvolume is written in LXD's
//! order and restored on the other pool (and on the same pool) with content, read-only flags
//! and snapshots; failed restores leave nothing behind. Skips when not root or tools missing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_image_content, fill_image, LoopPool};
use lxd_storage::{StorageDriver, StorageError, Volume, VolumeType};

const TOOLS: &[&str] = &["mkfs.btrfs", "btrfs", "losetup", "mount"];
const CT: VolumeType = VolumeType::Container;

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

/// `BTRFS_SEND_C_SUBVOL`: a stream of a whole subvolume.
const SUBVOL: u16 = 1;
/// `BTRFS_SEND_C_SNAPSHOT`: a stream relative to a parent.
const SNAPSHOT: u16 = 2;

/// The first command of a send stream (after the 13-byte magic and the u32 version, a command
/// header is a u32 length then the u16 command).
fn first_command(stream: &[u8]) -> u16 {
    assert!(stream.starts_with(b"btrfs-stream\0"));
    u16::from_le_bytes([stream[21], stream[22]])
}

fn is_subvolume(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|m| m.ino() == 256)
}

/// Files of a backup as the sink saw them: tarball name → copy in `dir`, in order.
struct Collected {
    dir: tempfile::TempDir,
    order: Vec<String>,
    files: BTreeMap<String, PathBuf>,
}

fn backup(p: &LoopPool, name: &str, snaps: &[&str]) -> Collected {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let snaps: Vec<String> = snaps.iter().map(|s| s.to_string()).collect();
    let mut order = Vec::new();
    let mut files = BTreeMap::new();
    let mut n = 0;
    let mut sink = |tar_name: &str, file: &Path| -> Result<(), lxd_storage::FillError> {
        n += 1;
        let copy = dir.path().join(n.to_string());
        std::fs::copy(file, &copy)?;
        order.push(tar_name.to_string());
        files.insert(tar_name.to_string(), copy);
        Ok(())
    };
    p.driver
        .backup_volume_optimized(&p.pool, CT, name, &snaps, work.path(), &mut sink)
        .unwrap();
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
    Collected { dir, order, files }
}

fn restore(
    p: &LoopPool,
    c: &Collected,
    name: &str,
    snaps: &[&str],
    with_header: bool,
) -> Result<PathBuf, StorageError> {
    let snaps: Vec<String> = snaps.iter().map(|s| s.to_string()).collect();
    let header = std::fs::read(&c.files["backup/optimized_header.yaml"]).unwrap();
    let mut open =
        |tar_name: &str| -> Result<Box<dyn std::io::Read + Send>, lxd_storage::FillError> {
            let path = c.files.get(tar_name).ok_or("missing")?;
            Ok(Box::new(std::fs::File::open(path)?))
        };
    let header = with_header.then_some(header.as_slice());
    // Every restored volume is seen writable, snapshots first.
    let mut seen = Vec::new();
    let mut prepare = |path: &Path| -> Result<(), lxd_storage::FillError> {
        std::fs::write(path.join("prepared"), "")?;
        seen.push(path.to_path_buf());
        Ok(())
    };
    let result = p.driver.create_volume_from_optimized_backup(
        &p.pool,
        &Volume::filesystem(CT, name),
        &snaps,
        header,
        &mut open,
        &mut prepare,
    );
    if let Ok(path) = &result {
        let mut want: Vec<PathBuf> = snaps
            .iter()
            .map(|s| p.path(&format!("containers-snapshots/{name}/{s}")))
            .collect();
        want.push(path.clone());
        assert_eq!(seen, want);
    }
    result
}

fn no_temp_dirs(p: &LoopPool) -> bool {
    std::fs::read_dir(p.path("containers"))
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with("backup."))
}

#[test]
fn btrfs_optimized_backup_round_trip_keeps_snapshots_and_subvolumes() {
    if skip() {
        return;
    }
    let a = LoopPool::create("300MiB");
    let b = LoopPool::create("300MiB");
    let (d, pool) = (&a.driver, &a.pool);
    let c1 = d
        .create_volume_from_image(pool, &Volume::filesystem(CT, "c1"), "abc", &mut fill_image)
        .unwrap();
    d.create_snapshot(pool, CT, "c1", "s0").unwrap();
    std::fs::write(c1.join("rootfs/one"), vec![7u8; 200_000]).unwrap();
    d.create_snapshot(pool, CT, "c1", "s1").unwrap();
    std::fs::write(c1.join("rootfs/two"), "2").unwrap();
    std::fs::remove_file(c1.join("rootfs/one")).unwrap();
    let nested = c1.join("rootfs/my-machines");
    assert!(Command::new("btrfs")
        .args(["subvolume", "create"])
        .arg(&nested)
        .output()
        .unwrap()
        .status
        .success());
    std::fs::write(nested.join("m"), "m").unwrap();

    let c = backup(&a, "c1", &["s0", "s1"]);
    assert_eq!(
        c.order,
        [
            "backup/optimized_header.yaml",
            "backup/snapshots/s0.bin",
            "backup/snapshots/s1.bin",
            "backup/container.bin",
            "backup/container_rootfs-my--machines.bin",
        ]
    );
    let header = std::fs::read_to_string(&c.files["backup/optimized_header.yaml"]).unwrap();
    assert!(header.starts_with("subvolumes:\n"), "{header}");
    assert!(header.contains("path: /rootfs/my-machines"), "{header}");
    for (name, file) in &c.files {
        if name.ends_with(".bin") {
            assert!(std::fs::read(file).unwrap().starts_with(b"btrfs-stream\0"));
        }
    }
    let cmd = |n: &str| first_command(&std::fs::read(&c.files[n]).unwrap());
    assert_eq!(
        cmd("backup/snapshots/s0.bin"),
        SUBVOL,
        "the oldest is sent whole"
    );
    assert_eq!(
        cmd("backup/snapshots/s1.bin"),
        SNAPSHOT,
        "s1 is sent against s0"
    );
    assert_eq!(
        cmd("backup/container.bin"),
        SNAPSHOT,
        "the volume against s1"
    );
    assert_eq!(cmd("backup/container_rootfs-my--machines.bin"), SUBVOL);
    // The source is left as it was.
    assert!(!readonly(&c1) && readonly(&a.path("containers-snapshots/c1/s1")));
    assert!(no_temp_dirs(&a));

    // Restored on another pool: snapshots read-only with their content, volume writable.
    let r1 = restore(&b, &c, "r1", &["s0", "s1"], true).unwrap();
    assert_eq!(r1, b.path("containers/r1"));
    assert!(!readonly(&r1));
    std::fs::write(r1.join("rootfs/w"), "w").unwrap();
    assert_eq!(std::fs::read_to_string(r1.join("rootfs/two")).unwrap(), "2");
    assert!(!r1.join("rootfs/one").exists());
    assert_image_content(&r1);
    assert!(is_subvolume(&r1.join("rootfs/my-machines")));
    assert_eq!(
        std::fs::read_to_string(r1.join("rootfs/my-machines/m")).unwrap(),
        "m"
    );
    assert_eq!(
        b.driver.list_snapshots(&b.pool, CT, "r1").unwrap(),
        ["s0", "s1"]
    );
    let s0 = b.path("containers-snapshots/r1/s0");
    let s1 = b.path("containers-snapshots/r1/s1");
    assert!(readonly(&s0) && readonly(&s1));
    assert!(s0.join("prepared").exists() && r1.join("prepared").exists());
    assert_image_content(&s0);
    assert!(!s0.join("rootfs/one").exists());
    assert_eq!(std::fs::read(s1.join("rootfs/one")).unwrap().len(), 200_000);
    assert!(no_temp_dirs(&b));

    // On the same pool too, and without the header (root subvolumes only, as LXD assumes).
    let r2 = restore(&a, &c, "r2", &["s0", "s1"], true).unwrap();
    assert_eq!(std::fs::read_to_string(r2.join("rootfs/two")).unwrap(), "2");
    let r3 = restore(&b, &c, "r3", &["s0", "s1"], false).unwrap();
    assert_eq!(std::fs::read_to_string(r3.join("rootfs/two")).unwrap(), "2");
    assert!(!is_subvolume(&r3.join("rootfs/my-machines")));

    // A taken name and a missing stream are refused; nothing is left behind.
    let err = restore(&b, &c, "r1", &[], true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot restore volume, already exists on target"
    );
    let err = restore(&b, &c, "r4", &["s0", "gone"], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Could not find \"backup/snapshots/gone.bin\""
    );
    assert!(!b.path("containers/r4").exists());
    assert!(!b.path("containers-snapshots/r4").exists());
    assert!(no_temp_dirs(&b));

    // A plain stream of a snapshot and an incremental one of the volume.
    let mut full = Vec::new();
    d.send_volume(pool, CT, "c1/s0", None, &mut full).unwrap();
    assert!(full.starts_with(b"btrfs-stream\0"));
    let mut diff = Vec::new();
    d.send_volume(pool, CT, "c1", Some("c1/s1"), &mut diff)
        .unwrap();
    assert_eq!(first_command(&full), SUBVOL);
    assert_eq!(first_command(&diff), SNAPSHOT);
    assert!(no_temp_dirs(&a));
    drop(c.dir);
}
