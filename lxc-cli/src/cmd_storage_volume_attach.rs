//! `lxc storage volume attach|detach[-profile]`: a custom volume as a `disk` device of an
//! instance or profile, with lxc 5.0.2's argument rules (`<volume> <target>` names the device
//! after the volume; a 4th argument is the path; with 5 they are device name then path).

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::cli::check_args;
use crate::cmd_config::instance_writable;
use crate::cmd_storage_volume::{parse_volume, path, pool};
use crate::global::Ctx;

/// `attach` (instances) or `attach-profile`.
pub async fn attach(ctx: &Ctx, args: &[String], profile: bool) -> Result<()> {
    let verb = if profile { "attach-profile" } else { "attach" };
    if check_args(&path(verb), args, 3, Some(5))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let (dev_name, dev_path) = match args.len() {
        3 => (args[1].clone(), String::new()),
        4 => (args[1].clone(), args[3].clone()),
        _ => (args[3].clone(), args[4].clone()),
    };
    let (vol_name, kind) = parse_volume("custom", &args[1]);
    if kind != "custom" {
        bail!("Only \"custom\" volumes can be attached to instances");
    }
    if !profile {
        let device = json!({"type": "disk", "pool": pool, "source": vol_name, "path": dev_path});
        let (inst, etag) = client.get_instance(&args[2]).await?;
        if inst["devices"].get(&dev_name).is_some() {
            bail!("Device already exists: {dev_name}");
        }
        let mut put = instance_writable(&inst);
        if !put["devices"].is_object() {
            put["devices"] = json!({});
        }
        put["devices"][&dev_name] = device;
        client.update_instance(&args[2], &put, &etag).await?;
        return Ok(());
    }
    let (vol, _) = client
        .get_storage_pool_volume(&pool, &kind, &vol_name)
        .await?;
    let mut device = lxd_api::ConfigMap::from([
        ("type".to_string(), "disk".to_string()),
        ("pool".to_string(), pool.clone()),
        ("source".to_string(), vol.name.clone()),
    ]);
    if vol.content_type != "block" {
        device.insert("path".into(), dev_path);
    }
    let (prof, etag) = client.get_profile(&args[2]).await?;
    if prof.devices.contains_key(&dev_name) {
        bail!("Device already exists: {dev_name}");
    }
    let mut put = prof.writable();
    put.devices.insert(dev_name, device);
    client.update_profile(&args[2], &put, &etag).await?;
    Ok(())
}

/// The device to remove: the one named, or the only disk of `pool` with source `volume`.
fn find_device<'a, I>(devices: I, named: Option<&str>, pool: &str, volume: &str) -> Result<String>
where
    I: Iterator<Item = (&'a String, &'a Value)>,
{
    let mut found: Option<String> = named.map(str::to_string);
    let mut exists = false;
    for (name, d) in devices {
        if Some(name.as_str()) == named {
            exists = true;
        }
        if named.is_none()
            && d["type"] == "disk"
            && d["pool"].as_str() == Some(pool)
            && d["source"].as_str() == Some(volume)
        {
            if found.is_some() {
                bail!("More than one device matches, specify the device name");
            }
            found = Some(name.clone());
            exists = true;
        }
    }
    let Some(found) = found else {
        bail!("No device found for this storage volume");
    };
    if !exists {
        bail!("The specified device doesn't exist");
    }
    Ok(found)
}

/// `detach` (instances) or `detach-profile`.
pub async fn detach(ctx: &Ctx, args: &[String], profile: bool) -> Result<()> {
    let verb = if profile { "detach-profile" } else { "detach" };
    if check_args(&path(verb), args, 3, Some(4))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let named = args.get(3).map(String::as_str).filter(|n| !n.is_empty());
    if !profile {
        let (inst, etag) = client.get_instance(&args[2]).await?;
        let empty = serde_json::Map::new();
        let devices = inst["devices"].as_object().unwrap_or(&empty);
        let dev = find_device(devices.iter(), named, &pool, &args[1])?;
        let mut put = instance_writable(&inst);
        if let Some(m) = put["devices"].as_object_mut() {
            m.remove(&dev);
        }
        client.update_instance(&args[2], &put, &etag).await?;
        return Ok(());
    }
    let (prof, etag) = client.get_profile(&args[2]).await?;
    let devices: serde_json::Map<String, Value> = prof
        .devices
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let dev = find_device(devices.iter(), named, &pool, &args[1])?;
    let mut put = prof.writable();
    put.devices.remove(&dev);
    client.update_profile(&args[2], &put, &etag).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices() -> serde_json::Map<String, Value> {
        let v = json!({
            "a": {"type": "disk", "pool": "p", "source": "v1", "path": "/a"},
            "b": {"type": "disk", "pool": "p", "source": "v1", "path": "/b"},
            "c": {"type": "disk", "pool": "p", "source": "v2", "path": "/c"},
        });
        v.as_object().unwrap().clone()
    }

    #[test]
    fn find_device_single_match_is_found() {
        let d = devices();
        assert_eq!(find_device(d.iter(), None, "p", "v2").unwrap(), "c");
    }

    #[test]
    fn find_device_two_matches_or_none_error() {
        let d = devices();
        let e = find_device(d.iter(), None, "p", "v1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "More than one device matches, specify the device name"
        );
        let e = find_device(d.iter(), None, "p", "nope").unwrap_err();
        assert_eq!(e.to_string(), "No device found for this storage volume");
        let e = find_device(d.iter(), Some("zz"), "p", "v1").unwrap_err();
        assert_eq!(e.to_string(), "The specified device doesn't exist");
    }
}
