//! Mounting of btrfs pools: a loop device attached with `losetup` (then marked autoclear so it
//! goes with the unmount), a block device, a UUID or a bind mount of a path; remounts for
//! `btrfs.mount_options`; mount-table lookups in an injected mountinfo file.

use std::path::Path;

use super::pool::{mount_options, Source};
use super::{arg, BtrfsDriver};
use crate::driver::PoolConfig;
use crate::error::StorageError;
use crate::fsutil;
use crate::volume::Pool;

/// How often, and how far apart, `release_loop` looks for a loop device again.
const LOOP_RELEASE_TRIES: usize = 100;
const LOOP_RELEASE_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

impl BtrfsDriver {
    pub(super) fn pool_mount(&self, pool: &Pool) -> Result<bool, StorageError> {
        let mount = &pool.mount;
        if self.is_mounted(mount)? {
            return Ok(false);
        }
        let opts = mount_options(&pool.config);
        let target = arg(mount);
        match self.source(&pool.config, mount) {
            Source::Path(src) if &src == mount => return Ok(false),
            Source::Path(src) => {
                fsutil::ensure_dir(mount, 0o711)?;
                self.run(
                    "bind-mount",
                    &src,
                    &["mount", "--bind", &arg(&src), &target],
                )?;
                let remount = format!("remount,{opts}");
                self.run(
                    "set mount options of",
                    mount,
                    &["mount", "-o", &remount, &target],
                )?;
            }
            Source::Loop(file) => {
                fsutil::ensure_dir(mount, 0o711)?;
                let dev = self.attach_loop(&file)?;
                let mounted = self.run(
                    "mount",
                    mount,
                    &["mount", "-t", "btrfs", "-o", opts, &dev, &target],
                );
                // Detaching a busy loop device only marks it autoclear: it goes with the mount.
                let detached = self.run("detach", Path::new(&dev), &["losetup", "--detach", &dev]);
                mounted?;
                detached?;
            }
            Source::Device(dev) => {
                fsutil::ensure_dir(mount, 0o711)?;
                self.run(
                    "mount",
                    mount,
                    &["mount", "-t", "btrfs", "-o", opts, &arg(&dev), &target],
                )?;
            }
            Source::Uuid(uuid) => {
                fsutil::ensure_dir(mount, 0o711)?;
                let dev = format!("/dev/disk/by-uuid/{uuid}");
                self.run(
                    "mount",
                    mount,
                    &["mount", "-t", "btrfs", "-o", opts, &dev, &target],
                )?;
            }
        }
        Ok(true)
    }

    fn attach_loop(&self, file: &Path) -> Result<String, StorageError> {
        let f = arg(file);
        let direct = [
            "losetup",
            "--find",
            "--nooverlap",
            "--direct-io=on",
            "--show",
            &f,
        ];
        let out = match self.run("attach", file, &direct) {
            Ok(out) => out,
            Err(_) => self.run(
                "attach",
                file,
                &["losetup", "--find", "--nooverlap", "--show", &f],
            )?,
        };
        let dev = out.trim().to_string();
        if !dev.starts_with("/dev/") {
            return Err(StorageError::UnexpectedOutput("losetup --show"));
        }
        Ok(dev)
    }

    /// Detach loop devices still backing the pool's own loop file (autoclear is asynchronous
    /// and a failed mount leaves the device attached), and look again until none is left: right
    /// after the unmount the device may still be busy, and a detach then only marks it
    /// autoclear. Gives up after about two seconds; failures are harmless.
    fn release_loop(&self, file: &Path) {
        let f = arg(file);
        for _ in 0..LOOP_RELEASE_TRIES {
            let Ok(out) = self.run("list loop devices of", file, &["losetup", "-j", &f]) else {
                return;
            };
            let devices: Vec<&str> = out
                .lines()
                .filter_map(|l| l.split(':').next())
                .filter(|d| d.starts_with("/dev/"))
                .collect();
            if devices.is_empty() {
                return;
            }
            for dev in devices {
                let _ = self.run("detach", file, &["losetup", "--detach", dev]);
            }
            std::thread::sleep(LOOP_RELEASE_PAUSE);
        }
    }

    pub(super) fn pool_unmount(&self, pool: &Pool) -> Result<bool, StorageError> {
        let mount = &pool.mount;
        if !self.is_mounted(mount)? {
            return Ok(false);
        }
        let target = arg(mount);
        if self.run("unmount", mount, &["umount", &target]).is_err() {
            self.run("unmount", mount, &["umount", "-l", &target])?;
        }
        if let Source::Loop(file) = self.source(&pool.config, mount) {
            self.release_loop(&file);
        }
        Ok(true)
    }

    pub(super) fn pool_update(
        &self,
        pool: &Pool,
        changed: &PoolConfig,
    ) -> Result<(), StorageError> {
        if !changed.contains_key("btrfs.mount_options") || !self.is_mounted(&pool.mount)? {
            return Ok(());
        }
        let mut config = pool.config.clone();
        config.extend(changed.clone());
        let remount = format!("remount,{}", mount_options(&config));
        self.run(
            "set mount options of",
            &pool.mount,
            &["mount", "-o", &remount, &arg(&pool.mount)],
        )?;
        Ok(())
    }

    /// Whether `path` is a mount point in the mount table.
    pub fn is_mounted(&self, path: &Path) -> Result<bool, StorageError> {
        let table = std::fs::read_to_string(&self.mountinfo)
            .map_err(StorageError::io("read", &self.mountinfo))?;
        Ok(table
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .any(|m| Path::new(&unescape_mountinfo(m)) == path))
    }
}

/// Undo mountinfo's octal escapes (`\040` for a space).
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let v = u32::from(d[0] - b'0') * 64
                    + u32::from(d[1] - b'0') * 8
                    + u32::from(d[2] - b'0');
                out.push(v as u8);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn unescape_mountinfo_space_decoded() {
        assert_eq!(unescape_mountinfo("/a\\040b"), "/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
    }
}
