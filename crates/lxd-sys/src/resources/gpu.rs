//! GPUs: DRM cards of `/sys/class/drm`, then PCI display controllers (class `0x03`) without a
//! DRM node. NVIDIA details come from `/proc/driver/nvidia/gpus` (LXD first asks
//! `nvidia-container-cli`; that tool is not consulted here).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use lxd_api::resources::{
    ResourcesGpu, ResourcesGpuCard, ResourcesGpuCardDrm, ResourcesGpuCardMdev,
    ResourcesGpuCardNvidia, ResourcesGpuCardSriov,
};

use super::ids::IdsDatabase;
use super::sysfs::{
    base_name, device_numa_node, driver_of, exists, is_dir, list, pci_address, read_id,
    read_string, read_u64, resolve, usb_address,
};
use super::ResourcesError;
use crate::paths::HostPaths;

/// NVIDIA cards by PCI address, from the proprietary driver's procfs.
fn nvidia_cards(paths: &HostPaths) -> HashMap<String, ResourcesGpuCardNvidia> {
    let gpus = paths.proc_path("driver/nvidia/gpus");
    let mut cards = HashMap::new();
    for entry in list(&gpus).unwrap_or_default() {
        let Ok(text) = std::fs::read_to_string(gpus.join(&entry).join("information")) else {
            continue;
        };
        let mut card = ResourcesGpuCardNvidia::default();
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "Model" => {
                    card.model = value.to_string();
                    card.brand = value.split(' ').next().unwrap_or("").to_string();
                }
                "Device Minor" => {
                    card.card_name = format!("nvidia{value}");
                    card.card_device = format!("195:{value}");
                }
                _ => {}
            }
        }
        cards.insert(entry, card);
    }
    cards
}

fn drm_info(drm: &Path) -> Result<ResourcesGpuCardDrm, ResourcesError> {
    let mut info = ResourcesGpuCardDrm::default();
    for entry in list(drm)? {
        let dev = || read_string(&drm.join(&entry).join("dev"));
        if let Some(id) = entry.strip_prefix("card") {
            info.id = id.parse().map_err(|_| ResourcesError::Parse {
                path: drm.join(&entry),
                value: entry.clone(),
            })?;
            info.card_device = dev()?;
            info.card_name = entry.clone();
        }
        if entry.starts_with("controlD") {
            info.control_device = dev()?;
            info.control_name = entry.clone();
        }
        if entry.starts_with("renderD") {
            info.render_device = dev()?;
            info.render_name = entry.clone();
        }
    }
    Ok(info)
}

fn mdev_types(dir: &Path) -> Result<BTreeMap<String, ResourcesGpuCardMdev>, ResourcesError> {
    let mut types = BTreeMap::new();
    for entry in list(dir)? {
        let path = dir.join(&entry);
        let mut mdev = ResourcesGpuCardMdev::default();
        if exists(&path.join("device_api")) {
            mdev.api = read_string(&path.join("device_api"))?;
        }
        if exists(&path.join("available_instances")) {
            mdev.available = read_u64(&path.join("available_instances"))?;
        }
        if exists(&path.join("description")) {
            mdev.description = read_string(&path.join("description"))?;
        }
        if exists(&path.join("devices")) {
            mdev.devices = Some(list(&path.join("devices"))?);
        }
        if exists(&path.join("name")) {
            mdev.name = read_string(&path.join("name"))?;
        }
        types.insert(entry, mdev);
    }
    Ok(types)
}

fn add_device_info(
    device: &Path,
    nvidia: &HashMap<String, ResourcesGpuCardNvidia>,
    release: &str,
    pci_ids: &IdsDatabase,
    card: &mut ResourcesGpuCard,
) -> Result<(), ResourcesError> {
    if is_dir(&device.join("device")) {
        return add_device_info(&device.join("device"), nvidia, release, pci_ids, card);
    }
    if exists(&device.join("sriov_numvfs")) {
        card.sriov = Some(ResourcesGpuCardSriov {
            maximum_vfs: read_u64(&device.join("sriov_totalvfs"))?,
            current_vfs: read_u64(&device.join("sriov_numvfs"))?,
            vfs: None,
        });
    }
    card.numa_node = device_numa_node(device)?;
    if exists(&device.join("device/busnum")) {
        if let Some(address) = usb_address(&device.join("device"))? {
            card.usb_address = address;
        }
    } else {
        if let Some(id) = read_id(&device.join("vendor"))? {
            card.vendor_id = id;
        }
        if let Some(id) = read_id(&device.join("device"))? {
            card.product_id = id;
        }
        (card.vendor, card.product) = pci_ids.names(&card.vendor_id, &card.product_id);
    }
    if let Some((driver, version)) = driver_of(device, release)? {
        card.driver = driver;
        card.driver_version = version;
    }
    if card.driver == "nvidia" && !card.pci_address.is_empty() {
        card.nvidia = nvidia
            .get(&card.pci_address)
            .or_else(|| nvidia.get(&format!("0000{}", card.pci_address)))
            .cloned();
    }
    if exists(&device.join("drm")) {
        card.drm = Some(drm_info(&device.join("drm"))?);
    }
    if exists(&device.join("mdev_supported_types")) {
        card.mdev = mdev_types(&device.join("mdev_supported_types"))?;
    }
    Ok(())
}

