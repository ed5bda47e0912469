//! Host resources served by `GET /1.0/resources` and `GET /1.0/storage-pools/<name>/resources`
//! (`shared/api/resource.go`).
//!
//! Field order and `omitempty` follow LXD 5.0.2 exactly. Go's rules, mirrored here:
//! `omitempty` drops zero numbers, empty strings, empty slices and maps and nil pointers; a
//! field without it is always written, and a nil slice or pointer is written as `null`. Where
//! LXD can leave such a slice nil, the field is an `Option<Vec<_>>` so `None` gives `null`.
//! Numbers LXD holds as `float64` are written the way Go writes them (`480`, not `480.0`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Go's `encoding/json` writes integral floats without a fraction (`12`, `480`).
fn go_float<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let integral = value.fract() == 0.0 && value.abs() < 1e21;
    if integral && *value >= 0.0 && *value <= u64::MAX as f64 {
        serializer.serialize_u64(*value as u64)
    } else if integral && *value >= i64::MIN as f64 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// Everything `GET /1.0/resources` returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu: ResourcesCpu,
    pub memory: ResourcesMemory,
    pub gpu: ResourcesGpu,
    pub network: ResourcesNetwork,
    pub storage: ResourcesStorage,
    pub usb: ResourcesUsb,
    pub pci: ResourcesPci,
    pub system: ResourcesSystem,
}

/// CPUs: sockets, cores and threads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesCpu {
    pub architecture: String,
    #[serde(default)]
    pub sockets: Vec<ResourcesCpuSocket>,
    pub total: u64,
}

/// One CPU socket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesCpuSocket {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vendor: String,
    pub socket: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<ResourcesCpuCache>,
    #[serde(default)]
    pub cores: Vec<ResourcesCpuCore>,
    /// Average current frequency of the cores, in MHz.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frequency: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frequency_minimum: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frequency_turbo: u64,
}

/// One CPU cache.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesCpuCache {
    pub level: u64,
    #[serde(rename = "type")]
    pub kind: String,
    /// Size in bytes.
    pub size: u64,
}

/// One CPU core.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesCpuCore {
    pub core: u64,
    pub die: u64,
    #[serde(default)]
    pub threads: Vec<ResourcesCpuThread>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frequency: u64,
}

/// One hardware thread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesCpuThread {
    pub id: i64,
    pub numa_node: u64,
    pub thread: u64,
    pub online: bool,
    pub isolated: bool,
}

/// GPUs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesGpu {
    #[serde(default)]
    pub cards: Vec<ResourcesGpuCard>,
    pub total: u64,
}

/// One GPU.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesGpuCard {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drm: Option<ResourcesGpuCardDrm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sriov: Option<ResourcesGpuCardSriov>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nvidia: Option<ResourcesGpuCardNvidia>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mdev: BTreeMap<String, ResourcesGpuCardMdev>,
    pub numa_node: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pci_address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vendor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vendor_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub product: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub product_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub usb_address: String,
}

/// DRM nodes of a GPU.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesGpuCardDrm {
    pub id: u64,
    pub card_name: String,
    pub card_device: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub control_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub control_device: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub render_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub render_device: String,
}

/// SR-IOV state of a GPU; `vfs` is `null` when LXD found no virtual function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesGpuCardSriov {
    pub current_vfs: u64,
    pub maximum_vfs: u64,
    #[serde(default)]
    pub vfs: Option<Vec<ResourcesGpuCard>>,
}

/// NVIDIA-specific details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesGpuCardNvidia {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cuda_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nvrm_version: String,
    pub brand: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uuid: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    pub card_name: String,
    pub card_device: String,
}

/// One mediated device type; `devices` is `null` when the type lists no device directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesGpuCardMdev {
    pub api: String,
    pub available: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub devices: Option<Vec<String>>,
}

/// Network cards.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesNetwork {
    #[serde(default)]
    pub cards: Vec<ResourcesNetworkCard>,
    pub total: u64,
}

/// One network card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesNetworkCard {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ResourcesNetworkCardPort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sriov: Option<ResourcesNetworkCardSriov>,
    pub numa_node: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pci_address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vendor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vendor_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub product: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub product_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub firmware_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub usb_address: String,
}

