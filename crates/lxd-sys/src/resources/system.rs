//! The machine: DMI identity from `/sys/class/dmi/id` and the system type.
//!
//! LXD runs `systemd-detect-virt --container`, then `--vm`. Spawning per request is too slow,
//! so [`detect_system_type`] applies the same file checks systemd makes for containers
//! (OpenVZ, WSL, `container=` of PID 1 or `/run/systemd/container`, podman's and docker's
//! marker files) and, for virtual machines, the CPU `hypervisor` flag, Xen, and DMI vendors.

use std::path::Path;

use lxd_api::resources::{
    ResourcesSystem, ResourcesSystemChassis, ResourcesSystemFirmware, ResourcesSystemMotherboard,
};

use super::sysfs::{exists, read_u64};
use super::ResourcesError;
use crate::paths::HostPaths;

const CHASSIS_TYPES: [&str; 36] = [
    "Other",
    "Unknown",
    "Desktop",
    "Low Profile Desktop",
    "Pizza Box",
    "Mini Tower",
    "Tower",
    "Portable",
    "Laptop",
    "Notebook",
    "Hand Held",
    "Docking Station",
    "All in One",
    "Sub Notebook",
    "Space-saving",
    "Lunch Box",
    "Main Server Chassis",
    "Expansion Chassis",
    "SubChassis",
    "Bus Expansion Chassis",
    "Peripheral Chassis",
    "RAID Chassis",
    "Rack Mount Chassis",
    "Sealed-case PC",
    "Multi-system chassis",
    "Compact PCI",
    "Advanced TCA",
    "Blade",
    "Blade Enclosure",
    "Tablet",
    "Convertible",
    "Detachable",
    "IoT Gateway",
    "Embedded PC",
    "Mini PC",
    "Stick PC",
];

const VM_VENDORS: &[&str] = &[
    "QEMU",
    "KVM",
    "Amazon EC2",
    "VMware",
    "VMW",
    "innotek GmbH",
    "VirtualBox",
    "Xen",
    "Bochs",
    "Parallels",
    "BHYVE",
    "Microsoft Corporation",
    "Google",
];

/// `container`, `virtual-machine` or `physical`, as `systemd-detect-virt` would decide.
pub fn detect_system_type(paths: &HostPaths) -> &'static str {
    if in_container(paths) {
        "container"
    } else if in_virtual_machine(paths) {
        "virtual-machine"
    } else {
        "physical"
    }
}

fn in_container(paths: &HostPaths) -> bool {
    if exists(&paths.proc_path("vz")) && !exists(&paths.proc_path("bc")) {
        return true;
    }
    if let Ok(release) = std::fs::read_to_string(paths.proc_path("sys/kernel/osrelease")) {
        if release.contains("Microsoft") || release.contains("WSL") {
            return true;
        }
    }
    let run_marker = std::fs::read_to_string(paths.run.join("systemd/container"))
        .is_ok_and(|c| !c.trim().is_empty());
    let pid1_env = std::fs::read(paths.proc_path("1/environ")).is_ok_and(|env| {
        env.split(|b| *b == 0)
            .any(|var| var.starts_with(b"container=") && var.len() > "container=".len())
    });
    run_marker
        || pid1_env
        || exists(&paths.run.join("host/container-manager"))
        || exists(&paths.run.join(".containerenv"))
        || exists(&paths.root.join(".dockerenv"))
}

fn in_virtual_machine(paths: &HostPaths) -> bool {
    let dmi = paths.sys_path("class/dmi/id");
    let dmi_vm = ["sys_vendor", "board_vendor", "bios_vendor", "product_name"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(dmi.join(f)).ok())
        .any(|value| VM_VENDORS.iter().any(|v| value.trim().starts_with(v)));
    let cpu_flag = std::fs::read_to_string(paths.proc_path("cpuinfo")).is_ok_and(|info| {
        info.lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
    });
    dmi_vm
        || cpu_flag
        || exists(&paths.proc_path("xen"))
        || exists(&paths.sys_path("hypervisor/type"))
}

