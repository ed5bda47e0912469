//! `lxc profile device`: add, get, set, unset, remove, list and show devices of a profile.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use crate::cli::check_args;
use crate::cmd_profile::{get_profile, named, profile_value};
use crate::global::Ctx;
use crate::yaml::to_yaml;

/// Manage devices
#[derive(Debug, Args)]
pub struct DeviceCmd {
    #[command(subcommand)]
    cmd: Option<DeviceSub>,
}

/// Sub-commands of `lxc profile device`.
#[derive(Debug, Subcommand)]
enum DeviceSub {
    /// Add instance devices
    Add { args: Vec<String> },
    /// Get values for device configuration keys
    Get { args: Vec<String> },
    /// List instance devices
    #[command(visible_alias = "ls")]
    List { args: Vec<String> },
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
    ["profile", "device", verb]
}

impl DeviceCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["profile", "device"]);
            return Ok(());
        };
        match cmd {
            DeviceSub::Add { args } => {
                if check_args(&path("add"), &args, 3, None)? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, etag) = get_profile(&client, &name).await?;
                let mut put = profile.writable();
                let dev = &args[1];
                if put.devices.contains_key(dev) {
                    bail!("The device already exists");
                }
                let mut conf = lxd_api::ConfigMap::new();
                conf.insert("type".into(), args[2].clone());
                for prop in &args[3..] {
                    let Some((k, v)) = prop.split_once('=') else {
                        bail!("No value found in {prop:?}");
                    };
                    conf.insert(k.into(), v.into());
                }
                put.devices.insert(dev.clone(), conf);
                client.update_profile(&name, &put, &etag).await?;
                if !ctx.flags.quiet {
                    println!("Device {dev} added to {name}");
                }
                Ok(())
            }
            DeviceSub::Get { args } => {
                if check_args(&path("get"), &args, 3, Some(3))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, _) = get_profile(&client, &name).await?;
                let Some(dev) = profile.devices.get(&args[1]) else {
                    bail!("The device doesn't exist");
                };
                println!("{}", dev.get(&args[2]).cloned().unwrap_or_default());
                Ok(())
            }
            DeviceSub::List { args } => {
                if check_args(&path("list"), &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, _) = get_profile(&client, &name).await?;
                let names: Vec<&str> = profile.devices.keys().map(String::as_str).collect();
                println!("{}", names.join("\n"));
                Ok(())
            }
            DeviceSub::Remove { args } => {
                if check_args(&path("remove"), &args, 2, None)? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, etag) = get_profile(&client, &name).await?;
                let mut put = profile.writable();
                for dev in &args[1..] {
                    if put.devices.remove(dev).is_none() {
                        bail!("The device doesn't exist");
                    }
                }
                client.update_profile(&name, &put, &etag).await?;
                if !ctx.flags.quiet {
                    println!("Device {} removed from {name}", args[1..].join(", "));
                }
                Ok(())
            }
            DeviceSub::Set { args } => {
                if check_args(&path("set"), &args, 3, None)? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let keys = crate::kv::parse_key_values(&args[2..])?;
                let (profile, etag) = get_profile(&client, &name).await?;
                let mut put = profile.writable();
                let Some(dev) = put.devices.get_mut(&args[1]) else {
                    bail!("The device doesn't exist");
                };
                dev.extend(keys);
                client.update_profile(&name, &put, &etag).await?;
                Ok(())
            }
            DeviceSub::Unset { args } => {
                if check_args(&path("unset"), &args, 3, Some(3))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, etag) = get_profile(&client, &name).await?;
                let mut put = profile.writable();
                let Some(dev) = put.devices.get_mut(&args[1]) else {
                    bail!("The device doesn't exist");
                };
                dev.remove(&args[2]);
                client.update_profile(&name, &put, &etag).await?;
                Ok(())
            }
            DeviceSub::Show { args } => {
                if check_args(&path("show"), &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, _) = get_profile(&client, &name).await?;
                let v = profile_value(&profile);
                print!("{}", to_yaml(&v["devices"]));
                Ok(())
            }
        }
    }
}
