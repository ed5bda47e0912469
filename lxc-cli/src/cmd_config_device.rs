//! `lxc config device add|get|set|unset|remove|list|show|override` on an instance's local
//! devices (profile devices can only be overridden), each change a `PUT` of the instance's
//! writable fields whose operation is waited for.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::cli::check_args;
use crate::cmd_config::instance_writable;
use crate::global::Ctx;

/// Manage devices
#[derive(Debug, Args)]
pub struct DeviceCmd {
    #[command(subcommand)]
    cmd: Option<DeviceSub>,
}

/// Sub-commands of `lxc config device`.
#[derive(Debug, Subcommand)]
enum DeviceSub {
    /// Add instance devices
    Add { args: Vec<String> },
    /// Get values for device configuration keys
    Get { args: Vec<String> },
    /// List instance devices
    #[command(visible_alias = "ls")]
    List { args: Vec<String> },
    /// Copy profile inherited devices and override configuration keys
    Override { args: Vec<String> },
    /// Remove instance devices
    #[command(visible_alias = "rm")]
    Remove { args: Vec<String> },
    /// Set device configuration keys
    Set { args: Vec<String> },
    /// Show full device configuration
    Show { args: Vec<String> },
    /// Unset device configuration keys
    Unset { args: Vec<String> },
}

fn path(verb: &'static str) -> [&'static str; 3] {
    ["config", "device", verb]
}

/// The instance named by `raw`, its client and ETag.
async fn instance(ctx: &Ctx, raw: &str) -> Result<(lxd_client::Client, String, Value, String)> {
    let (client, name) = ctx.resource(raw).await?;
    if name.is_empty() {
        bail!("Missing name");
    }
    let (inst, etag) = client.get_instance(&name).await?;
    Ok((client, name, inst, etag))
}

fn props(args: &[String], dev: &mut Map<String, Value>) -> Result<()> {
    for prop in args {
        let Some((k, v)) = prop.split_once('=') else {
            bail!("No value found in {prop:?}");
        };
        dev.insert(k.into(), json!(v));
    }
    Ok(())
}

fn local_device<'a>(
    put: &'a mut Value,
    inst: &Value,
    dev: &str,
    verb: &str,
) -> Result<&'a mut Map<String, Value>> {
    if put["devices"].get(dev).is_none() {
        if inst["expanded_devices"].get(dev).is_none() {
            bail!("Device doesn't exist");
        }
        bail!("Device from profile(s) cannot be {verb} individual instance. Override device or modify profile instead");
    }
    Ok(put["devices"][dev].as_object_mut().expect("checked above"))
}

async fn update(client: &lxd_client::Client, name: &str, put: &Value, etag: &str) -> Result<()> {
    Ok(client.update_instance(name, put, etag).await?)
}

fn ensure_devices(put: &mut Value) {
    if !put["devices"].is_object() {
        put["devices"] = json!({});
    }
}

impl DeviceCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["config", "device"]);
            return Ok(());
        };
        let quiet = ctx.flags.quiet;
        match cmd {
            DeviceSub::Add { args } => {
                if check_args(&path("add"), &args, 3, None)? {
                    return Ok(());
                }
                let (client, name) = ctx.resource(&args[0]).await?;
                if name.is_empty() {
                    bail!("Missing name");
                }
                let mut device = Map::new();
                device.insert("type".into(), json!(args[2]));
                props(&args[3..], &mut device)?;
                let (inst, etag) = client.get_instance(&name).await?;
                let mut put = instance_writable(&inst);
                ensure_devices(&mut put);
                if put["devices"].get(&args[1]).is_some() {
                    bail!("The device already exists");
                }
                put["devices"][&args[1]] = Value::Object(device);
                update(&client, &name, &put, &etag).await?;
                if !quiet {
                    println!("Device {} added to {name}", args[1]);
                }
            }
            DeviceSub::Get { args } => {
                if check_args(&path("get"), &args, 3, Some(3))? {
                    return Ok(());
                }
                let (_, _, inst, _) = instance(&ctx, &args[0]).await?;
                let Some(dev) = inst["devices"].get(&args[1]) else {
                    if inst["expanded_devices"].get(&args[1]).is_none() {
                        bail!("Device doesn't exist");
                    }
                    bail!("Device from profile(s) cannot be retrieved for individual instance");
                };
                println!("{}", dev[&args[2]].as_str().unwrap_or(""));
            }
            DeviceSub::List { args } => {
                if check_args(&path("list"), &args, 1, Some(1))? {
                    return Ok(());
                }
                let (_, _, inst, _) = instance(&ctx, &args[0]).await?;
                let mut names: Vec<&String> = inst["devices"]
                    .as_object()
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                names.sort();
                let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
                println!("{}", names.join("\n"));
            }
            DeviceSub::Override { args } => {
                if check_args(&path("override"), &args, 2, None)? {
                    return Ok(());
                }
                let (client, name, inst, etag) = instance(&ctx, &args[0]).await?;
                let mut put = instance_writable(&inst);
                ensure_devices(&mut put);
                if put["devices"].get(&args[1]).is_some() {
                    bail!("The device already exists");
                }
                let Some(Value::Object(mut device)) =
                    inst["expanded_devices"].get(&args[1]).cloned()
                else {
                    bail!("The profile device doesn't exist");
                };
                props(&args[2..], &mut device)?;
                put["devices"][&args[1]] = Value::Object(device);
                update(&client, &name, &put, &etag).await?;
                if !quiet {
                    println!("Device {} overridden for {name}", args[1]);
                }
            }
            DeviceSub::Remove { args } => {
                if check_args(&path("remove"), &args, 2, None)? {
                    return Ok(());
                }
                let (client, name, inst, etag) = instance(&ctx, &args[0]).await?;
                let mut put = instance_writable(&inst);
                ensure_devices(&mut put);
                for dev in &args[1..] {
                    local_device(&mut put, &inst, dev, "removed from")?;
                    if let Some(m) = put["devices"].as_object_mut() {
                        m.remove(dev);
                    }
                }
                update(&client, &name, &put, &etag).await?;
                if !quiet {
                    println!("Device {} removed from {name}", args[1..].join(", "));
                }
            }
            DeviceSub::Set { args } => {
                if check_args(&path("set"), &args, 3, None)? {
                    return Ok(());
                }
                set(&ctx, &args).await?;
            }
            DeviceSub::Unset { mut args } => {
                if check_args(&path("unset"), &args, 3, Some(3))? {
                    return Ok(());
                }
                args.push(String::new());
                set(&ctx, &args).await?;
            }
            DeviceSub::Show { args } => {
                if check_args(&path("show"), &args, 1, Some(1))? {
                    return Ok(());
                }
                let (_, _, inst, _) = instance(&ctx, &args[0]).await?;
                let mut devices = inst["devices"].clone();
                crate::yaml::sort_all_maps(&mut devices);
                print!("{}", crate::yaml::to_yaml(&devices));
            }
        }
        Ok(())
    }
}

/// `config device set` (and unset, with an empty value appended).
async fn set(ctx: &Ctx, args: &[String]) -> Result<()> {
    let (client, name) = ctx.resource(&args[0]).await?;
    if name.is_empty() {
        bail!("Missing name");
    }
    let keys = crate::kv::parse_key_values(&args[2..])?;
    let (inst, etag) = client.get_instance(&name).await?;
    let mut put = instance_writable(&inst);
    let dev = local_device(&mut put, &inst, &args[1], "modified for")?;
    for (k, v) in keys {
        dev.insert(k, json!(v));
    }
    update(&client, &name, &put, &etag).await
}
