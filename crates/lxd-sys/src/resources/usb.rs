//! USB devices from `/sys/bus/usb/devices` (hubs skipped), names from sysfs and `usb.ids`.

use lxd_api::resources::{ResourcesUsb, ResourcesUsbDevice, ResourcesUsbDeviceInterface};

use super::ids::IdsDatabase;
use super::sysfs::{driver_of, exists, is_dir, list, read_hex, read_id, read_string, read_u64};
use super::ResourcesError;
use crate::paths::HostPaths;

const HUB_CLASS: u64 = 9;

fn parse_hex(path: &std::path::Path, text: &str) -> Result<u64, ResourcesError> {
    u64::from_str_radix(text, 16).map_err(|_| ResourcesError::Parse {
        path: path.to_path_buf(),
        value: text.to_string(),
    })
}

pub(super) fn collect(paths: &HostPaths, release: &str) -> Result<ResourcesUsb, ResourcesError> {
    let mut usb = ResourcesUsb::default();
    let root = paths.sys_path("bus/usb/devices");
    if !exists(&root) {
        return Ok(usb);
    }
    let mut usb_ids: Option<IdsDatabase> = None;
    for entry in list(&root)? {
        let device = root.join(&entry);
        if !exists(&device.join("busnum")) {
            continue;
        }
        if exists(&device.join("bDeviceClass"))
            && read_hex(&device.join("bDeviceClass"))? == HUB_CLASS
        {
            continue;
        }
        let db = usb_ids.get_or_insert_with(|| IdsDatabase::load_usb(paths));
        let mut found = ResourcesUsbDevice {
            bus_address: read_u64(&device.join("busnum"))?,
            device_address: read_u64(&device.join("devnum"))?,
            ..Default::default()
        };
        if let Some(id) = read_id(&device.join("idProduct"))? {
            parse_hex(&device.join("idProduct"), &id)?;
            found.product_id = id;
        }
        if let Some(id) = read_id(&device.join("idVendor"))? {
            parse_hex(&device.join("idVendor"), &id)?;
            found.vendor_id = id;
        }
        if exists(&device.join("product")) {
            found.product = read_string(&device.join("product"))?;
        }
        let (vendor, product) = db.names(&found.vendor_id, &found.product_id);
        if !vendor.is_empty() {
            found.vendor = vendor;
            if found.product.is_empty() {
                found.product = product;
            }
        }
        if exists(&device.join("speed")) {
            let path = device.join("speed");
            let text = read_string(&path)?;
            found.speed = text
                .parse()
                .map_err(|_| ResourcesError::Parse { path, value: text })?;
        }
        for sub in list(&device)? {
            let iface_dir = device.join(&sub);
            if !sub.starts_with(entry.as_str()) || !is_dir(&iface_dir) || iface_dir.is_symlink() {
                continue;
            }
            let mut iface = ResourcesUsbDeviceInterface::default();
            if exists(&iface_dir.join("bInterfaceClass")) {
                iface.class_id = read_hex(&iface_dir.join("bInterfaceClass"))?;
            }
            if exists(&iface_dir.join("bInterfaceSubClass")) {
                iface.subclass_id = read_hex(&iface_dir.join("bInterfaceSubClass"))?;
            }
            (iface.class, iface.subclass) = db.class_names(iface.class_id, iface.subclass_id);
            if exists(&iface_dir.join("bInterfaceNumber")) {
                iface.number = read_hex(&iface_dir.join("bInterfaceNumber"))?;
            }
            if let Some((driver, version)) = driver_of(&iface_dir, release)? {
                iface.driver = driver;
                iface.driver_version = version;
            }
            found.interfaces.get_or_insert_with(Vec::new).push(iface);
        }
        usb.devices.push(found);
        usb.total += 1;
    }
    Ok(usb)
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeHost;
    use super::*;

    #[test]
    fn usb_hub_skipped_device_with_interface_listed() {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeHost::new(dir.path());
        let root = "sys/bus/usb/devices";
        fake.write(&format!("{root}/usb1/busnum"), "1\n");
        fake.write(&format!("{root}/usb1/bDeviceClass"), "09\n");
        let dev = format!("{root}/1-1");
        fake.write(&format!("{dev}/busnum"), "1\n");
        fake.write(&format!("{dev}/devnum"), "2\n");
        fake.write(&format!("{dev}/bDeviceClass"), "00\n");
        fake.write(&format!("{dev}/idVendor"), "0627\n");
        fake.write(&format!("{dev}/idProduct"), "0001\n");
        fake.write(&format!("{dev}/product"), "QEMU USB Tablet\n");
        fake.write(&format!("{dev}/speed"), "480\n");
        fake.write(&format!("{dev}/1-1:1.0/bInterfaceClass"), "03\n");
        fake.write(&format!("{dev}/1-1:1.0/bInterfaceSubClass"), "00\n");
        fake.write(&format!("{dev}/1-1:1.0/bInterfaceNumber"), "00\n");
        fake.dir("sys/bus/usb/drivers/usbhid");
        fake.link(&format!("{dev}/1-1:1.0/driver"), "../../../drivers/usbhid");
        let usb = collect(&HostPaths::under(dir.path()), "6.1.0").unwrap();
        assert_eq!(usb.total, 1);
        let json = serde_json::to_string(&usb.devices[0]).unwrap();
        assert_eq!(
            json,
            r#"{"bus_address":1,"device_address":2,"interfaces":[{"class":"","class_id":3,"driver":"usbhid","driver_version":"6.1.0","number":0,"subclass":"","subclass_id":0}],"vendor":"","vendor_id":"0627","product":"QEMU USB Tablet","product_id":"0001","speed":480}"#
        );
    }

    #[test]
    fn usb_no_bus_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let usb = collect(&HostPaths::under(dir.path()), "6.1.0").unwrap();
        assert_eq!(
            serde_json::to_string(&usb).unwrap(),
            r#"{"devices":[],"total":0}"#
        );
    }
}
