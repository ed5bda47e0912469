//! `lxc storage`: list, show, create, delete, edit, get, set, unset and info of storage pools.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use lxd_api::{StoragePool, StoragePoolPut, StoragePoolsPost};
use serde_json::{json, Value};

use crate::cli::check_args;
use crate::cmd_profile::remote_of;
use crate::global::Ctx;
use crate::output::{render_table, sort_by_name};
use crate::yaml::{sort_maps_at, to_yaml};

/// Manage storage pools and volumes
#[derive(Debug, Args)]
pub struct StorageCmd {
    #[command(subcommand)]
    cmd: Option<StorageSub>,
}

/// Sub-commands of `lxc storage`.
#[derive(Debug, Subcommand)]
enum StorageSub {
    /// Create storage pools
    Create {
        args: Vec<String>,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
    },
    /// Delete storage pools
    #[command(visible_alias = "rm")]
    Delete { args: Vec<String> },
    /// Edit storage pool configurations as YAML
    Edit { args: Vec<String> },
    /// Get values for storage pool configuration keys
    Get {
        args: Vec<String>,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
    },
    /// Show useful information about storage pools
    Info {
        args: Vec<String>,
        /// Show the used and free space in bytes
        #[arg(long)]
        bytes: bool,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
    },
    /// List available storage pools
    #[command(visible_alias = "ls")]
    List {
        args: Vec<String>,
        /// Format (csv|json|table|yaml|compact)
        #[arg(short, long, default_value = "table", value_name = "")]
        format: String,
    },
    /// Set storage pool configuration keys
    Set {
        args: Vec<String>,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
    },
    /// Show storage pool configurations and resources
    Show {
        args: Vec<String>,
        /// Show the resources available to the storage pool
        #[arg(long)]
        resources: bool,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
    },
    /// Unset storage pool configuration keys
    Unset {
        args: Vec<String>,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
    },
    /// Manage storage volumes
    Volume(crate::cmd_storage_volume::VolumeCmd),
}

const EDIT_HELP: &str = "### This is a YAML representation of a storage pool.
### Any line starting with a '#' will be ignored.
###
### A storage pool consists of a set of configuration items.
###
### An example would look like:
### name: default
### driver: zfs
### used_by: []
### config:
###   size: \"61203283968\"
###   source: /home/chb/mnt/lxd_test/default.img
###   zfs.pool_name: default";

fn pool_value<T: serde::Serialize>(p: &T) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    sort_maps_at(&mut v, &["config"]);
    v
}

async fn named(ctx: &Ctx, raw: &str) -> Result<(lxd_client::Client, String)> {
    let (client, name) = ctx.resource(raw).await?;
    if name.is_empty() {
        bail!("Missing pool name");
    }
    Ok((client, name))
}

/// Like [`named`], the client addressing cluster member `target` when one is given.
async fn named_on(
    ctx: &Ctx,
    raw: &str,
    target: &Option<String>,
) -> Result<(lxd_client::Client, String)> {
    let (client, name) = named(ctx, raw).await?;
    Ok((client.with_target(target.as_deref().unwrap_or("")), name))
}

/// `storage set` (and `unset`, which sets the key to ""): the pool first, then the pairs.
async fn set_keys(ctx: &Ctx, args: &[String], target: &Option<String>) -> Result<()> {
    let (client, name) = named_on(ctx, &args[0], target).await?;
    let (pool, etag) = client.get_storage_pool(&name).await?;
    let keys = crate::kv::parse_key_values(&args[1..])?;
    let mut put = pool.writable();
    put.config.extend(keys);
    client.update_storage_pool(&name, &put, &etag).await?;
    Ok(())
}

