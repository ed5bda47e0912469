//! An instance's `metadata.yaml` as served by `/1.0/instances/<name>/metadata`
//! (`api.ImageMetadata`): Go's nil maps and lists stay `null` on the wire, so they are options.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `metadata.yaml` of an instance volume, field for field as LXD's JSON shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceMetadata {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub creation_date: i64,
    #[serde(default)]
    pub expiry_date: i64,
    #[serde(default)]
    pub properties: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub templates: Option<BTreeMap<String, InstanceMetadataTemplate>>,
}

/// One entry of `templates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceMetadataTemplate {
    #[serde(default)]
    pub when: Option<Vec<String>>,
    #[serde(default)]
    pub create_only: bool,
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    pub properties: Option<BTreeMap<String, String>>,
}
