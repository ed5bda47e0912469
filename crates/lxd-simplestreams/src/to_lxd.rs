//! Products to LXD images (`Products.ToLXD`): each version's `lxd.tar.xz` paired with every
//! root item (`squashfs`, `root.tar.xz`, VM disks), and each `lxd_combined.tar.gz` on its own,
//! each with the files to download and the fingerprint LXD gives the result.

use lxd_api::image::{Image, ImageAlias, ZERO_TIME};
use lxd_api::ConfigMap;

use crate::arch;
use crate::model::{Product, ProductVersion, ProductVersionItem, Products};

/// Root item types that pair with an `lxd.tar.xz` metadata item.
pub const ROOT_FILE_TYPES: &[&str] = &[
    "disk1.img",
    "disk-kvm.img",
    "uefi1.img",
    "root.tar.xz",
    "squashfs",
];

/// What a downloadable file is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRole {
    /// The metadata tarball (or the whole image when unified).
    Meta,
    /// The rootfs (squashfs, tarball or disk).
    Root,
    /// A `squashfs.vcdiff` delta against the image with this fingerprint.
    Delta(String),
}

/// A file to fetch for an image: its path under the server URL, sha256 and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadFile {
    pub path: String,
    pub sha256: String,
    pub role: FileRole,
    pub size: i64,
}

/// One image a products file offers and the files that make it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageEntry {
    pub image: Image,
    pub files: Vec<DownloadFile>,
}

