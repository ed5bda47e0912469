//! Network cards: interfaces of `/sys/class/net` backed by a device, then PCI network
//! controllers (class `0x02`) without an interface. SR-IOV virtual functions are attached to
//! their physical function, as LXD does.

use std::collections::HashMap;
use std::path::Path;

use lxd_api::resources::{
    ResourcesNetwork, ResourcesNetworkCard, ResourcesNetworkCardPort,
    ResourcesNetworkCardPortInfiniband, ResourcesNetworkCardSriov,
};

use super::ids::IdsDatabase;
use super::sysfs::{
    base_name, device_numa_node, driver_of, exists, list, pci_address, read_id, read_string,
    read_u64, resolve, usb_address,
};
use super::{ethtool, ResourcesError};
use crate::paths::HostPaths;

fn protocol_name(kind: u64) -> &'static str {
    match kind {
        1 => "ethernet",
        19 => "ATM",
        32 => "infiniband",
        // LXD sets "unknown" and then overwrites it with the empty lookup result.
        _ => "",
    }
}

fn infiniband_info(
    device: &Path,
    port: u64,
) -> Result<ResourcesNetworkCardPortInfiniband, ResourcesError> {
    let mut ib = ResourcesNetworkCardPortInfiniband::default();
    let mad = device.join("infiniband_mad");
    if exists(&mad) {
        for entry in list(&mad)? {
            let dir = mad.join(&entry);
            if read_u64(&dir.join("port"))? != port + 1 || !exists(&dir.join("dev")) {
                continue;
            }
            let dev = read_string(&dir.join("dev"))?;
            if entry.starts_with("issm") {
                ib.issm_name = entry.clone();
                ib.issm_device = dev.clone();
            }
            if entry.starts_with("umad") {
                ib.mad_name = entry.clone();
                ib.mad_device = dev;
            }
        }
    }
    let verbs = device.join("infiniband_verbs");
    if exists(&verbs) {
        let entries = list(&verbs)?;
        if let [verb] = entries.as_slice() {
            ib.verb_name = verb.clone();
            if exists(&verbs.join(verb).join("dev")) {
                ib.verb_device = read_string(&verbs.join(verb).join("dev"))?;
            }
        }
    }
    Ok(ib)
}

fn add_device_info(
    device: &Path,
    release: &str,
    pci_ids: &IdsDatabase,
    card: &mut ResourcesNetworkCard,
) -> Result<(), ResourcesError> {
    if exists(&device.join("sriov_numvfs")) {
        card.sriov = Some(ResourcesNetworkCardSriov {
            maximum_vfs: read_u64(&device.join("sriov_totalvfs"))?,
            current_vfs: read_u64(&device.join("sriov_numvfs"))?,
            vfs: None,
        });
    }
    card.numa_node = device_numa_node(device)?;
    if let Some(address) = usb_address(device)? {
        card.usb_address = address;
    }
    if let Some(id) = read_id(&device.join("vendor"))? {
        card.vendor_id = id;
    }
    if let Some(id) = read_id(&device.join("device"))? {
        card.product_id = id;
    }
    (card.vendor, card.product) = pci_ids.names(&card.vendor_id, &card.product_id);
    if let Some((driver, version)) = driver_of(device, release)? {
        card.driver = driver;
        card.driver_version = version;
    }

    let net = device.join("net");
    if !exists(&net) {
        return Ok(());
    }
    let is_vf = exists(&device.join("physfn"));
    for entry in list(&net)? {
        let interface = net.join(&entry);
        let mut port = ResourcesNetworkCardPort {
            id: entry.clone(),
            ..Default::default()
        };
        if exists(&interface.join("type")) {
            port.protocol = protocol_name(read_u64(&interface.join("type"))?).to_string();
        }
        if exists(&interface.join("address")) {
            port.address = read_string(&interface.join("address"))?;
        }
        if exists(&interface.join("dev_port")) {
            port.port = read_u64(&interface.join("dev_port"))?;
        }
        if port.protocol == "infiniband" && exists(&device.join("infiniband")) {
            port.infiniband = Some(infiniband_info(device, port.port)?);
        }
        if is_vf {
            card.ports.push(port);
            continue;
        }
        // Ports ethtool cannot describe are left out, as in LXD.
        if ethtool::add_port_info(&mut port).is_ok() {
            card.ports.push(port);
        }
    }
    if let Some(first) = card.ports.first() {
        // LXD fails the whole request here; a card whose driver refuses GDRVINFO keeps an
        // empty firmware version instead.
        card.firmware_version = ethtool::firmware_version(&first.id).unwrap_or_default();
    }
    Ok(())
}

/// Record a card, or file it under its physical function when it is a virtual function.
fn place(
    device: &Path,
    card: ResourcesNetworkCard,
    cards: &mut Vec<ResourcesNetworkCard>,
    vfs: &mut HashMap<String, Vec<ResourcesNetworkCard>>,
) -> Result<(), ResourcesError> {
    let physfn = device.join("physfn");
    if exists(&physfn) {
        let parent = base_name(&resolve(&physfn)?);
        vfs.entry(parent).or_default().push(card);
    } else {
        cards.push(card);
    }
    Ok(())
}

