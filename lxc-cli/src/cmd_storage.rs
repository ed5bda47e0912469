//! `lxc storage`: list, show, create, delete, edit, get, set, unset and info of storage pools.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use lxd_api::{StoragePool, StoragePoolPut, StoragePoolsPost};
use serde_json::{json, Value};

use crate::cli::{check_args, print_help};
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
    Get { args: Vec<String> },
    /// Show useful information about storage pools
    Info {
        args: Vec<String>,
        /// Show the used and free space in bytes
        #[arg(long)]
        bytes: bool,
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
    Set { args: Vec<String> },
    /// Show storage pool configurations and resources
    Show { args: Vec<String> },
    /// Unset storage pool configuration keys
    Unset { args: Vec<String> },
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

impl StorageCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            print_help(&["storage"]);
            return Ok(());
        };
        match cmd {
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
            StorageSub::Show { args } => {
                if check_args(&["storage", "show"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (pool, _) = client.get_storage_pool(&name).await?;
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
                        bail!("Bad key=value pair: {entry}");
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
                    let put: StoragePoolPut =
                        crate::editor::parse_yaml(&crate::editor::read_stdin()?)?;
                    client.update_storage_pool(&name, &put, "").await?;
                    return Ok(());
                }
                let (pool, etag) = client.get_storage_pool(&name).await?;
                let yaml = to_yaml(&pool_value(&pool));
                crate::editor::edit_loop(EDIT_HELP, &yaml, |text| {
                    let (client, name, etag) = (client.clone(), name.clone(), etag.clone());
                    async move {
                        let put: StoragePoolPut = crate::editor::parse_yaml(&text)?;
                        client.update_storage_pool(&name, &put, &etag).await?;
                        Ok(())
                    }
                })
                .await
            }
            StorageSub::Get { args } => {
                if check_args(&["storage", "get"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (pool, _) = client.get_storage_pool(&name).await?;
                if let Some(v) = pool.config.get(&args[1]) {
                    println!("{v}");
                }
                Ok(())
            }
            StorageSub::Set { args } => {
                if check_args(&["storage", "set"], &args, 2, None)? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let keys = crate::kv::parse_key_values(&args[1..])?;
                let (pool, etag) = client.get_storage_pool(&name).await?;
                let mut put = pool.writable();
                put.config.extend(keys);
                client.update_storage_pool(&name, &put, &etag).await?;
                Ok(())
            }
            StorageSub::Unset { args } => {
                if check_args(&["storage", "unset"], &args, 2, Some(2))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (pool, etag) = client.get_storage_pool(&name).await?;
                let mut put = pool.writable();
                put.config.remove(&args[1]);
                client.update_storage_pool(&name, &put, &etag).await?;
                Ok(())
            }
            StorageSub::Info { args, bytes } => {
                if check_args(&["storage", "info"], &args, 1, Some(1))? {
                    return Ok(());
                }
                let (client, name) = named(&ctx, &args[0]).await?;
                let (pool, _) = client.get_storage_pool(&name).await?;
                let res = client.get_storage_pool_resources(&name).await?;
                print!("{}", pool_info(&pool, &res, bytes));
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

/// The two YAML documents of `lxc storage info`.
fn pool_info(pool: &StoragePool, res: &Value, bytes: bool) -> String {
    let space = |k: &str| res["space"][k].as_u64().unwrap_or_default();
    let fmt = |n: u64| {
        if bytes {
            n.to_string()
        } else {
            lxd_shared::units::byte_size_string(n, 2)
        }
    };
    let mut used_by = serde_json::Map::new();
    for url in &pool.used_by {
        let rest = url.get(5..).unwrap_or_default();
        let mut parts = rest.split('/');
        let kind = parts.next().unwrap_or_default().to_string();
        let what = parts.next().unwrap_or_default().to_string();
        let entry = used_by.entry(kind).or_insert_with(|| json!([]));
        if let Value::Array(a) = entry {
            a.push(json!(what));
        }
    }
    let mut info = json!({"info": {
        "description": pool.description, "driver": pool.driver, "name": pool.name,
        "space used": fmt(space("used")), "total space": fmt(space("total")),
    }});
    crate::yaml::sort_all_maps(&mut info);
    let mut used = json!({ "used by": Value::Object(used_by) });
    crate::yaml::sort_all_maps(&mut used);
    format!("{}{}", to_yaml(&info), to_yaml(&used))
}
