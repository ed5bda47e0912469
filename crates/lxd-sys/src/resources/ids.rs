//! Vendor, product and class names from the `pci.ids` / `usb.ids` databases (Debian packages
//! `pci.ids` and `usb.ids`), when installed. Absent databases give empty names, as in LXD.
//!
//! Format: a vendor line `vvvv  Name`, its products indented by one tab `\tpppp  Name`
//! (two tabs are subsystems, skipped); `usb.ids` also has classes `C cc  Name` with
//! subclasses `\tss  Name`.

use std::collections::HashMap;

use crate::paths::HostPaths;

#[derive(Debug, Default)]
struct Vendor {
    name: String,
    products: HashMap<String, String>,
}

/// A parsed ids database, keyed by lowercase hex ids.
#[derive(Debug, Default)]
pub(super) struct IdsDatabase {
    vendors: HashMap<String, Vendor>,
    classes: HashMap<String, (String, HashMap<String, String>)>,
}

impl IdsDatabase {
    /// `pci.ids` from `/usr/share/hwdata` or `/usr/share/misc`, else an empty database.
    pub(super) fn load_pci(paths: &HostPaths) -> Self {
        Self::load_first(paths, &["share/hwdata/pci.ids", "share/misc/pci.ids"])
    }

    /// `usb.ids` from `/usr/share/misc` or `/usr/share/hwdata`, else an empty database.
    pub(super) fn load_usb(paths: &HostPaths) -> Self {
        Self::load_first(paths, &["share/misc/usb.ids", "share/hwdata/usb.ids"])
    }

    fn load_first(paths: &HostPaths, candidates: &[&str]) -> Self {
        candidates
            .iter()
            .find_map(|c| std::fs::read(paths.usr.join(c)).ok())
            .map(|bytes| Self::parse(&String::from_utf8_lossy(&bytes)))
            .unwrap_or_default()
    }

    pub(super) fn parse(text: &str) -> Self {
        let mut db = Self::default();
        let mut vendor: Option<String> = None;
        let mut class: Option<String> = None;
        for line in text.lines() {
            if line.is_empty() || line.starts_with('#') || line.starts_with("\t\t") {
                continue;
            }
            if let Some(rest) = line.strip_prefix('\t') {
                let Some((id, name)) = split_entry(rest) else {
                    continue;
                };
                if let Some(v) = vendor.as_ref().and_then(|v| db.vendors.get_mut(v)) {
                    v.products.insert(id, name);
                } else if let Some(c) = class.as_ref().and_then(|c| db.classes.get_mut(c)) {
                    c.1.insert(id, name);
                }
                continue;
            }
            vendor = None;
            class = None;
            if let Some(rest) = line.strip_prefix("C ") {
                if let Some((id, name)) = split_entry(rest) {
                    db.classes.insert(id.clone(), (name, HashMap::new()));
                    class = Some(id);
                }
            } else if line.as_bytes()[0].is_ascii_hexdigit() {
                if let Some((id, name)) = split_entry(line) {
                    db.vendors.insert(
                        id.clone(),
                        Vendor {
                            name,
                            products: HashMap::new(),
                        },
                    );
                    vendor = Some(id);
                }
            }
        }
        db
    }

    /// Vendor name and product name for hex ids (`"8086"`, `"0d57"`).
    pub(super) fn names(&self, vendor_id: &str, product_id: &str) -> (String, String) {
        match self.vendors.get(&vendor_id.to_lowercase()) {
            Some(vendor) => (
                vendor.name.clone(),
                vendor
                    .products
                    .get(&product_id.to_lowercase())
                    .cloned()
                    .unwrap_or_default(),
            ),
            None => (String::new(), String::new()),
        }
    }

    /// Class name and, when `subclass_id > 0`, subclass name of a USB interface.
    pub(super) fn class_names(&self, class_id: u64, subclass_id: u64) -> (String, String) {
        match self.classes.get(&format!("{class_id:02x}")) {
            Some((name, subclasses)) => {
                let sub = if subclass_id > 0 {
                    subclasses
                        .get(&format!("{subclass_id:02x}"))
                        .cloned()
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                (name.clone(), sub)
            }
            None => (String::new(), String::new()),
        }
    }
}

fn split_entry(text: &str) -> Option<(String, String)> {
    let (id, name) = text.split_once(char::is_whitespace)?;
    Some((id.to_lowercase(), name.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &str = "# comment\n1af4  Red Hat, Inc.\n\t1041  Virtio 1.0 network device\n\
        \t\t1af4 1100  QEMU\n8086  Intel Corporation\n\t0d57  Some bridge\n\
        C 09  Hub\n\t00  Unused\nC 03  Human Interface Device\n\t01  Boot Interface Subclass\n";

    #[test]
    fn ids_database_vendor_and_product_found() {
        let db = IdsDatabase::parse(IDS);
        assert_eq!(
            db.names("1af4", "1041"),
            ("Red Hat, Inc.".into(), "Virtio 1.0 network device".into())
        );
        assert_eq!(
            db.names("8086", "ffff"),
            ("Intel Corporation".into(), String::new())
        );
        assert_eq!(db.names("dead", "beef"), (String::new(), String::new()));
    }

    #[test]
    fn ids_database_usb_class_and_subclass() {
        let db = IdsDatabase::parse(IDS);
        assert_eq!(
            db.class_names(3, 1),
            (
                "Human Interface Device".into(),
                "Boot Interface Subclass".into()
            )
        );
        assert_eq!(db.class_names(9, 0), ("Hub".into(), String::new()));
    }
}