pub(super) fn collect(
    paths: &HostPaths,
    release: &str,
    pci_ids: &IdsDatabase,
) -> Result<ResourcesNetwork, ResourcesError> {
    let mut cards = Vec::new();
    let mut vfs: HashMap<String, Vec<ResourcesNetworkCard>> = HashMap::new();
    let mut known: Vec<String> = Vec::new();

    let class_net = paths.sys_path("class/net");
    if exists(&class_net) {
        for entry in list(&class_net)? {
            let device = class_net.join(&entry).join("device");
            if !exists(&device) {
                continue;
            }
            let mut card = ResourcesNetworkCard::default();
            if let Some(address) = pci_address(&device)? {
                if known.contains(&address) {
                    continue;
                }
                known.push(address.clone());
                card.pci_address = address;
            }
            add_device_info(&device, release, pci_ids, &mut card)?;
            place(&device, card, &mut cards, &mut vfs)?;
        }
    }

    let bus_pci = paths.sys_path("bus/pci/devices");
    if exists(&bus_pci) {
        for entry in list(&bus_pci)? {
            if known.contains(&entry) {
                continue;
            }
            let device = bus_pci.join(&entry);
            if !exists(&device.join("class")) {
                continue;
            }
            if !read_string(&device.join("class"))?.starts_with("0x02") {
                continue;
            }
            let mut card = ResourcesNetworkCard {
                pci_address: entry.clone(),
                ..Default::default()
            };
            add_device_info(&device, release, pci_ids, &mut card)?;
            place(&device, card, &mut cards, &mut vfs)?;
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
    Ok(ResourcesNetwork { cards, total })
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    /// A virtio NIC on PCI plus an SR-IOV-capable card without interface and one VF.
    fn fake_network(fake: &FakeHost) {
        fake.dir("sys/bus/pci/drivers/virtio-pci");
        fake.dir("sys/bus/virtio/drivers/virtio_net");
        let nic = "sys/devices/pci0000:00/0000:00:03.0";
        fake.link(&format!("{nic}/subsystem"), "../../../bus/pci");
        fake.link(
            &format!("{nic}/driver"),
            "../../../bus/pci/drivers/virtio-pci",
        );
        fake.write(&format!("{nic}/vendor"), "0x1af4\n");
        fake.write(&format!("{nic}/device"), "0x1041\n");
        fake.write(&format!("{nic}/class"), "0x020000\n");
        fake.write(&format!("{nic}/numa_node"), "-1\n");
        let virtio = format!("{nic}/virtio0");
        fake.link(&format!("{virtio}/subsystem"), "../../../../bus/virtio");
        fake.link(
            &format!("{virtio}/driver"),
            "../../../../bus/virtio/drivers/virtio_net",
        );
        fake.write(&format!("{virtio}/vendor"), "0x1af4\n");
        fake.write(&format!("{virtio}/device"), "0x0001\n");
        fake.write(&format!("{virtio}/net/lxdfake0/type"), "1\n");
        fake.write(
            &format!("{virtio}/net/lxdfake0/address"),
            "02:fc:00:00:00:01\n",
        );
        fake.link(
            "sys/class/net/lxdfake0/device",
            &fake.path(&virtio).to_string_lossy(),
        );
        fake.dir("sys/class/net/lo");
        fake.link(
            "sys/bus/pci/devices/0000:00:03.0",
            &fake.path(nic).to_string_lossy(),
        );

        let pf = "sys/devices/pci0000:00/0000:00:07.0";
        fake.write(&format!("{pf}/class"), "0x020000\n");
        fake.write(&format!("{pf}/vendor"), "0x8086\n");
        fake.write(&format!("{pf}/device"), "0x1572\n");
        fake.write(&format!("{pf}/sriov_totalvfs"), "8\n");
        fake.write(&format!("{pf}/sriov_numvfs"), "1\n");
        fake.link(
            "sys/bus/pci/devices/0000:00:07.0",
            &fake.path(pf).to_string_lossy(),
        );
        let vf = "sys/devices/pci0000:00/0000:00:07.1";
        fake.write(&format!("{vf}/class"), "0x020000\n");
        fake.link(&format!("{vf}/physfn"), "../0000:00:07.0");
        fake.link(
            "sys/bus/pci/devices/0000:00:07.1",
            &fake.path(vf).to_string_lossy(),
        );
    }

    #[test]
    fn network_virtio_nic_driver_ids_and_vf_under_pf() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        fake_network(&fake);
        let network = collect(
            &HostPaths::under(dir.path()),
            "6.1.0",
            &IdsDatabase::default(),
        )
        .unwrap();
        assert_eq!(network.total, 3);
        assert_eq!(network.cards.len(), 2);
        let nic = &network.cards[0];
        assert_eq!(nic.pci_address, "0000:00:03.0");
        assert_eq!(nic.driver, "virtio_net");
        assert_eq!(nic.driver_version, "6.1.0");
        assert_eq!(
            (nic.vendor_id.as_str(), nic.product_id.as_str()),
            ("1af4", "0001")
        );
        // The fake interface does not exist in the kernel: ethtool drops the port.
        assert!(nic.ports.is_empty());
        let pf = &network.cards[1];
        let sriov = pf.sriov.as_ref().unwrap();
        assert_eq!((sriov.current_vfs, sriov.maximum_vfs), (1, 8));
        assert_eq!(sriov.vfs.as_ref().unwrap()[0].pci_address, "0000:00:07.1");
    }

    #[test]
    fn network_no_sysfs_empty_cards() {
        let dir = tempfile::tempdir().unwrap();
        let network = collect(
            &HostPaths::under(dir.path()),
            "6.1.0",
            &IdsDatabase::default(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&network).unwrap(),
            r#"{"cards":[],"total":0}"#
        );
    }
}
