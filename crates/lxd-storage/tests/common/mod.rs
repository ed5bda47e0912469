//! Helpers of the privileged storage tests: skip reasons, a loop-pool guard that tears down
//! whatever is left (mount, loop device, files) even when an assertion failed, image fillers.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use lxd_storage::btrfs::BtrfsDriver;
use lxd_storage::{Pool, PoolConfig, StorageDriver};

/// Why this host cannot run the privileged tests, if it cannot.
pub fn skip_reason(tools: &[&str]) -> Option<String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_default();
    if uid != "0" {
        return Some("not running as root".into());
    }
    for tool in tools {
        if Command::new(tool).arg("--version").output().is_err() {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

/// Whether `path` is a mount point in `/proc/self/mountinfo`.
pub fn is_mounted(path: &Path) -> bool {
    let table = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = path.display().to_string();
    table
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(want.as_str()))
}

/// Loop devices backed by `file` (`losetup -j`).
pub fn loop_devices_of(file: &Path) -> Vec<String> {
    let out = Command::new("losetup").arg("-j").arg(file).output();
    let out = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    out.unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(':').next().map(str::to_string))
        .collect()
}

/// Whether the loop devices of `file` are all gone within two seconds (the kernel releases
/// an autoclear device asynchronously after the unmount).
pub fn loop_released(file: &Path) -> bool {
    for _ in 0..100 {
        if loop_devices_of(file).is_empty() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// A loop-backed btrfs pool in a temporary `LXD_DIR`; dropping it unmounts, detaches and
/// removes only what this test created.
pub struct LoopPool {
    pub tmp: tempfile::TempDir,
    pub driver: BtrfsDriver,
    pub pool: Pool,
}

impl LoopPool {
    /// Create pool `p` of `size` (e.g. `300MiB`).
    pub fn create(size: &str) -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("lxd-storage-test")
            .tempdir()
            .unwrap();
        let mount = tmp.path().join("lxd/storage-pools/p");
        std::fs::create_dir_all(mount.parent().unwrap()).unwrap();
        let driver = BtrfsDriver::default();
        let mut config = PoolConfig::from([("size".to_string(), size.to_string())]);
        driver.fill_pool_config(&mut config, &mount).unwrap();
        let guard = Self {
            tmp,
            driver,
            pool: Pool::new("p", &mount, config),
        };
        guard
            .driver
            .create_pool(&guard.pool.config, &guard.pool.mount)
            .unwrap();
        guard
    }

    pub fn loop_file(&self) -> PathBuf {
        PathBuf::from(&self.pool.config["source"])
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.pool.mount.join(rel)
    }
}

impl Drop for LoopPool {
    fn drop(&mut self) {
        let mount = &self.pool.mount;
        for _ in 0..4 {
            if !is_mounted(mount) {
                break;
            }
            let _ = Command::new("umount").arg("-l").arg(mount).status();
        }
        for dev in loop_devices_of(&self.loop_file()) {
            let _ = Command::new("losetup").arg("-d").arg(&dev).status();
        }
    }
}

/// Fill an image directory: `metadata.yaml`, `rootfs/` owned by 1000000 with a file, a
/// symlink, a fifo and a hard link.
pub fn fill_image(dir: &Path) -> Result<(), lxd_storage::FillError> {
    std::fs::write(dir.join("metadata.yaml"), "architecture: x86_64\n")?;
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc"))?;
    std::fs::write(rootfs.join("etc/hostname"), "img\n")?;
    std::fs::hard_link(
        rootfs.join("etc/hostname"),
        rootfs.join("etc/hostname.link"),
    )?;
    std::os::unix::fs::symlink("hostname", rootfs.join("etc/name"))?;
    let fifo = rootfs.join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status()?;
    if !made.success() {
        return Err("mkfifo failed".into());
    }
    std::fs::set_permissions(
        rootfs.join("etc/hostname"),
        std::fs::Permissions::from_mode(0o640),
    )?;
    for p in [
        &rootfs,
        &rootfs.join("etc"),
        &rootfs.join("etc/hostname"),
        &fifo,
    ] {
        std::os::unix::fs::chown(p, Some(1_000_000), Some(1_000_000))?;
    }
    std::os::unix::fs::lchown(rootfs.join("etc/name"), Some(1_000_000), Some(1_000_000))?;
    Ok(())
}

/// Check what [`fill_image`] made survived in `root`.
pub fn assert_image_content(root: &Path) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let rootfs = root.join("rootfs");
    let host = std::fs::metadata(rootfs.join("etc/hostname")).unwrap();
    assert_eq!((host.uid(), host.gid()), (1_000_000, 1_000_000));
    assert_eq!(host.mode() & 0o777, 0o640);
    assert_eq!(host.nlink(), 2, "hard link kept");
    let link = std::fs::symlink_metadata(rootfs.join("etc/name")).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(link.uid(), 1_000_000);
    assert_eq!(
        std::fs::read_link(rootfs.join("etc/name")).unwrap(),
        Path::new("hostname")
    );
    let fifo = std::fs::symlink_metadata(rootfs.join("fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.uid(), 1_000_000);
}
