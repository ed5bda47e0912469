//! Editing a static simplestreams tree's products (what `lxd-simplestreams add|remove` does):
//! adding an image as a product version with LXD's item types and combined hashes, removing
//! one by fingerprint, and the `index.json` that lists the products. Pure: the caller hashes
//! and copies the files and reads and writes the JSON.

use std::collections::BTreeSet;

use crate::model::{Product, ProductVersion, ProductVersionItem, Products, Stream, StreamIndex};
use crate::to_lxd::pairing_fingerprint;
use crate::TreeError;

/// Where the products file lives in a tree written by this crate.
pub const PRODUCTS_PATH: &str = "streams/v1/images.json";
/// Where the index lives (fixed by simplestreams).
pub const INDEX_PATH: &str = "streams/v1/index.json";

/// A file of an image being added, already placed at `path` (relative to the tree root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub sha256: String,
    pub size: i64,
}

/// The rootfs of a split image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRoot {
    /// `squashfs` or `root.tar.xz` (any tarball rootfs), or a VM disk type.
    pub file_type: String,
    pub file: TreeFile,
    /// sha256(metadata ‖ rootfs): the image's LXD fingerprint.
    pub combined_sha256: String,
}

/// An image to add to a products file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeImage {
    pub product_id: String,
    pub os: String,
    pub release: String,
    pub variant: String,
    /// The distribution's architecture name (`amd64`).
    pub architecture: String,
    /// Version name; must start with `YYYYMMDD` for LXD to list it.
    pub version: String,
    pub aliases: Vec<String>,
    /// The metadata tarball of a split image, or the unified tarball.
    pub meta: TreeFile,
    /// `None` for a unified image.
    pub root: Option<TreeRoot>,
}

impl TreeImage {
    /// The fingerprint LXD will give this image.
    pub fn fingerprint(&self) -> &str {
        match &self.root {
            Some(root) => &root.combined_sha256,
            None => &self.meta.sha256,
        }
    }
}

/// A products file with nothing in it, as a new tree starts.
pub fn empty_products() -> Products {
    Products {
        content_id: "images".into(),
        datatype: "image-downloads".into(),
        format: "products:1.0".into(),
        ..Default::default()
    }
}

/// The index listing every product of `products`.
pub fn index_for(products: &Products) -> Stream {
    let entry = StreamIndex {
        datatype: "image-downloads".into(),
        path: PRODUCTS_PATH.into(),
        updated: String::new(),
        products: products.products.keys().cloned().collect(),
        format: "products:1.0".into(),
    };
    Stream {
        index: [("images".to_string(), entry)].into(),
        updated: String::new(),
        format: "index:1.0".into(),
    }
}

/// Add an image; returns its fingerprint. A version that already holds the same image is an
/// [`TreeError::AlreadyPresent`]; one holding a different image is a conflict.
pub fn add_image(products: &mut Products, image: &TreeImage) -> Result<String, TreeError> {
    let fingerprint = image.fingerprint().to_string();
    if crate::catalog::Catalog::build("", "", std::slice::from_ref(products))
        .image(&fingerprint)
        .is_ok()
    {
        return Err(TreeError::AlreadyPresent(fingerprint));
    }
    let product = products
        .products
        .entry(image.product_id.clone())
        .or_insert_with(|| Product {
            architecture: image.architecture.clone(),
            operating_system: image.os.clone(),
            release: image.release.clone(),
            release_title: image.release.clone(),
            variant: image.variant.clone(),
            ..Default::default()
        });
    if product.architecture != image.architecture {
        return Err(TreeError::Conflict(format!(
            "Product {:?} is for architecture {:?}, not {:?}",
            image.product_id, product.architecture, image.architecture
        )));
    }
    let mut aliases: Vec<String> = product
        .aliases
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    for alias in &image.aliases {
        if !aliases.contains(alias) {
            aliases.push(alias.clone());
        }
    }
    let version = product.versions.entry(image.version.clone()).or_default();
    add_items(version, image)?;
    product.aliases = aliases.join(",");
    Ok(fingerprint)
}

