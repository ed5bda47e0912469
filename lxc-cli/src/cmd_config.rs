//! `lxc config get|set|unset|show|edit` for the server (`/1.0`) and for instances
//! (`/1.0/instances/<name>`, served by daemons that implement instances).

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::yaml::{sort_maps_at, to_yaml};

/// Manage instance and server configuration options
#[derive(Debug, Args)]
pub struct ConfigCmd {
    #[command(subcommand)]
    cmd: Option<ConfigSub>,
}

/// Sub-commands of `lxc config`.
#[derive(Debug, Subcommand)]
enum ConfigSub {
    /// Edit instance or server configurations as YAML
    Edit { args: Vec<String> },
    /// Get values for instance or server configuration keys
    Get {
        args: Vec<String>,
        /// Access the expanded configuration
        #[arg(short, long)]
        expanded: bool,
    },
    /// Set instance or server configuration keys
    Set { args: Vec<String> },
    /// Show instance or server configurations
    Show {
        args: Vec<String>,
        /// Show the expanded configuration
        #[arg(short, long)]
        expanded: bool,
    },
    /// Unset instance or server configuration keys
    Unset { args: Vec<String> },
}

const EDIT_HELP: &str = "### This is a YAML representation of the configuration.
### Any line starting with a '# will be ignored.
###
### A sample configuration looks like:
### name: instance1
### profiles:
### - default
### config:
###   volatile.eth0.hwaddr: 00:16:3e:e9:f8:7f
### devices:
###   homedir:
###     path: /extra
###     source: /home/user
###     type: disk
### ephemeral: false
###
### Note that the name is shown but cannot be changed";

/// Where a config command applies: the server of a remote or one instance.
struct Target {
    client: lxd_client::Client,
    instance: String,
}

async fn target(ctx: &Ctx, raw: Option<&str>) -> Result<Target> {
    let (client, instance) = ctx.resource(raw.unwrap_or("")).await?;
    Ok(Target { client, instance })
}

