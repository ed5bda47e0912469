//! Disks from `/sys/class/block` (entries with a `device`, i.e. not partitions), enriched from
//! `/dev/disk/by-{path,id}`, udev's database in `/run/udev/data` and the `BLKPBSZGET` ioctl.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use lxd_api::resources::{ResourcesStorage, ResourcesStorageDisk, ResourcesStorageDiskPartition};

use super::sysfs::{
    base_name, device_numa_node, exists, list, pci_address, read_string, read_u64, usb_address,
};
use super::ResourcesError;
use crate::paths::HostPaths;

const CDROM_NO_MEDIA_SECTORS: u64 = 0x1f_ffff;

/// The physical block size of a block device, or `None` when it cannot be opened (LXD then
/// reports 0) or is not a block device (LXD fails the whole request; we report 0). The device
/// is opened read-only and only queried.
fn physical_block_size(node: &Path) -> Option<u64> {
    let file = std::fs::File::open(node).ok()?;
    let mut size: libc::c_uint = 0;
    // SAFETY: `file` is an open descriptor for the duration of the call and BLKPBSZGET writes
    // one `unsigned int` into `size`, which is live and properly aligned.
    let ret = unsafe { libc::ioctl(file.as_raw_fd(), libc::BLKPBSZGET as _, &mut size) };
    (ret == 0).then_some(u64::from(size))
}