/// A DMI file: trimmed text, "" when missing; permission errors give "" for `private` fields.
fn dmi_field(dir: &Path, name: &str, private: bool) -> Result<String, ResourcesError> {
    let path = dir.join(name);
    if !exists(&path) {
        return Ok(String::new());
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().to_string()),
        Err(err) if private && err.kind() == std::io::ErrorKind::PermissionDenied => {
            Ok(String::new())
        }
        Err(source) => Err(ResourcesError::Read { path, source }),
    }
}

pub(super) fn collect(paths: &HostPaths) -> Result<ResourcesSystem, ResourcesError> {
    let mut system = ResourcesSystem {
        kind: detect_system_type(paths).to_string(),
        ..Default::default()
    };
    let dmi = paths.sys_path("class/dmi/id");
    if !exists(&dmi) {
        return Ok(system);
    }
    system.uuid = dmi_field(&dmi, "product_uuid", true)?;
    system.vendor = dmi_field(&dmi, "sys_vendor", false)?;
    system.product = dmi_field(&dmi, "product_name", false)?;
    system.family = dmi_field(&dmi, "product_family", false)?;
    system.version = dmi_field(&dmi, "product_version", false)?;
    system.sku = dmi_field(&dmi, "product_sku", false)?;
    system.serial = dmi_field(&dmi, "product_serial", true)?;
    system.firmware = Some(ResourcesSystemFirmware {
        vendor: dmi_field(&dmi, "bios_vendor", false)?,
        date: dmi_field(&dmi, "bios_date", false)?,
        version: dmi_field(&dmi, "bios_version", false)?,
    });
    let chassis_type = if exists(&dmi.join("chassis_type")) {
        let code = read_u64(&dmi.join("chassis_type"))?;
        code.checked_sub(1)
            .and_then(|i| CHASSIS_TYPES.get(i as usize))
            .map(|s| s.to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    system.chassis = Some(ResourcesSystemChassis {
        vendor: dmi_field(&dmi, "chassis_vendor", false)?,
        kind: chassis_type,
        serial: dmi_field(&dmi, "chassis_serial", true)?,
        version: dmi_field(&dmi, "chassis_version", false)?,
    });
    system.motherboard = Some(ResourcesSystemMotherboard {
        vendor: dmi_field(&dmi, "board_vendor", false)?,
        product: dmi_field(&dmi, "board_name", false)?,
        serial: dmi_field(&dmi, "board_serial", true)?,
        version: dmi_field(&dmi, "board_version", false)?,
    });
    Ok(system)
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    #[test]
    fn system_no_dmi_nulls_and_docker_container() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write(".dockerenv", "");
        let system = collect(&HostPaths::under(dir.path())).unwrap();
        assert_eq!(
            serde_json::to_string(&system).unwrap(),
            r#"{"uuid":"","vendor":"","product":"","family":"","version":"","sku":"","serial":"","type":"container","firmware":null,"chassis":null,"motherboard":null}"#
        );
    }

    #[test]
    fn system_dmi_qemu_virtual_machine_with_chassis() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.write("sys/class/dmi/id/sys_vendor", "QEMU\n");
        fake.write(
            "sys/class/dmi/id/product_name",
            "Standard PC (Q35 + ICH9, 2009)\n",
        );
        fake.write("sys/class/dmi/id/chassis_type", "1\n");
        fake.write("sys/class/dmi/id/bios_vendor", "SeaBIOS\n");
        let system = collect(&HostPaths::under(dir.path())).unwrap();
        assert_eq!(system.kind, "virtual-machine");
        assert_eq!(system.vendor, "QEMU");
        assert_eq!(system.chassis.unwrap().kind, "Other");
        assert_eq!(system.firmware.unwrap().vendor, "SeaBIOS");
        assert_eq!(system.motherboard.unwrap().vendor, "");
    }

    #[test]
    fn detect_system_type_bare_tree_physical() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            detect_system_type(&HostPaths::under(dir.path())),
            "physical"
        );
    }
}
