//! Small sysfs readers shared by the inventory modules, with LXD's semantics: values are
//! trimmed, "exists" means `lstat` succeeds, and directory listings are sorted by name (Go's
//! `os.ReadDir`).

use std::path::{Path, PathBuf};

use super::ResourcesError;

/// Whether `path` exists, without following a final symlink.
pub(super) fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Whether `path` is a directory (following symlinks).
pub(super) fn is_dir(path: &Path) -> bool {
    path.metadata().map(|m| m.is_dir()).unwrap_or(false)
}

pub(super) fn read_raw(path: &Path) -> Result<String, ResourcesError> {
    std::fs::read_to_string(path).map_err(|source| ResourcesError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The file's text, trimmed.
pub(super) fn read_string(path: &Path) -> Result<String, ResourcesError> {
    read_raw(path).map(|s| s.trim().to_string())
}

/// The file's text trimmed, or `None` when it is missing.
pub(super) fn read_string_if_exists(path: &Path) -> Result<Option<String>, ResourcesError> {
    if !exists(path) {
        return Ok(None);
    }
    read_string(path).map(Some)
}

fn parse_error(path: &Path, value: &str) -> ResourcesError {
    ResourcesError::Parse {
        path: path.to_path_buf(),
        value: value.to_string(),
    }
}

/// A decimal unsigned integer file.
pub(super) fn read_u64(path: &Path) -> Result<u64, ResourcesError> {
    let text = read_string(path)?;
    text.parse().map_err(|_| parse_error(path, &text))
}

/// A decimal signed integer file; `None` when the file is missing.
pub(super) fn read_i64_if_exists(path: &Path) -> Result<Option<i64>, ResourcesError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = text.trim();
            text.parse().map(Some).map_err(|_| parse_error(path, text))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ResourcesError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A hexadecimal file such as `bDeviceClass` (`09`) or `vendor` (`0x8086`).
pub(super) fn read_hex(path: &Path) -> Result<u64, ResourcesError> {
    let text = read_string(path)?;
    u64::from_str_radix(text.trim_start_matches("0x"), 16).map_err(|_| parse_error(path, &text))
}

/// An id file (`0x1af4`) without its `0x`, or `None` when missing.
pub(super) fn read_id(path: &Path) -> Result<Option<String>, ResourcesError> {
    Ok(read_string_if_exists(path)?.map(|id| id.trim_start_matches("0x").to_string()))
}

/// Entry names of a directory, sorted.
pub(super) fn list(path: &Path) -> Result<Vec<String>, ResourcesError> {
    let entries = std::fs::read_dir(path).map_err(|source| ResourcesError::List {
        path: path.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// Resolve every symlink in `path`.
pub(super) fn resolve(path: &Path) -> Result<PathBuf, ResourcesError> {
    std::fs::canonicalize(path).map_err(|source| ResourcesError::Resolve {
        path: path.to_path_buf(),
        source,
    })
}

/// Last component of a path, as a string.
pub(super) fn base_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The NUMA node of a sysfs device: its `nodeN` entry holding `numastat`, else 0.
pub(super) fn numa_node_of(path: &Path) -> Result<u64, ResourcesError> {
    for name in list(path)? {
        if let Some(number) = name.strip_prefix("node") {
            if exists(&path.join(&name).join("numastat")) {
                return number.parse().map_err(|_| parse_error(path, &name));
            }
        }
    }
    Ok(0)
}

/// A device's `numa_node` file, negatives (no affinity) as 0.
pub(super) fn device_numa_node(device: &Path) -> Result<u64, ResourcesError> {
    let node = read_i64_if_exists(&device.join("numa_node"))?.unwrap_or(0);
    Ok(u64::try_from(node).unwrap_or(0))
}

/// The PCI address of a device (looking through a virtio parent), or `None`.
pub(super) fn pci_address(device: &Path) -> Result<Option<String>, ResourcesError> {
    if !exists(&device.join("subsystem")) {
        return Ok(None);
    }
    let mut target = resolve(device)?;
    let mut subsystem = base_name(&resolve(&target.join("subsystem"))?);
    if subsystem == "virtio" {
        target = target.parent().map(Path::to_path_buf).unwrap_or_default();
        subsystem = base_name(&resolve(&target.join("subsystem"))?);
    }
    Ok((subsystem == "pci").then(|| base_name(&target)))
}

/// The USB `bus:device` address of a device below a USB controller, or `None`.
pub(super) fn usb_address(device: &Path) -> Result<Option<String>, ResourcesError> {
    let resolved = resolve(device)?;
    if !resolved.to_string_lossy().contains("/usb") {
        return Ok(None);
    }
    let mut current = Some(resolved.as_path());
    while let Some(dir) = current {
        if exists(&dir.join("busnum")) && exists(&dir.join("devnum")) {
            let bus = read_u64(&dir.join("busnum"))?;
            let dev = read_u64(&dir.join("devnum"))?;
            return Ok(Some(format!("{bus}:{dev}")));
        }
        current = dir.parent().filter(|p| *p != Path::new("/"));
    }
    Ok(None)
}

/// The bound driver of a device and its version (module `version`, else the kernel release).
pub(super) fn driver_of(
    device: &Path,
    release: &str,
) -> Result<Option<(String, String)>, ResourcesError> {
    let link = device.join("driver");
    if !exists(&link) {
        return Ok(None);
    }
    let name = base_name(&resolve(&link)?);
    let version = std::fs::read_to_string(link.join("module/version"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|_| release.to_string());
    Ok(Some((name, version)))
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    #[test]
    fn pci_address_virtio_child_parent_address() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.dir("sys/bus/pci");
        fake.dir("sys/bus/virtio");
        let pci_dev = "sys/devices/pci0000:00/0000:00:03.0";
        fake.link(&format!("{pci_dev}/subsystem"), "../../../bus/pci");
        fake.link(
            &format!("{pci_dev}/virtio0/subsystem"),
            "../../../../bus/virtio",
        );
        fake.link(
            "sys/class/net/eth0/device",
            &fake.path(pci_dev).join("virtio0").to_string_lossy(),
        );
        let address = pci_address(&fake.path("sys/class/net/eth0/device")).unwrap();
        assert_eq!(address.as_deref(), Some("0000:00:03.0"));
    }

    #[test]
    fn pci_address_no_subsystem_none() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.dir("sys/devices/platform/x");
        assert_eq!(
            pci_address(&fake.path("sys/devices/platform/x")).unwrap(),
            None
        );
    }

    #[test]
    fn usb_address_walks_up_to_busnum() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write("sys/devices/usb1/1-1/busnum", "1\n");
        fake.write("sys/devices/usb1/1-1/devnum", "4\n");
        fake.dir("sys/devices/usb1/1-1/1-1:1.0/net/wlan0");
        let device = fake.path("sys/devices/usb1/1-1/1-1:1.0");
        assert_eq!(usb_address(&device).unwrap().as_deref(), Some("1:4"));
    }

    #[test]
    fn driver_of_no_module_version_kernel_release() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.dir("sys/bus/pci/drivers/virtio-pci");
        fake.link("sys/dev0/driver", "../bus/pci/drivers/virtio-pci");
        let driver = driver_of(&fake.path("sys/dev0"), "6.1.0").unwrap();
        assert_eq!(driver, Some(("virtio-pci".into(), "6.1.0".into())));
    }
}
