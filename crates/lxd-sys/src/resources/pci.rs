//! PCI devices from `/sys/bus/pci/devices`, with IOMMU group and vital product data (VPD).

use std::collections::BTreeMap;

use lxd_api::resources::{ResourcesPci, ResourcesPciDevice, ResourcesPciVpd};

use super::ids::IdsDatabase;
use super::sysfs::{base_name, device_numa_node, driver_of, exists, list, read_id};
use super::ResourcesError;
use crate::paths::HostPaths;

pub(super) fn collect(
    paths: &HostPaths,
    release: &str,
    pci_ids: &IdsDatabase,
) -> Result<ResourcesPci, ResourcesError> {
    let mut pci = ResourcesPci::default();
    let root = paths.sys_path("bus/pci/devices");
    if !exists(&root) {
        return Ok(pci);
    }
    for entry in list(&root)? {
        let device = root.join(&entry);
        let mut found = ResourcesPciDevice {
            pci_address: entry.clone(),
            ..Default::default()
        };
        if let Some((driver, version)) = driver_of(&device, release)? {
            found.driver = driver;
            found.driver_version = version;
        }
        found.numa_node = device_numa_node(&device)?;
        found.product_id = read_id(&device.join("device"))?.unwrap_or_default();
        found.vendor_id = read_id(&device.join("vendor"))?.unwrap_or_default();
        (found.vendor, found.product) = pci_ids.names(&found.vendor_id, &found.product_id);
        let group_link = device.join("iommu_group");
        if exists(&group_link) {
            let target =
                std::fs::read_link(&group_link).map_err(|source| ResourcesError::Resolve {
                    path: group_link.clone(),
                    source,
                })?;
            let group = base_name(&target);
            found.iommu_group = group.parse().map_err(|_| ResourcesError::Parse {
                path: group_link,
                value: group,
            })?;
        }
        if let Ok(data) = std::fs::read(device.join("vpd")) {
            found.vpd = parse_vpd(&data);
        }
        pci.devices.push(found);
        pci.total += 1;
    }
    Ok(pci)
}

/// Keys LXD keeps: vendor-specific (`V*`), system (`Y*`), extension (`Z*`) and a fixed set.
fn vpd_known_key(key: &str) -> bool {
    matches!(key.as_bytes().first(), Some(b'V' | b'Y' | b'Z'))
        || ["CC", "EC", "FC", "FN", "MN", "NA", "PN", "RM", "SN"].contains(&key)
}

fn vpd_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_matches(|c| c == '\0' || c == ' ')
        .to_string()
}

/// Keyword entries of a VPD-R/VPD-W section: 2-byte key, 1-byte length, value.
fn vpd_entries(mut section: &[u8], entries: &mut BTreeMap<String, String>) {
    while !section.is_empty() {
        let key_len = section.len().min(2);
        let key = vpd_string(&section[..key_len]);
        section = &section[key_len..];
        let Some((&len, rest)) = section.split_first() else {
            break;
        };
        section = rest;
        if len == 0 {
            continue;
        }
        let len = (len as usize).min(section.len());
        let value = vpd_string(&section[..len]);
        section = &section[len..];
        if vpd_known_key(&key) {
            entries.insert(key, value);
        }
    }
}

/// Parse PCI VPD resources: tag `0x82` is the product name, `0x90`/`0x91` hold keyword
/// entries, other tags are skipped. Truncated data ends the parse.
fn parse_vpd(mut buf: &[u8]) -> ResourcesPciVpd {
    let mut vpd = ResourcesPciVpd::default();
    while let Some((&tag, rest)) = buf.split_first() {
        buf = rest;
        let len = if tag & 0x80 == 0x80 {
            if buf.len() < 2 {
                break;
            }
            let len = usize::from(buf[0]) | (usize::from(buf[1]) << 8);
            buf = &buf[2..];
            len
        } else {
            usize::from(tag & 0x07)
        };
        let take = len.min(buf.len());
        match tag {
            0x82 => vpd.product_name = vpd_string(&buf[..take]),
            0x90 | 0x91 => vpd_entries(&buf[..take], &mut vpd.entries),
            _ if len > buf.len() => break,
            _ => {}
        }
        buf = &buf[take..];
    }
    vpd
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    #[test]
    fn parse_vpd_name_and_known_entries() {
        let mut data = vec![0x82, 9, 0];
        data.extend_from_slice(b"Card X   ");
        let entries: &[u8] = b"PN\x03ABCXX\x01yV0\x02hi";
        data.extend_from_slice(&[0x90, entries.len() as u8, 0]);
        data.extend_from_slice(entries);
        data.push(0x78);
        let vpd = parse_vpd(&data);
        assert_eq!(vpd.product_name, "Card X");
        assert_eq!(vpd.entries.get("PN").map(String::as_str), Some("ABC"));
        assert_eq!(vpd.entries.get("V0").map(String::as_str), Some("hi"));
        assert!(!vpd.entries.contains_key("XX"));
    }

    #[test]
    fn pci_device_fields_like_lxd() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        let dev = "sys/devices/pci0000:00/0000:00:00.0";
        fake.write(&format!("{dev}/vendor"), "0x8086\n");
        fake.write(&format!("{dev}/device"), "0x0d57\n");
        fake.write(&format!("{dev}/numa_node"), "-1\n");
        fake.dir("sys/kernel/iommu_groups/3");
        fake.link(
            &format!("{dev}/iommu_group"),
            "../../../kernel/iommu_groups/3",
        );
        fake.link(
            "sys/bus/pci/devices/0000:00:00.0",
            &fake.path(dev).to_string_lossy(),
        );
        let pci = collect(
            &HostPaths::under(dir.path()),
            "6.1.0",
            &IdsDatabase::default(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&pci).unwrap(),
            r#"{"devices":[{"driver":"","driver_version":"","numa_node":0,"pci_address":"0000:00:00.0","vendor":"","vendor_id":"8086","product":"","product_id":"0d57","iommu_group":3,"vpd":{}}],"total":1}"#
        );
    }
}
