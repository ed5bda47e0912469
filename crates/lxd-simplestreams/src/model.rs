//! The simplestreams JSON documents LXD reads (`shared/simplestreams/{index,products}.go`):
//! `streams/v1/index.json` ([`Stream`]) and the products files it points at ([`Products`]).
//!
//! Maps are `BTreeMap`s so that writing a document gives the key order Go's encoder gives
//! (sorted), and optional fields are skipped when empty as Go's `omitempty` does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `streams/v1/index.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    #[serde(default)]
    pub index: BTreeMap<String, StreamIndex>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated: String,
    #[serde(default)]
    pub format: String,
}

/// One entry of the index: a products file and the product ids it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamIndex {
    #[serde(default)]
    pub datatype: String,
    #[serde(default)]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub products: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub format: String,
}

/// A products file (`images.json`, `com.ubuntu.cloud:released:download.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Products {
    #[serde(default)]
    pub content_id: String,
    #[serde(default)]
    pub datatype: String,
    #[serde(default)]
    pub format: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub products: BTreeMap<String, Product>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub updated: String,
}

/// One product: an OS release on one architecture, with its versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Comma-separated alias names.
    #[serde(default)]
    pub aliases: String,
    #[serde(rename = "arch", default)]
    pub architecture: String,
    #[serde(rename = "os", default)]
    pub operating_system: String,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub lxd_requirements: BTreeMap<String, String>,
    #[serde(default)]
    pub release: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub release_codename: String,
    #[serde(default)]
    pub release_title: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub supported: bool,
    #[serde(
        rename = "support_eol",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub supported_eol: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: BTreeMap<String, ProductVersion>,
    /// Not standard simplestreams; images.linuxcontainers.org sets it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

/// One version (serial) of a product and its files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductVersion {
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: BTreeMap<String, ProductVersionItem>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    #[serde(rename = "pubname", default, skip_serializing_if = "String::is_empty")]
    pub public_name: String,
}

/// One file of a version, with the combined hashes that make LXD fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductVersionItem {
    #[serde(
        rename = "combined_disk1-img_sha256",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub combined_sha256_disk_img: String,
    #[serde(
        rename = "combined_disk-kvm-img_sha256",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub combined_sha256_disk_kvm_img: String,
    #[serde(
        rename = "combined_uefi1-img_sha256",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub combined_sha256_disk_uefi_img: String,
    #[serde(
        rename = "combined_rootxz_sha256",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub combined_sha256_root_xz: String,
    #[serde(
        rename = "combined_sha256",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub combined_sha256: String,
    #[serde(
        rename = "combined_squashfs_sha256",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub combined_sha256_squashfs: String,
    #[serde(rename = "ftype", default)]
    pub file_type: String,
    #[serde(rename = "md5", default, skip_serializing_if = "String::is_empty")]
    pub hash_md5: String,
    #[serde(default)]
    pub path: String,
    #[serde(rename = "sha256", default, skip_serializing_if = "String::is_empty")]
    pub hash_sha256: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub delta_base: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Go's decoder leaves a field alone on `null`; read it as the empty value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