/// One port (interface) of a network card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesNetworkCardPort {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    pub port: u64,
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_modes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_ports: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub port_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transceiver_type: String,
    pub auto_negotiation: bool,
    pub link_detected: bool,
    /// Speed in Mbit/s.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub link_speed: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub link_duplex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infiniband: Option<ResourcesNetworkCardPortInfiniband>,
}

/// Infiniband character devices of a port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesNetworkCardPortInfiniband {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issm_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub issm_device: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mad_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mad_device: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verb_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verb_device: String,
}

/// SR-IOV state of a network card; `vfs` is `null` when LXD found no virtual function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesNetworkCardSriov {
    pub current_vfs: u64,
    pub maximum_vfs: u64,
    #[serde(default)]
    pub vfs: Option<Vec<ResourcesNetworkCard>>,
}

/// Block devices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesStorage {
    #[serde(default)]
    pub disks: Vec<ResourcesStorageDisk>,
    pub total: u64,
}

/// One disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesStorageDisk {
    pub id: String,
    /// `major:minor`.
    pub device: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    pub read_only: bool,
    /// Size in bytes.
    pub size: u64,
    pub removable: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wwn: String,
    pub numa_node: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub device_path: String,
    pub block_size: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub firmware_version: String,
    pub rpm: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serial: String,
    pub device_id: String,
    #[serde(default)]
    pub partitions: Vec<ResourcesStorageDiskPartition>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pci_address: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub usb_address: String,
}

/// One partition of a disk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesStorageDiskPartition {
    pub id: String,
    pub device: String,
    pub read_only: bool,
    pub size: u64,
    pub partition: u64,
}

/// Memory, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesMemory {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<ResourcesMemoryNode>,
    pub hugepages_total: u64,
    pub hugepages_used: u64,
    pub hugepages_size: u64,
    pub used: u64,
    pub total: u64,
}

/// Memory of one NUMA node, in bytes (note LXD's field order differs from the parent's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesMemoryNode {
    pub numa_node: u64,
    pub hugepages_used: u64,
    pub hugepages_total: u64,
    pub used: u64,
    pub total: u64,
}

/// USB devices (hubs excluded).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesUsb {
    #[serde(default)]
    pub devices: Vec<ResourcesUsbDevice>,
    pub total: u64,
}

/// One USB device; `interfaces` is `null` when it has none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesUsbDevice {
    pub bus_address: u64,
    pub device_address: u64,
    #[serde(default)]
    pub interfaces: Option<Vec<ResourcesUsbDeviceInterface>>,
    pub vendor: String,
    pub vendor_id: String,
    pub product: String,
    pub product_id: String,
    /// Speed in Mbit/s (Go `float64`: `1.5`, `12`, `480`).
    #[serde(serialize_with = "go_float")]
    pub speed: f64,
}

/// One interface of a USB device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesUsbDeviceInterface {
    pub class: String,
    pub class_id: u64,
    pub driver: String,
    pub driver_version: String,
    pub number: u64,
    pub subclass: String,
    pub subclass_id: u64,
}

/// PCI devices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesPci {
    #[serde(default)]
    pub devices: Vec<ResourcesPciDevice>,
    pub total: u64,
}

/// One PCI device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesPciDevice {
    pub driver: String,
    pub driver_version: String,
    pub numa_node: u64,
    pub pci_address: String,
    pub vendor: String,
    pub vendor_id: String,
    pub product: String,
    pub product_id: String,
    pub iommu_group: u64,
    #[serde(default)]
    pub vpd: ResourcesPciVpd,
}

/// Vital product data of a PCI device (`{}` when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesPciVpd {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub product_name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entries: BTreeMap<String, String>,
}

/// The machine itself (DMI). The three sub-objects are `null` when the host has no DMI data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesSystem {
    pub uuid: String,
    pub vendor: String,
    pub product: String,
    pub family: String,
    pub version: String,
    pub sku: String,
    pub serial: String,
    /// `physical`, `virtual-machine`, `container` or `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub firmware: Option<ResourcesSystemFirmware>,
    #[serde(default)]
    pub chassis: Option<ResourcesSystemChassis>,
    #[serde(default)]
    pub motherboard: Option<ResourcesSystemMotherboard>,
}