impl StorageCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["storage"]);
            return Ok(());
        };
        match cmd {
            StorageSub::Volume(v) => v.run(ctx).await,
            StorageSub::List { args, format } => {
                if check_args(&["storage", "list"], &args, 0, Some(1))? {
                    return Ok(());
                }
                let remote = remote_of(&ctx, args.first().map(String::as_str).unwrap_or(""))?;
                let client = ctx.connect(&remote).await?;
                let pools = client.get_storage_pools().await?;
                let mut rows: Vec<Vec<String>> = pools.iter().map(pool_row).collect();
                sort_by_name(&mut rows);
                let header = [
                    "NAME",
                    "DRIVER",
                    "SOURCE",
                    "DESCRIPTION",
                    "USED BY",
                    "STATE",
                ];
                render_table(&format, &header, &rows, &pool_value(&pools))
            }
            StorageSub::Show {
                args,
                resources,
                target,
            } => {
                if check_args(&["storage", "show"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named_on(&ctx, &args[0], &target).await?;
                if resources {
                    let res = client.get_storage_pool_resources(&name).await?;
                    print!("{}", to_yaml(&pool_resources_value(&res)));
                    return Ok(());
                }
                let (mut pool, _) = client.get_storage_pool(&name).await?;
                pool.used_by.sort();
                print!("{}", to_yaml(&pool_value(&pool)));
                Ok(())
            }
            StorageSub::Create { args, target } => {
                if check_args(&["storage", "create"], &args, 2, None)? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let mut post = StoragePoolsPost {
                    name: name.clone(),
                    driver: args[1].clone(),
                    ..Default::default()
                };
                for entry in &args[2..] {
                    let Some((k, v)) = entry.split_once('=') else {
                        bail!("Bad key=value pair: [{entry}]");
                    };
                    post.config.insert(k.into(), v.into());
                }
                let path = match &target {
                    Some(t) => format!("/1.0/storage-pools?target={t}"),
                    None => "/1.0/storage-pools".to_string(),
                };
                client.query_with("POST", &path, &post, None).await?;
                if !ctx.flags.quiet {
                    match target {
                        Some(t) => println!("Storage pool {name} pending on member {t}"),
                        None => println!("Storage pool {name} created"),
                    }
                }
                Ok(())
            }
            StorageSub::Delete { args } => {
                if check_args(&["storage", "delete"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                client.delete_storage_pool(&name).await?;
                if !ctx.flags.quiet {
                    println!("Storage pool {name} deleted");
                }
                Ok(())
            }
            StorageSub::Edit { args } => {
                if check_args(&["storage", "edit"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                if !crate::editor::stdin_is_terminal() {
                    let put: StoragePoolPut = crate::editor::decode_yaml(
                        &crate::editor::read_stdin()?,
                        crate::go_yaml::STORAGE_POOL_PUT,
                    )?;
                    client.update_storage_pool(&name, &put, "").await?;
                    return Ok(());
                }
                let (pool, etag) = client.get_storage_pool(&name).await?;
                let yaml = to_yaml(&pool_value(&pool));
                crate::editor::edit_loop(EDIT_HELP, &yaml, |text| {
                    let (client, name, etag) = (client.clone(), name.clone(), etag.clone());
                    async move {
                        let put: StoragePoolPut =
                            crate::editor::decode_yaml(&text, crate::go_yaml::STORAGE_POOL_PUT)?;
                        client.update_storage_pool(&name, &put, &etag).await?;
                        Ok(())
                    }
                })
                .await
            }
            StorageSub::Get { args, target } => {
                if check_args(&["storage", "get"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named_on(&ctx, &args[0], &target).await?;
                let (pool, _) = client.get_storage_pool(&name).await?;
                if let Some(v) = pool.config.get(&args[1]) {
                    println!("{v}");
                }
                Ok(())
            }
            StorageSub::Set { args, target } => {
                if check_args(&["storage", "set"], &args, 2, None)? {
                    return Ok(());
                }
                set_keys(&ctx, &args, &target).await
            }
            StorageSub::Unset { args, target } => {
                if check_args(&["storage", "unset"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let mut args = args;
                args.push(String::new());
                set_keys(&ctx, &args, &target).await
            }
            StorageSub::Info {
                args,
                bytes,
                target,
            } => {
                if check_args(&["storage", "info"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                if target.as_deref().is_some_and(|t| !t.is_empty())
                    && !client.get_server().await?.0.environment.server_clustered
                {
                    bail!("To use --target, the destination remote must be a cluster");
                }
                let client = client.with_target(target.as_deref().unwrap_or(""));
                let (pool, _) = client.get_storage_pool(&name).await?;
                let res = client.get_storage_pool_resources(&name).await?;
                print!("{}", crate::cmd_storage_info::render(&pool, &res, bytes));
                Ok(())
            }
        }
    }
}
fn pool_row(p: &StoragePool) -> Vec<String> {
    vec![
        p.name.clone(),
        p.driver.clone(),
        p.config.get("source").cloned().unwrap_or_default(),
        p.description.clone(),
        p.used_by.len().to_string(),
        p.status.to_uppercase(),
    ]
}

/// `api.ResourcesStoragePool` as yaml.v2 prints it: `space` then `inodes`, `used` before
/// `total`; `omitempty` drops a zero `space.used` and an all-zero `space` or `inodes`.
fn pool_resources_value(res: &Value) -> Value {
    let num = |v: &Value, k: &str| v[k].as_u64().unwrap_or_default();
    let mut out = serde_json::Map::new();
    let (used, total) = (num(&res["space"], "used"), num(&res["space"], "total"));
    if used != 0 || total != 0 {
        let mut space = serde_json::Map::new();
        if used != 0 {
            space.insert("used".into(), json!(used));
        }
        space.insert("total".into(), json!(total));
        out.insert("space".into(), Value::Object(space));
    }
    let (used, total) = (num(&res["inodes"], "used"), num(&res["inodes"], "total"));
    if used != 0 || total != 0 {
        out.insert("inodes".into(), json!({"used": used, "total": total}));
    }
    Value::Object(out)
}
