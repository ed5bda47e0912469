//! `lxd init --dump`: print the current configuration as a preseed document.

use std::path::Path;

use serde_json::Value;

use super::preseed::{Entry, Preseed};
use crate::cmd::local::request;

fn entries(list: Value, with_driver: bool, with_devices: bool) -> anyhow::Result<Vec<Entry>> {
    let objects: Vec<serde_json::Map<String, Value>> = serde_json::from_value(list)?;
    Ok(objects
        .into_iter()
        .map(|o| Entry {
            name: o
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            description: o
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            driver: with_driver.then(|| {
                o.get("driver")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            }),
            config: serde_json::from_value(o.get("config").cloned().unwrap_or_default())
                .unwrap_or_default(),
            devices: with_devices.then(|| {
                serde_json::from_value(o.get("devices").cloned().unwrap_or_default())
                    .unwrap_or_default()
            }),
        })
        .collect())
}

/// Print the daemon's state as YAML.
pub async fn run(socket: &Path) -> anyhow::Result<()> {
    let server = request(socket, "GET", "/1.0", None).await?;
    let preseed = Preseed {
        config: serde_json::from_value(server["config"].clone()).unwrap_or_default(),
        networks: Vec::new(),
        storage_pools: entries(
            request(socket, "GET", "/1.0/storage-pools?recursion=1", None).await?,
            true,
            false,
        )?,
        profiles: entries(
            request(socket, "GET", "/1.0/profiles?recursion=1", None).await?,
            false,
            true,
        )?,
        projects: entries(
            request(socket, "GET", "/1.0/projects?recursion=1", None).await?,
            false,
            false,
        )?,
        cluster: None,
    };
    print!("{}", yaml_serde::to_string(&preseed)?);
    Ok(())
}