/// Decode udev's `\xNN` escapes (as in `ID_MODEL_ENC`); `None` on a bad escape.
fn udev_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() && bytes[i + 1] == b'x' {
            let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn udev_properties(path: &Path) -> Result<HashMap<String, String>, ResourcesError> {
    let text = std::fs::read_to_string(path).map_err(|source| ResourcesError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("E:"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

fn apply_udev(
    props: &HashMap<String, String>,
    disk: &mut ResourcesStorageDisk,
) -> Result<(), ResourcesError> {
    let get = |key: &str| props.get(key).map(String::as_str).unwrap_or("");
    if get("ID_CDROM") == "1" {
        disk.kind = "cdrom".into();
    } else if get("ID_USB_DRIVER") == "usb-storage" {
        disk.kind = "usb".into();
    } else if get("ID_ATA_SATA") == "1" {
        disk.kind = "sata".into();
    }
    if !get("ID_REVISION").is_empty() && disk.firmware_version.is_empty() {
        disk.firmware_version = get("ID_REVISION").into();
    }
    if !get("ID_SERIAL_SHORT").is_empty() {
        disk.serial = get("ID_SERIAL_SHORT").into();
    }
    if !get("ID_MODEL_ENC").is_empty() {
        match udev_decode(get("ID_MODEL_ENC")) {
            Some(model) => disk.model = model.trim().to_string(),
            None if !get("ID_MODEL").is_empty() => disk.model = get("ID_MODEL").into(),
            None => {}
        }
    } else if !get("ID_MODEL").is_empty() {
        disk.model = get("ID_MODEL").into();
    }
    let rpm = get("ID_ATA_ROTATION_RATE_RPM");
    if !rpm.is_empty() && disk.rpm == 0 {
        disk.rpm = rpm.parse().map_err(|_| ResourcesError::Parse {
            path: PathBuf::from("udev ID_ATA_ROTATION_RATE_RPM"),
            value: rpm.to_string(),
        })?;
    }
    Ok(())
}

/// Name of the last link in `dir` resolving to `target` (unresolvable links are skipped).
fn link_to(dir: &Path, target: &Path) -> String {
    let Ok(names) = list(dir) else {
        return String::new();
    };
    names
        .into_iter()
        .rfind(|name| std::fs::canonicalize(dir.join(name)).is_ok_and(|t| t == target))
        .unwrap_or_default()
}

fn partitions(
    class_block: &Path,
    entries: &[String],
    disk: &str,
) -> Result<Vec<ResourcesStorageDiskPartition>, ResourcesError> {
    let mut found = Vec::new();
    for name in entries.iter().filter(|n| n.starts_with(disk)) {
        let dir = class_block.join(name);
        if !exists(&dir.join("partition")) {
            continue;
        }
        found.push(ResourcesStorageDiskPartition {
            id: name.clone(),
            partition: read_u64(&dir.join("partition"))?,
            device: read_string(&dir.join("dev"))?,
            read_only: read_u64(&dir.join("ro"))? == 1,
            size: read_u64(&dir.join("size"))? * 512,
        });
    }
    Ok(found)
}

pub(super) fn collect(paths: &HostPaths) -> Result<ResourcesStorage, ResourcesError> {
    let mut disks = Vec::new();
    let class_block = paths.sys_path("class/block");
    if exists(&class_block) {
        let entries = list(&class_block)?;
        let dev_root = std::fs::canonicalize(&paths.dev).unwrap_or_else(|_| paths.dev.clone());
        for name in &entries {
            let entry = class_block.join(name);
            let device = entry.join("device");
            if !exists(&device) {
                continue;
            }
            let mut disk = ResourcesStorageDisk {
                id: name.clone(),
                ..Default::default()
            };
            if exists(&device.join("firmware_rev")) {
                disk.firmware_version = read_string(&device.join("firmware_rev"))?;
            }
            // Multipath members have no `dev`: skipped, as in LXD.
            match std::fs::read_to_string(entry.join("dev")) {
                Ok(dev) => disk.device = dev.trim().to_string(),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(ResourcesError::Read {
                        path: entry.join("dev"),
                        source,
                    })
                }
            }
            disk.pci_address = pci_address(&device)?.unwrap_or_default();
            disk.usb_address = usb_address(&device)?.unwrap_or_default();
            disk.numa_node = device_numa_node(&device)?;
            if exists(&device.join("model")) {
                disk.model = read_string(&device.join("model"))?;
            }
            if exists(&device.join("subsystem")) {
                disk.kind = base_name(&super::sysfs::resolve(&device.join("subsystem"))?);
                if disk.kind == "rbd" {
                    continue;
                }
            }
            disk.read_only = read_u64(&entry.join("ro"))? == 1;
            disk.size = read_u64(&entry.join("size"))? * 512;
            disk.removable = read_u64(&entry.join("removable"))? == 1;
            if exists(&entry.join("wwid")) {
                disk.wwn = read_string(&entry.join("wwid"))?;
            }
            if name.starts_with("sr") && disk.removable {
                disk.kind = "cdrom".into();
                if disk.size == CDROM_NO_MEDIA_SECTORS * 512 {
                    disk.size = 0;
                }
            }
            disk.partitions = partitions(&class_block, &entries, name)?;
            let node = dev_root.join(name);
            disk.device_path = link_to(&paths.dev.join("disk/by-path"), &node);
            disk.device_id = link_to(&paths.dev.join("disk/by-id"), &node);
            if let Some(size) = physical_block_size(&paths.dev.join(name)) {
                disk.block_size = size;
            }
            let udev = paths.run.join(format!("udev/data/b{}", disk.device));
            if exists(&udev) {
                apply_udev(&udev_properties(&udev)?, &mut disk)?;
            }
            if disk.rpm == 0 {
                if let Ok(rotational) = read_u64(&entry.join("queue/rotational")) {
                    disk.rpm = rotational;
                }
            }
            disks.push(disk);
        }
    }
    let total = disks.iter().map(|d| 1 + d.partitions.len() as u64).sum();
    Ok(ResourcesStorage { disks, total })
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    fn fake_disk(fake: &FakeHost) {
        fake.dir("sys/bus/virtio");
        fake.dir("sys/bus/pci");
        let pci = "sys/devices/pci0000:00/0000:00:02.0";
        fake.link(&format!("{pci}/subsystem"), "../../../bus/pci");
        let virtio = format!("{pci}/virtio1");
        fake.link(&format!("{virtio}/subsystem"), "../../../../bus/virtio");
        let vda = format!("{virtio}/block/vda");
        fake.link(&format!("{vda}/device"), "../../../virtio1");
        fake.write(&format!("{vda}/dev"), "254:0\n");
        fake.write(&format!("{vda}/ro"), "0\n");
        fake.write(&format!("{vda}/size"), "536870912\n");
        fake.write(&format!("{vda}/removable"), "0\n");
        fake.write(&format!("{vda}/queue/rotational"), "1\n");
        fake.write(&format!("{vda}/vda1/partition"), "1\n");
        fake.write(&format!("{vda}/vda1/dev"), "254:1\n");
        fake.write(&format!("{vda}/vda1/ro"), "0\n");
        fake.write(&format!("{vda}/vda1/size"), "2048\n");
        fake.link("sys/class/block/vda", &fake.path(&vda).to_string_lossy());
        fake.link(
            "sys/class/block/vda1",
            &fake.path(&vda).join("vda1").to_string_lossy(),
        );
        fake.write("dev/vda", "");
        fake.link("dev/disk/by-path/pci-0000:00:02.0", "../../vda");
        fake.link("dev/disk/by-id/virtio-serial1", "../../vda");
        fake.write(
            "run/udev/data/b254:0",
            "S:disk/by-id/x\nE:ID_SERIAL_SHORT=serial1\nE:ID_MODEL_ENC=Fast\\x20Disk\\x20\\x20\n",
        );
    }

    #[test]
    fn storage_virtio_disk_like_lxd() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake_disk(&fake);
        let storage = collect(&HostPaths::under(dir.path())).unwrap();
        assert_eq!(storage.total, 2);
        let disk = &storage.disks[0];
        assert_eq!(disk.id, "vda");
        assert_eq!(disk.device, "254:0");
        assert_eq!(disk.kind, "virtio");
        assert_eq!(disk.size, 536_870_912 * 512);
        assert_eq!(disk.pci_address, "0000:00:02.0");
        assert_eq!(disk.rpm, 1);
        assert_eq!(disk.device_path, "pci-0000:00:02.0");
        assert_eq!(disk.device_id, "virtio-serial1");
        assert_eq!(disk.serial, "serial1");
        assert_eq!(disk.model, "Fast Disk");
        // A regular file is not a block device: the ioctl fails and the size stays 0.
        assert_eq!(disk.block_size, 0);
        assert_eq!(disk.partitions[0].size, 2048 * 512);
        assert_eq!(disk.partitions[0].device, "254:1");
    }

    #[test]
    fn udev_decode_hex_escapes() {
        assert_eq!(
            udev_decode("QEMU\\x20HARDDISK").as_deref(),
            Some("QEMU HARDDISK")
        );
        assert_eq!(udev_decode("bad\\xZZ"), None);
    }
}