fn add_items(version: &mut ProductVersion, image: &TreeImage) -> Result<(), TreeError> {
    let conflict = || {
        TreeError::Conflict(format!(
            "Version {:?} already holds a different image",
            image.version
        ))
    };
    let meta_item = |file_type: &str| ProductVersionItem {
        file_type: file_type.to_string(),
        path: image.meta.path.clone(),
        hash_sha256: image.meta.sha256.clone(),
        size: image.meta.size,
        ..Default::default()
    };
    let Some(root) = &image.root else {
        if version.items.contains_key("lxd_combined.tar.gz") {
            return Err(conflict());
        }
        let mut item = meta_item("lxd_combined.tar.gz");
        item.combined_sha256 = image.meta.sha256.clone();
        version.items.insert("lxd_combined.tar.gz".into(), item);
        return Ok(());
    };
    if let Some(existing) = version.items.get("lxd.tar.xz") {
        if existing.hash_sha256 != image.meta.sha256 {
            return Err(conflict());
        }
    }
    if version.items.contains_key(&root.file_type) {
        return Err(conflict());
    }
    let meta = version
        .items
        .entry("lxd.tar.xz".into())
        .or_insert_with(|| meta_item("lxd.tar.xz"));
    let combined = root.combined_sha256.clone();
    match root.file_type.as_str() {
        "squashfs" => meta.combined_sha256_squashfs = combined,
        "root.tar.xz" => {
            meta.combined_sha256_root_xz = combined.clone();
            meta.combined_sha256 = combined;
        }
        "disk-kvm.img" => meta.combined_sha256_disk_kvm_img = combined,
        "disk1.img" => meta.combined_sha256_disk_img = combined,
        "uefi1.img" => meta.combined_sha256_disk_uefi_img = combined,
        other => return Err(TreeError::UnsupportedRoot(other.to_string())),
    }
    version.items.insert(
        root.file_type.clone(),
        ProductVersionItem {
            file_type: root.file_type.clone(),
            path: root.file.path.clone(),
            hash_sha256: root.file.sha256.clone(),
            size: root.file.size,
            ..Default::default()
        },
    );
    Ok(())
}

/// Remove the image whose fingerprint starts with `prefix`; returns its full fingerprint and
/// the file paths no item references any more (for the caller to delete).
pub fn remove_image(
    products: &mut Products,
    prefix: &str,
) -> Result<(String, Vec<String>), TreeError> {
    let fingerprint = crate::catalog::Catalog::build("", "", std::slice::from_ref(products))
        .image(prefix)
        .map_err(TreeError::Lookup)?
        .fingerprint
        .clone();
    let before = referenced_paths(products);
    for product in products.products.values_mut() {
        for version in product.versions.values_mut() {
            remove_from_version(version, &fingerprint);
        }
        product.versions.retain(|_, v| !v.items.is_empty());
    }
    products.products.retain(|_, p| !p.versions.is_empty());
    let after = referenced_paths(products);
    Ok((fingerprint, before.difference(&after).cloned().collect()))
}

fn remove_from_version(version: &mut ProductVersion, fingerprint: &str) {
    version.items.retain(|_, item| {
        !(item.file_type == "lxd_combined.tar.gz" && item.hash_sha256 == fingerprint)
    });
    let Some(meta) = version.items.get("lxd.tar.xz").cloned() else {
        return;
    };
    let roots: Vec<String> = version
        .items
        .iter()
        .filter(|(_, item)| crate::to_lxd::ROOT_FILE_TYPES.contains(&item.file_type.as_str()))
        .filter(|(_, item)| pairing_fingerprint(&meta, Some(item)) == fingerprint)
        .map(|(key, _)| key.clone())
        .collect();
    for key in &roots {
        version.items.remove(key);
    }
    let has_root = version
        .items
        .values()
        .any(|item| crate::to_lxd::ROOT_FILE_TYPES.contains(&item.file_type.as_str()));
    if !has_root {
        version.items.remove("lxd.tar.xz");
    }
}

fn referenced_paths(products: &Products) -> BTreeSet<String> {
    products
        .products
        .values()
        .flat_map(|p| p.versions.values())
        .flat_map(|v| v.items.values())
        .map(|i| i.path.clone())
        .collect()
}