/// Firmware (BIOS/UEFI).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesSystemFirmware {
    pub vendor: String,
    pub date: String,
    pub version: String,
}

/// Chassis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesSystemChassis {
    pub vendor: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub serial: String,
    pub version: String,
}

/// Motherboard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourcesSystemMotherboard {
    pub vendor: String,
    pub product: String,
    pub serial: String,
    pub version: String,
}

/// `GET /1.0/storage-pools/<name>/resources` (Go's `ResourcesStoragePool`).
///
/// Go's `omitempty` has no effect on struct values, so `space` and `inodes` are always written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoragePoolResources {
    #[serde(default)]
    pub space: StoragePoolResourcesSpace,
    #[serde(default)]
    pub inodes: StoragePoolResourcesInodes,
}

/// Space of a pool, in bytes; `used` is omitted when zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoragePoolResourcesSpace {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub used: u64,
    pub total: u64,
}

/// Inodes of a pool (both zero on filesystems that allocate inodes dynamically).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoragePoolResourcesInodes {
    pub used: u64,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_capture_roundtrip_identical() {
        // metadata of captures/api/resources.txt (LXD 5.0.2 on a machine like ours).
        let capture = r#"{"cpu":{"architecture":"x86_64","sockets":[{"name":"AMD EPYC","vendor":"AuthenticAMD","socket":0,"cache":[{"level":1,"type":"Data","size":32768},{"level":1,"type":"Instruction","size":32768},{"level":2,"type":"Unified","size":524288},{"level":3,"type":"Unified","size":33554432}],"cores":[{"core":0,"die":0,"threads":[{"id":0,"numa_node":0,"thread":0,"online":true,"isolated":false}]},{"core":1,"die":0,"threads":[{"id":1,"numa_node":0,"thread":0,"online":true,"isolated":false}]}]}],"total":2},"memory":{"nodes":[{"numa_node":0,"hugepages_used":0,"hugepages_total":0,"used":1778577408,"total":25769803776}],"hugepages_total":0,"hugepages_used":0,"hugepages_size":2097152,"used":1333796864,"total":25769803776},"gpu":{"cards":[],"total":0},"network":{"cards":[{"driver":"virtio_net","driver_version":"6.18.44-fc-v657","ports":[{"id":"eth0","address":"02:fc:00:00:00:01","port":0,"protocol":"ethernet","port_type":"other","transceiver_type":"internal","auto_negotiation":false,"link_detected":true}],"numa_node":0,"pci_address":"0000:00:03.0","vendor_id":"1af4","product_id":"0001"}],"total":1},"storage":{"disks":[{"id":"vda","device":"254:0","type":"virtio","read_only":false,"size":274877906944,"removable":false,"numa_node":0,"block_size":0,"rpm":1,"device_id":"","partitions":[],"pci_address":"0000:00:02.0"}],"total":1},"usb":{"devices":[],"total":0},"pci":{"devices":[{"driver":"","driver_version":"","numa_node":0,"pci_address":"0000:00:00.0","vendor":"","vendor_id":"8086","product":"","product_id":"0d57","iommu_group":0,"vpd":{}}],"total":1},"system":{"uuid":"","vendor":"","product":"","family":"","version":"","sku":"","serial":"","type":"container","firmware":null,"chassis":null,"motherboard":null}}"#;
        let parsed: Resources = serde_json::from_str(capture).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), capture);
    }

    #[test]
    fn usb_device_integral_speed_written_without_fraction() {
        let device = ResourcesUsbDevice {
            speed: 480.0,
            ..Default::default()
        };
        let json = serde_json::to_value(&device).unwrap();
        assert_eq!(json["speed"].to_string(), "480");
        assert_eq!(json["interfaces"], serde_json::Value::Null);
        let slow = ResourcesUsbDevice {
            speed: 1.5,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&slow).unwrap()["speed"].to_string(),
            "1.5"
        );
    }

    #[test]
    fn storage_pool_resources_zero_used_omitted() {
        let pool = StoragePoolResources::default();
        assert_eq!(
            serde_json::to_string(&pool).unwrap(),
            r#"{"space":{"total":0},"inodes":{"used":0,"total":0}}"#
        );
    }
}