pub(super) fn collect(
    paths: &HostPaths,
    release: &str,
    pci_ids: &IdsDatabase,
) -> Result<ResourcesGpu, ResourcesError> {
    let nvidia = nvidia_cards(paths);
    let mut cards = Vec::new();
    let mut vfs: HashMap<String, Vec<ResourcesGpuCard>> = HashMap::new();
    let mut known: Vec<String> = Vec::new();
    let mut place = |device: &Path, card: ResourcesGpuCard| -> Result<(), ResourcesError> {
        if exists(&device.join("physfn")) {
            let parent = base_name(&resolve(&device.join("physfn"))?);
            vfs.entry(parent).or_default().push(card);
        } else {
            cards.push(card);
        }
        Ok(())
    };

    let class_drm = paths.sys_path("class/drm");
    if exists(&class_drm) {
        for entry in list(&class_drm)? {
            let dir = class_drm.join(&entry);
            if !entry.starts_with("card") || !exists(&dir.join("dev")) {
                continue;
            }
            let device = dir.join("device");
            let mut card = ResourcesGpuCard::default();
            if let Some(address) = pci_address(&device)? {
                if known.contains(&address) {
                    continue;
                }
                known.push(address.clone());
                card.pci_address = address;
            }
            add_device_info(&device, &nvidia, release, pci_ids, &mut card)?;
            place(&device, card)?;
        }
    }

    let bus_pci = paths.sys_path("bus/pci/devices");
    if exists(&bus_pci) {
        for entry in list(&bus_pci)? {
            let device = bus_pci.join(&entry);
            if known.contains(&entry) || !exists(&device.join("class")) {
                continue;
            }
            if !read_string(&device.join("class"))?.starts_with("0x03") {
                continue;
            }
            let mut card = ResourcesGpuCard {
                pci_address: entry.clone(),
                ..Default::default()
            };
            add_device_info(&device, &nvidia, release, pci_ids, &mut card)?;
            place(&device, card)?;
        }
    }

    let mut total = 0;
    for card in &mut cards {
        if let Some(sriov) = card.sriov.as_mut() {
            sriov.vfs = vfs.remove(&card.pci_address);
            total += sriov.vfs.as_ref().map_or(0, |v| v.len() as u64);
        }
        total += 1;
    }
    Ok(ResourcesGpu { cards, total })
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    #[test]
    fn gpu_drm_card_on_pci_with_render_node() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake.dir("sys/bus/pci/drivers/i915");
        let pci = "sys/devices/pci0000:00/0000:00:02.0";
        fake.link(&format!("{pci}/subsystem"), "../../../bus/pci");
        fake.link(&format!("{pci}/driver"), "../../../bus/pci/drivers/i915");
        fake.write(&format!("{pci}/vendor"), "0x8086\n");
        fake.write(&format!("{pci}/device"), "0x46a6\n");
        fake.write(&format!("{pci}/class"), "0x030000\n");
        fake.write(&format!("{pci}/drm/card0/dev"), "226:0\n");
        fake.write(&format!("{pci}/drm/renderD128/dev"), "226:128\n");
        fake.write("sys/class/drm/card0/dev", "226:0\n");
        fake.link(
            "sys/class/drm/card0/device",
            &fake.path(pci).to_string_lossy(),
        );
        fake.link(
            "sys/bus/pci/devices/0000:00:02.0",
            &fake.path(pci).to_string_lossy(),
        );
        let gpu = collect(
            &HostPaths::under(dir.path()),
            "6.1.0",
            &IdsDatabase::default(),
        )
        .unwrap();
        assert_eq!(gpu.total, 1);
        let json = serde_json::to_string(&gpu.cards[0]).unwrap();
        assert_eq!(
            json,
            r#"{"driver":"i915","driver_version":"6.1.0","drm":{"id":0,"card_name":"card0","card_device":"226:0","render_name":"renderD128","render_device":"226:128"},"numa_node":0,"pci_address":"0000:00:02.0","vendor_id":"8086","product_id":"46a6"}"#
        );
    }
}
