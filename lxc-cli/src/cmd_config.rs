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
    /// Manage devices
    Device(crate::cmd_config_device::DeviceCmd),
    /// Manage instance metadata files
    Metadata(crate::cmd_config_metadata::MetadataCmd),
    /// Manage instance file templates
    Template(crate::cmd_config_template::TemplateCmd),
    /// Manage trusted clients
    Trust(crate::cmd_config_trust::TrustCmd),
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
                set_keys(&ctx, args, false).await
            }
            ConfigSub::Unset { mut args } => {
                if check_args(&["config", "unset"], &args, 1, Some(2))? {
                    return Ok(());
                }
                args.push(String::new());
                set_keys(&ctx, args, true).await
            }
            ConfigSub::Device(d) => d.run(ctx).await,
            ConfigSub::Metadata(m) => m.run(ctx).await,
            ConfigSub::Template(t) => t.run(ctx).await,
            ConfigSub::Trust(t) => t.run(ctx).await,
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
                    let (mut inst, _) = t.client.get_struct::<Value>(&path).await?;
                    if let Value::Object(m) = &mut inst {
                        m.remove("expanded_config");
                        m.remove("expanded_devices");
                    }
                    sort_maps_at(&mut inst, &["config", "devices", "devices.*"]);
                    (path.clone(), inst)
                };
                let server = t.instance.is_empty();
                let apply = |text: String, etag: String| {
                    let (client, path) = (t.client.clone(), path.clone());
                    async move {
                        if server {
                            let v: Value =
                                crate::editor::decode_yaml(&text, crate::go_yaml::SERVER_PUT)?;
                            client.query("PUT", &path, Some(&v), Some(&etag)).await?;
                            return Ok(());
                        }
                        let v: Value = crate::editor::parse_yaml(&text)?;
                        let op = client
                            .query_operation(
                                "PUT",
                                &path,
                                Some(&instance_put_from(&v)),
                                Some(&etag),
                            )
                            .await?;
                        client.wait_operation(&op.id).await?;
                        Ok(())
                    }
                };
                if !crate::editor::stdin_is_terminal() {
                    return apply(crate::editor::read_stdin()?, String::new()).await;
                }
                let (_, etag) = t.client.query("GET", &path, None, None).await?;
                let yaml = crate::yaml::to_yaml_with_times(&current, crate::cmd_list::TIME_KEYS);
                crate::editor::edit_loop(EDIT_HELP, &yaml, |text| apply(text, etag.clone())).await
            }
        }
    }
}

/// lxc's `cmdConfigSet.Run` (unset appends an empty value): picks the server or an
/// instance from the arguments, then sets or removes the keys.
async fn set_keys(ctx: &Ctx, args: Vec<String>, unset: bool) -> Result<()> {
    let only_kv = args.iter().all(|a| a.contains('='));
    let has_kv = args.iter().any(|a| a.contains('='));
    let is_config = |v: &str| v.rsplit(':').next().unwrap_or(v).contains('.');
    let remote_arg = if only_kv || is_config(&args[0]) || (args.len() == 2 && !has_kv) {
        ""
    } else {
        args[0].as_str()
    };
    let t = target(ctx, Some(remote_arg)).await?;
    if !t.instance.is_empty() {
        let keys = crate::kv::parse_key_values(&args[1..])?;
        let (inst, etag) = t.client.get_instance(&t.instance).await?;
        let mut put = instance_writable(&inst);
        let config = put["config"].as_object_mut();
        let mut empty = Map::new();
        let config = config.unwrap_or(&mut empty);
        for (k, v) in keys {
            if unset {
                if config.remove(&k).is_none() {
                    bail!("Can't unset key '{k}', it's not currently set");
                }
            } else {
                config.insert(k, json!(v));
            }
        }
        t.client.update_instance(&t.instance, &put, &etag).await?;
        return Ok(());
    }
    let keys = if remote_arg.is_empty() {
        crate::kv::parse_key_values(&args)?
    } else {
        crate::kv::parse_key_values(&args[1..])?
    };
    let (server, etag) = t.client.get_server_raw().await?;
    let mut config: Map<String, Value> = server["config"].as_object().cloned().unwrap_or_default();
    for (k, v) in keys {
        config.insert(k, json!(v));
    }
    let body = json!({ "config": config });
    t.client
        .query("PUT", "/1.0", Some(&body), Some(&etag))
        .await?;
    Ok(())
}

/// `api.Instance.Writable()`: the `InstancePut` fields of an instance, in Go's order.
pub fn instance_writable(inst: &Value) -> Value {
    let mut v = json!({
        "architecture": inst["architecture"], "config": inst["config"],
        "devices": inst["devices"], "ephemeral": inst["ephemeral"],
        "profiles": inst["profiles"], "stateful": inst["stateful"],
        "description": inst["description"],
    });
    if let Some(r) = inst
        .get("restore")
        .filter(|r| r.as_str().is_some_and(|s| !s.is_empty()))
    {
        v["restore"] = r.clone();
    }
    v
}

/// YAML decoded as Go's `yaml.Unmarshal` into `api.InstancePut` fills missing fields.
fn instance_put_from(v: &Value) -> Value {
    let str_or = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let bool_of = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    json!({
        "architecture": str_or("architecture"), "config": v.get("config").cloned().unwrap_or(Value::Null),
        "devices": v.get("devices").cloned().unwrap_or(Value::Null),
        "ephemeral": bool_of("ephemeral"), "profiles": v.get("profiles").cloned().unwrap_or(Value::Null),
        "stateful": bool_of("stateful"), "description": str_or("description"),
    })
}
