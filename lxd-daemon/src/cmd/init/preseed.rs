//! The preseed document (`api.InitPreseed`): server config, networks, storage pools,
//! profiles, projects and cluster.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A storage pool or profile entry: name, description, config, and for pools the driver,
/// for profiles the devices.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub config: lxd_api::ConfigMap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<lxd_api::DevicesMap>,
}

/// What `lxd init --preseed` reads and `--dump` prints.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Preseed {
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub config: serde_json::Map<String, Value>,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub networks: Vec<Value>,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub storage_pools: Vec<Entry>,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub profiles: Vec<Entry>,
    #[serde(default, deserialize_with = "lxd_api::null_default::deserialize")]
    pub projects: Vec<Entry>,
    #[serde(default)]
    pub cluster: Option<Value>,
}

/// Parse and check a preseed: parts owned by features not built yet are refused up front,
/// before anything is changed.
pub fn parse(text: &str) -> anyhow::Result<Preseed> {
    let mut preseed: Preseed = yaml_serde::from_str(text).context("Failed to parse the preseed")?;
    if !preseed.networks.is_empty() {
        bail!("Failed to apply networks: managed networks are not implemented yet");
    }
    if preseed.cluster.as_ref().is_some_and(|c| !c.is_null()) {
        bail!("Failed to apply cluster configuration: clustering is not implemented");
    }
    for (key, value) in preseed.config.iter_mut() {
        // YAML numbers and booleans are sent as strings, as the Go client does.
        match value {
            Value::Number(n) => *value = Value::String(n.to_string()),
            Value::Bool(b) => *value = Value::String(b.to_string()),
            Value::String(_) => {}
            _ => bail!("Invalid value for config key {key:?}"),
        }
    }
    Ok(preseed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reference_preseed_without_networks() {
        let p = parse(
            "config:\n  images.auto_update_interval: 6\nstorage_pools:\n- name: default\n  driver: dir\nprofiles:\n- name: default\n  devices:\n    root: {path: /, pool: default, type: disk}\n",
        )
        .unwrap();
        assert_eq!(
            p.config["images.auto_update_interval"],
            Value::String("6".into())
        );
        assert_eq!(p.storage_pools[0].driver.as_deref(), Some("dir"));
        assert_eq!(
            p.profiles[0].devices.as_ref().unwrap()["root"]["pool"],
            "default"
        );
    }

    #[test]
    fn parse_networks_refused_before_anything_applies() {
        let err = parse("networks:\n- name: lxdbr0\n  type: bridge\n").unwrap_err();
        assert!(err.to_string().contains("networks"), "{err}");
    }
}
