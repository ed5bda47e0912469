//! `lxc profile`: list, show, create, copy, delete, edit, get, set, unset, rename, the
//! `device` sub-commands (in `cmd_profile_device.rs`) and add/assign/remove on instances
//! (in `cmd_profile_assign.rs`).

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use lxd_api::{Profile, ProfilePut, ProfilesPost};
use serde_json::Value;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::output::{render_table, sort_by_name};
use crate::yaml::{sort_maps_at, to_yaml};

/// Manage profiles
#[derive(Debug, Args)]
pub struct ProfileCmd {
    #[command(subcommand)]
    cmd: Option<ProfileSub>,
}

/// Sub-commands of `lxc profile`.
#[derive(Debug, Subcommand)]
enum ProfileSub {
    /// Add profiles to instances
    Add { args: Vec<String> },
    /// Assign sets of profiles to instances
    #[command(visible_alias = "apply")]
    Assign { args: Vec<String> },
    /// Copy profiles
    #[command(visible_alias = "cp")]
    Copy {
        args: Vec<String>,
        /// Copy to a project different from the source
        #[arg(long, value_name = "")]
        target_project: Option<String>,
    },
    /// Create profiles
    Create { args: Vec<String> },
    /// Delete profiles
    #[command(visible_alias = "rm")]
    Delete { args: Vec<String> },
    /// Manage devices
    Device(crate::cmd_profile_device::DeviceCmd),
    /// Edit profile configurations as YAML
    Edit { args: Vec<String> },
    /// Get values for profile configuration keys
    Get { args: Vec<String> },
    /// List profiles
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Remove profiles from instances
    Remove { args: Vec<String> },
    /// Rename profiles
    #[command(visible_alias = "mv")]
    Rename { args: Vec<String> },
    /// Set profile configuration keys
    Set { args: Vec<String> },
    /// Show profile configurations
    Show { args: Vec<String> },
    /// Unset profile configuration keys
    Unset { args: Vec<String> },
}

const EDIT_HELP: &str = "### This is a YAML representation of the profile.
### Any line starting with a '# will be ignored.
###
### A profile consists of a set of configuration items followed by a set of
### devices.
###
### An example would look like:
### name: onenic
### config:
###   raw.lxc: lxc.aa_profile=unconfined
### devices:
###   eth0:
###     nictype: bridged
###     parent: lxdbr0
###     type: nic
###
### Note that the name is shown but cannot be changed";

/// A profile (or list of them) as the YAML/JSON value lxc prints.
pub fn profile_value<T: serde::Serialize>(p: &T) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    sort_maps_at(&mut v, &["config", "devices", "devices.*"]);
    v
}