impl Products {
    /// Every LXD image these products describe, in product and version order. Products of
    /// unknown architectures and versions whose name does not start with `YYYYMMDD` are
    /// skipped, as are items without a fingerprint for the pairing.
    pub fn to_lxd(&self) -> Vec<ImageEntry> {
        let mut out = Vec::new();
        for product in self.products.values() {
            let Some(architecture) = arch::canonical_name(&product.architecture) else {
                continue;
            };
            for (name, version) in &product.versions {
                let Some(created) = version_date(name) else {
                    continue;
                };
                let ctx = VersionContext {
                    product,
                    version,
                    name,
                    architecture,
                    created: &created,
                };
                for item in version.items.values() {
                    if item.file_type == "lxd_combined.tar.gz" {
                        if let Some(entry) = ctx.image(item, None) {
                            out.push(entry);
                        }
                    }
                    if item.file_type == "lxd.tar.xz" {
                        for root in version.items.values() {
                            if ROOT_FILE_TYPES.contains(&root.file_type.as_str()) {
                                if let Some(entry) = ctx.image(item, Some(root)) {
                                    out.push(entry);
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// The fingerprint LXD gives the pairing of `meta` with `root` (or `meta` alone).
pub fn pairing_fingerprint<'a>(
    meta: &'a ProductVersionItem,
    root: Option<&ProductVersionItem>,
) -> &'a str {
    let Some(root) = root else {
        return &meta.hash_sha256;
    };
    match root.file_type.as_str() {
        "root.tar.xz" if !meta.combined_sha256_root_xz.is_empty() => &meta.combined_sha256_root_xz,
        "root.tar.xz" => &meta.combined_sha256,
        "squashfs" => &meta.combined_sha256_squashfs,
        "disk-kvm.img" => &meta.combined_sha256_disk_kvm_img,
        "disk1.img" => &meta.combined_sha256_disk_img,
        "uefi1.img" => &meta.combined_sha256_disk_uefi_img,
        _ => "",
    }
}

/// `YYYY-MM-DDT00:00:00Z` from a version name starting with `YYYYMMDD`.
pub fn version_date(name: &str) -> Option<String> {
    let digits = name.get(0..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m, d) = (&digits[0..4], &digits[4..6], &digits[6..8]);
    let month: u32 = m.parse().ok()?;
    let day: u32 = d.parse().ok()?;
    let year: u32 = y.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(format!("{y}-{m}-{d}T00:00:00Z"))
}

/// `support_eol` (`2006-01-02`) as a timestamp, if it parses.
fn eol_date(eol: &str) -> Option<String> {
    let b = eol.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    version_date(&format!("{}{}{}", &eol[0..4], &eol[5..7], &eol[8..10]))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = matches!(
        (year % 400, year % 100, year % 4),
        (0, _, _) | (1.., 1.., 0)
    );
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 31,
    }
}

struct VersionContext<'a> {
    product: &'a Product,
    version: &'a ProductVersion,
    name: &'a str,
    architecture: &'static str,
    created: &'a str,
}

impl VersionContext<'_> {
    fn image(
        &self,
        meta: &ProductVersionItem,
        root: Option<&ProductVersionItem>,
    ) -> Option<ImageEntry> {
        let (product, version) = (self.product, self.version);
        let fingerprint = pairing_fingerprint(meta, root);
        if fingerprint.is_empty() || meta.path.is_empty() {
            return None;
        }
        let size = meta.size + root.map_or(0, |r| r.size);
        let filename = meta.path.rsplit('/').next().unwrap_or_default().to_string();
        let mut description = format!(
            "{} {} {}",
            product.operating_system, product.release_title, product.architecture
        );
        if !version.label.is_empty() {
            description = format!("{description} ({})", version.label);
        }
        description = format!("{description} ({})", self.name);

        let mut properties = ConfigMap::new();
        for (k, v) in [
            ("os", &product.operating_system),
            ("release", &product.release),
            ("version", &product.version),
            ("architecture", &product.architecture),
            ("label", &version.label),
        ] {
            properties.insert(k.to_string(), v.clone());
        }
        properties.insert("serial".into(), self.name.to_string());
        properties.insert("description".into(), description);
        for (k, v) in &product.lxd_requirements {
            properties.insert(format!("requirements.{k}"), v.clone());
        }
        if !product.variant.is_empty() {
            properties.insert("variant".into(), product.variant.clone());
        }
        let mut kind = "container";
        match root {
            Some(root) => {
                properties.insert("type".into(), root.file_type.clone());
                if matches!(
                    root.file_type.as_str(),
                    "disk1.img" | "disk-kvm.img" | "uefi1.img"
                ) {
                    kind = "virtual-machine";
                }
            }
            None => {
                properties.insert("type".into(), "tar.gz".into());
            }
        }
        properties.retain(|_, v| !v.is_empty());

        let aliases = if product.aliases.is_empty() {
            Vec::new()
        } else {
            product
                .aliases
                .split(',')
                .map(|name| ImageAlias {
                    name: name.to_string(),
                    description: String::new(),
                })
                .collect()
        };
        let expires_at =
            eol_date(&product.supported_eol).unwrap_or_else(lxd_api::image::unix_epoch);

        let mut files = vec![DownloadFile {
            path: meta.path.clone(),
            sha256: meta.hash_sha256.clone(),
            role: FileRole::Meta,
            size: meta.size,
        }];
        if let Some(root) = root {
            files.push(DownloadFile {
                path: root.path.clone(),
                sha256: root.hash_sha256.clone(),
                role: FileRole::Root,
                size: root.size,
            });
            if root.file_type == "squashfs" {
                files.extend(self.deltas());
            }
        }
        Some(ImageEntry {
            image: Image {
                auto_update: false,
                properties,
                public: true,
                expires_at,
                profiles: None,
                aliases,
                architecture: self.architecture.to_string(),
                cached: false,
                filename,
                fingerprint: fingerprint.to_string(),
                size,
                update_source: None,
                kind: kind.to_string(),
                created_at: self.created.to_string(),
                last_used_at: ZERO_TIME.to_string(),
                uploaded_at: self.created.to_string(),
            },
            files,
        })
    }

    /// `squashfs.vcdiff` deltas whose base version is still listed.
    fn deltas(&self) -> Vec<DownloadFile> {
        let mut out = Vec::new();
        for delta in self.version.items.values() {
            if delta.file_type != "squashfs.vcdiff" {
                continue;
            }
            let Some(base) = self.product.versions.get(&delta.delta_base) else {
                continue;
            };
            let Some(base_fp) = base
                .items
                .values()
                .find(|i| i.file_type == "lxd.tar.xz")
                .map(|i| i.combined_sha256_squashfs.clone())
                .filter(|fp| !fp.is_empty())
            else {
                continue;
            };
            out.push(DownloadFile {
                path: delta.path.clone(),
                sha256: delta.hash_sha256.clone(),
                role: FileRole::Delta(base_fp),
                size: delta.size,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_date_needs_a_real_leading_date() {
        assert_eq!(
            version_date("20240229_12:00").as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        assert_eq!(version_date("20230229"), None);
        assert_eq!(version_date("19000229"), None);
        assert_eq!(
            version_date("20000229").as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(version_date("2024013"), None);
        assert_eq!(version_date("2024x101"), None);
        assert_eq!(version_date("20241301"), None);
    }
}