fn is_config_key(arg: &str) -> bool {
    arg.contains('.') && !arg.contains('/')
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn instance_path(name: &str) -> String {
    format!(
        "/1.0/instances/{}",
        lxd_client::websocket::escape_path(name)
    )
}

/// The instance's writable YAML (lxc's `InstancePut` plus description).
fn instance_put(inst: &Value, expanded: bool) -> Value {
    let (config, devices) = if expanded {
        ("expanded_config", "expanded_devices")
    } else {
        ("config", "devices")
    };
    let mut v = json!({
        "architecture": inst["architecture"], "config": inst[config], "devices": inst[devices],
        "ephemeral": inst["ephemeral"], "profiles": inst["profiles"],
        "stateful": inst["stateful"], "description": inst["description"],
    });
    sort_maps_at(&mut v, &["config", "devices", "devices.*"]);
    v
}

impl ConfigCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["config"]);
            return Ok(());
        };
        match cmd {
            ConfigSub::Show { args, expanded } => {
                if check_args(&["config", "show"], &args, 0, Some(1))? {
                    return Ok(());
                }
                let t = target(&ctx, args.first().map(String::as_str)).await?;
                if t.instance.is_empty() {
                    if expanded {
                        bail!("--expanded cannot be used with a server");
                    }
                    let (server, _) = t.client.get_server_raw().await?;
                    let mut v = json!({ "config": server["config"] });
                    sort_maps_at(&mut v, &["config"]);
                    print!("{}", to_yaml(&v));
                    return Ok(());
                }
                let (inst, _) = t
                    .client
                    .get_struct::<Value>(&instance_path(&t.instance))
                    .await?;
                print!("{}", to_yaml(&instance_put(&inst, expanded)));
                Ok(())
            }
            ConfigSub::Get { args, expanded } => {
                if check_args(&["config", "get"], &args, 1, Some(2))? {
                    return Ok(());
                }
                let key = &args[args.len() - 1];
                let t = target(&ctx, (args.len() == 2).then(|| args[0].as_str())).await?;
                if t.instance.is_empty() {
                    if expanded {
                        bail!("--expanded cannot be used with a server");
                    }
                    let (server, _) = t.client.get_server_raw().await?;
                    println!("{}", value_text(server["config"].get(key)));
                    return Ok(());
                }
                let (inst, _) = t
                    .client
                    .get_struct::<Value>(&instance_path(&t.instance))
                    .await?;
                let field = if expanded {
                    "expanded_config"
                } else {
                    "config"
                };
                println!("{}", value_text(inst[field].get(key)));
                Ok(())
            }
            ConfigSub::Set { args } => {
                if check_args(&["config", "set"], &args, 1, None)? {
                    return Ok(());
                }
                let server_form = args.len() == 1
                    || args[0].contains('=')
                    || (args.len() == 2 && is_config_key(&args[0]))
                    || args[0].ends_with(':');
                let (remote_arg, kv) = if server_form && !args[0].ends_with(':') {
                    (None, &args[..])
                } else {
                    (Some(args[0].as_str()), &args[1..])
                };
                let keys = crate::kv::parse_key_values(kv)?;
                set_keys(
                    &ctx,
                    remote_arg,
                    keys.into_iter().map(|(k, v)| (k, Some(v))).collect(),
                )
                .await
            }
            ConfigSub::Unset { args } => {
                if check_args(&["config", "unset"], &args, 1, Some(2))? {
                    return Ok(());
                }
                let key = args[args.len() - 1].clone();
                let remote_arg = (args.len() == 2).then(|| args[0].as_str());
                set_keys(&ctx, remote_arg, vec![(key, None)]).await
            }
            ConfigSub::Edit { args } => {
                if check_args(&["config", "edit"], &args, 0, Some(1))? && !args.is_empty() {
                    return Ok(());
                }
                let t = target(&ctx, args.first().map(String::as_str)).await?;
                let (path, current) = if t.instance.is_empty() {
                    let (server, _) = t.client.get_server_raw().await?;
                    let mut v = json!({ "config": server["config"] });
                    sort_maps_at(&mut v, &["config"]);
                    ("/1.0".to_string(), v)
                } else {
                    let path = instance_path(&t.instance);
                    let (inst, _) = t.client.get_struct::<Value>(&path).await?;
                    (path.clone(), instance_put(&inst, false))
                };
                let server = t.instance.is_empty();
                let apply = |text: String, etag: String| {
                    let (client, path) = (t.client.clone(), path.clone());
                    async move {
                        let v: Value = if server {
                            crate::editor::decode_yaml(&text, crate::go_yaml::SERVER_PUT)?
                        } else {
                            crate::editor::parse_yaml(&text)?
                        };
                        client.query("PUT", &path, Some(&v), Some(&etag)).await?;
                        Ok(())
                    }
                };
                if !crate::editor::stdin_is_terminal() {
                    return apply(crate::editor::read_stdin()?, String::new()).await;
                }
                let (_, etag) = t.client.query("GET", &path, None, None).await?;
                crate::editor::edit_loop(EDIT_HELP, &to_yaml(&current), |text| {
                    apply(text, etag.clone())
                })
                .await
            }
        }
    }
}

/// Sets (`Some`) or unsets (`None`) keys on the server or an instance.
async fn set_keys(ctx: &Ctx, raw: Option<&str>, keys: Vec<(String, Option<String>)>) -> Result<()> {
    let t = target(ctx, raw).await?;
    if t.instance.is_empty() {
        let (server, etag) = t.client.get_server_raw().await?;
        let mut config: Map<String, Value> =
            server["config"].as_object().cloned().unwrap_or_default();
        for (k, v) in keys {
            config.insert(k, json!(v.unwrap_or_default()));
        }
        let body = json!({ "config": config });
        t.client
            .query("PUT", "/1.0", Some(&body), Some(&etag))
            .await?;
        return Ok(());
    }
    let path = instance_path(&t.instance);
    let (resp, etag) = t.client.query("GET", &path, None, None).await?;
    let inst = resp.metadata;
    let mut put = instance_put(&inst, false);
    if let Some(config) = put["config"].as_object_mut() {
        for (k, v) in keys {
            match v {
                Some(v) => config.insert(k, json!(v)),
                None => config.remove(&k),
            };
        }
    }
    t.client
        .query("PUT", &path, Some(&put), Some(&etag))
        .await?;
    Ok(())
}
