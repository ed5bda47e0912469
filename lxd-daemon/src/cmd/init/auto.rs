//! `lxd init --auto` / `--minimal`: a `default` pool and a root disk in the default profile,
//! plus the network address and trust password when asked for.

use std::path::Path;

use anyhow::bail;
use serde_json::Value;

use super::preseed::{Entry, Preseed};
use super::Args;
use crate::cmd::local::request;

/// Build the preseed `--auto` stands for, given the daemon's current state.
pub async fn preseed(socket: &Path, args: &Args) -> anyhow::Result<Preseed> {
    let backend = args.storage_backend.clone().unwrap_or_else(|| "dir".into());
    if lxd_storage::driver(&backend).is_none() {
        bail!("The requested backend '{backend}' isn't supported by lxd init");
    }
    if args.storage_create_device.is_some() || args.storage_create_loop.is_some() {
        bail!("Only btrfs, lvm and zfs pools take a device or loop size; {backend} does not");
    }
    let pool_name = args
        .storage_pool
        .clone()
        .unwrap_or_else(|| "default".into());
    let mut preseed = Preseed::default();
    if let Some(addr) = &args.network_address {
        let address = if addr.contains(':') && !addr.starts_with('[') {
            format!("[{addr}]")
        } else {
            addr.clone()
        };
        preseed.config.insert(
            "core.https_address".into(),
            Value::String(format!("{address}:{}", args.network_port)),
        );
    }
    if let Some(pw) = &args.trust_password {
        preseed
            .config
            .insert("core.trust_password".into(), Value::String(pw.clone()));
    }
    let pools = request(socket, "GET", "/1.0/storage-pools", None).await?;
    let exists = pools.as_array().is_some_and(|l| {
        l.iter()
            .any(|u| u.as_str() == Some(&format!("/1.0/storage-pools/{pool_name}")))
    });
    if !exists {
        preseed.storage_pools.push(Entry {
            name: pool_name.clone(),
            driver: Some(backend),
            ..Default::default()
        });
    }
    let profile = request(socket, "GET", "/1.0/profiles/default", None).await?;
    let mut profile: lxd_api::Profile = serde_json::from_value(profile)?;
    let has_root = profile.devices.values().any(lxd_api::is_root_disk);
    if !has_root {
        profile.devices.insert(
            "root".into(),
            [
                ("type", "disk"),
                ("path", "/"),
                ("pool", pool_name.as_str()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        preseed.profiles.push(Entry {
            name: "default".into(),
            description: profile.description,
            config: profile.config,
            devices: Some(profile.devices),
            driver: None,
        });
    }
    Ok(preseed)
}