impl ProfileCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["profile"]);
            return Ok(());
        };
        match cmd {
            ProfileSub::List { args, format } => {
                if check_args(&["profile", "list"], &args, 0, Some(1))? {
                    return Ok(());
                }
                let remote = args.first().map(String::as_str).unwrap_or("");
                let (client, _) = ctx
                    .resource(&format!("{}:", remote_of(&ctx, remote)?))
                    .await?;
                let profiles = client.get_profiles().await?;
                let mut rows: Vec<Vec<String>> = profiles
                    .iter()
                    .map(|p| {
                        vec![
                            p.name.clone(),
                            p.description.clone(),
                            p.used_by.len().to_string(),
                        ]
                    })
                    .collect();
                sort_by_name(&mut rows);
                render_table(
                    &format,
                    &["NAME", "DESCRIPTION", "USED BY"],
                    &rows,
                    &profile_value(&profiles),
                )
            }
            ProfileSub::Show { args } => {
                if check_args(&["profile", "show"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, _) = client.get_profile(&name).await?;
                print!("{}", to_yaml(&profile_value(&profile)));
                Ok(())
            }
            ProfileSub::Create { args } => {
                if check_args(&["profile", "create"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let post = ProfilesPost {
                    name: name.clone(),
                    ..Default::default()
                };
                client.create_profile(&post).await?;
                if !ctx.flags.quiet {
                    println!("Profile {name} created");
                }
                Ok(())
            }
            ProfileSub::Copy {
                args,
                target_project,
            } => {
                if check_args(&["profile", "copy"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (src, name) = named(&ctx, &args[0]).await?;
                let (dst, dst_name) = ctx.resource(&args[1]).await?;
                let dst_name = if dst_name.is_empty() {
                    name.clone()
                } else {
                    dst_name
                };
                let dst = match target_project {
                    Some(p) => dst.with_project(&p),
                    None => dst,
                };
                let (profile, _) = src.get_profile(&name).await?;
                let post = ProfilesPost {
                    config: profile.config,
                    description: profile.description,
                    devices: profile.devices,
                    name: dst_name,
                };
                dst.create_profile(&post).await?;
                Ok(())
            }
            ProfileSub::Delete { args } => {
                if check_args(&["profile", "delete"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                client.delete_profile(&name).await?;
                if !ctx.flags.quiet {
                    println!("Profile {name} deleted");
                }
                Ok(())
            }
            ProfileSub::Edit { args } => {
                if check_args(&["profile", "edit"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                if !crate::editor::stdin_is_terminal() {
                    let put: ProfilePut = crate::editor::decode_yaml(
                        &crate::editor::read_stdin()?,
                        crate::go_yaml::PROFILE_PUT,
                    )?;
                    client.update_profile(&name, &put, "").await?;
                    return Ok(());
                }
                let (profile, etag) = client.get_profile(&name).await?;
                let yaml = to_yaml(&profile_value(&profile));
                crate::editor::edit_loop(EDIT_HELP, &yaml, |text| {
                    let (client, name, etag) = (client.clone(), name.clone(), etag.clone());
                    async move {
                        let put: ProfilePut =
                            crate::editor::decode_yaml(&text, crate::go_yaml::PROFILE_PUT)?;
                        client.update_profile(&name, &put, &etag).await?;
                        Ok(())
                    }
                })
                .await
            }
            ProfileSub::Get { args } => {
                if check_args(&["profile", "get"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, _) = client.get_profile(&name).await?;
                println!(
                    "{}",
                    profile.config.get(&args[1]).cloned().unwrap_or_default()
                );
                Ok(())
            }
            ProfileSub::Set { args } => {
                if check_args(&["profile", "set"], &args, 2, None)? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let keys = crate::kv::parse_key_values(&args[1..])?;
                let (profile, etag) = client.get_profile(&name).await?;
                let mut put = profile.writable();
                put.config.extend(keys);
                client.update_profile(&name, &put, &etag).await?;
                Ok(())
            }
            ProfileSub::Unset { args } => {
                if check_args(&["profile", "unset"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (profile, etag) = client.get_profile(&name).await?;
                let mut put = profile.writable();
                put.config.remove(&args[1]);
                client.update_profile(&name, &put, &etag).await?;
                Ok(())
            }
            ProfileSub::Rename { args } => {
                if check_args(&["profile", "rename"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                client.rename_profile(&name, &args[1]).await?;
                if !ctx.flags.quiet {
                    println!("Profile {name} renamed to {}", args[1]);
                }
                Ok(())
            }
            ProfileSub::Device(d) => d.run(ctx).await,
            ProfileSub::Add { args } => {
                crate::cmd_profile_assign::run(&ctx, crate::cmd_profile_assign::Change::Add, &args)
                    .await
            }
            ProfileSub::Assign { args } => {
                let change = crate::cmd_profile_assign::Change::Assign;
                crate::cmd_profile_assign::run(&ctx, change, &args).await
            }
            ProfileSub::Remove { args } => {
                let change = crate::cmd_profile_assign::Change::Remove;
                crate::cmd_profile_assign::run(&ctx, change, &args).await
            }
        }
    }
}

/// Connects for `[<remote>:]<profile>`, failing with lxc's text when the name is missing.
pub async fn named(ctx: &Ctx, raw: &str) -> Result<(lxd_client::Client, String)> {
    let (client, name) = ctx.resource(raw).await?;
    if name.is_empty() {
        bail!("Missing profile name");
    }
    Ok((client, name))
}

/// The remote named by a `[<remote>:]` argument (the default remote when empty).
pub fn remote_of(ctx: &Ctx, raw: &str) -> Result<String> {
    if raw.is_empty() {
        return Ok(ctx.conf.default_remote.clone());
    }
    Ok(ctx.conf.parse_remote(raw)?.0)
}

/// Fetches a profile for the device sub-commands.
pub async fn get_profile(client: &lxd_client::Client, name: &str) -> Result<(Profile, String)> {
    Ok(client.get_profile(name).await?)
}
