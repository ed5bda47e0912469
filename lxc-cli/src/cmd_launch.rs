//! `lxc init` and `lxc launch`: create an instance from a local image (alias or fingerprint)
//! with `-c`, `-p`, `--no-profiles`, `-e`, `-s`, `-d`, `-n`, `--empty`, YAML on stdin, then
//! (launch) start it. Images on other remotes are pulled by the daemon (`image_source.rs`).

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde_json::{json, Map, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::progress::ProgressRenderer;

/// Flags shared by `init` and `launch`.
#[derive(Debug, Args)]
pub struct InitCmd {
    args: Vec<String>,
    /// Config key/value to apply to the new instance
    #[arg(short, long = "config", value_name = "")]
    config: Vec<String>,
    /// New key/value to apply to a specific device
    #[arg(short, long = "device", value_name = "")]
    device: Vec<String>,
    /// Create an empty instance
    #[arg(long)]
    empty: bool,
    /// Ephemeral instance
    #[arg(short, long)]
    ephemeral: bool,
    /// Network name
    #[arg(short, long, value_name = "")]
    network: Option<String>,
    /// Create the instance with no profiles applied
    #[arg(long)]
    no_profiles: bool,
    /// Profile to apply to the new instance
    #[arg(short, long = "profile", value_name = "")]
    profile: Vec<String>,
    /// Storage pool name
    #[arg(short, long, value_name = "")]
    storage: Option<String>,
    /// Cluster member name
    #[arg(long, value_name = "")]
    target: Option<String>,
    /// Instance type
    #[arg(short = 't', long = "type", value_name = "")]
    instance_type: Option<String>,
    /// Create a virtual machine
    #[arg(long)]
    vm: bool,
}

/// `lxc launch`: init's flags plus `--console`.
#[derive(Debug, Args)]
pub struct LaunchCmd {
    #[command(flatten)]
    init: InitCmd,
    /// Immediately attach to the console
    #[arg(long, value_name = "", num_args = 0..=1, default_missing_value = "console")]
    console: Option<String>,
}

/// lxc's `parseDeviceOverrides`: `<device>,<key>=<value>`.
pub(crate) fn device_overrides(
    args: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for entry in args {
        if !entry.contains('=') || !entry.contains(',') {
            bail!("Bad device override syntax, expecting <device>,<key>=<value>: {entry}");
        }
        let (dev, kv) = entry.split_once(',').unwrap_or_default();
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        out.entry(dev.to_string())
            .or_default()
            .insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

impl InitCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["init"], &self.args, 0, Some(2))? {
            return Ok(());
        }
        if self.args.is_empty() && !self.empty {
            crate::cli::print_usage(&["init"]);
            return Ok(());
        }
        self.create(&ctx).await.map(|_| ())
    }

    /// Creates the instance; returns the client and the instance name.
    pub async fn create(&self, ctx: &Ctx) -> Result<(lxd_client::Client, String)> {
        let stdin_data: Value = if !crate::editor::stdin_is_terminal() {
            let text = crate::editor::read_stdin()?;
            crate::editor::parse_yaml(&text)?
        } else {
            Value::Null
        };
        let (mut iremote, mut image, mut remote, mut name) =
            (String::new(), String::new(), String::new(), String::new());
        if let Some(first) = self.args.first() {
            (iremote, image) = ctx.conf.parse_remote(first)?;
            (remote, name) = ctx
                .conf
                .parse_remote(self.args.get(1).map(String::as_str).unwrap_or(""))?;
        }
        if self.empty {
            if self.args.len() > 1 {
                bail!("--empty cannot be combined with an image name");
            }
            if self.args.is_empty() {
                (remote, name) = ctx.conf.parse_remote("")?;
            } else {
                name = std::mem::take(&mut image);
                remote = std::mem::take(&mut iremote);
            }
        }
        let mut client = ctx.connect(&remote).await?;
        if let Some(t) = &self.target {
            client = client.with_target(t);
        }
        if !ctx.flags.quiet {
            if name.is_empty() {
                println!("Creating the instance");
            } else {
                println!("Creating {name}");
            }
        }
        let mut devices: BTreeMap<String, Map<String, Value>> = obj(&stdin_data["devices"])
            .into_iter()
            .map(|(k, v)| (k, obj(&v)))
            .collect();
        if let Some(net) = &self.network {
            let path = format!("/1.0/networks/{}", lxd_client::websocket::escape_path(net));
            let (network, _) = client
                .get_struct::<Value>(&path)
                .await
                .map_err(|e| anyhow!("Failed loading network {net:?}: {e}"))?;
            let mut dev = json!({"name": "eth0", "type": "nic"});
            if network["managed"].as_bool() == Some(true) {
                dev["network"] = json!(network["name"]);
            } else {
                let nictype = if network["type"] == "bridge" {
                    "bridged"
                } else {
                    "macvlan"
                };
                dev["nictype"] = json!(nictype);
                dev["parent"] = json!(net);
            }
            devices.insert("eth0".into(), obj(&dev));
        }
        let mut config = obj(&stdin_data["config"]);
        for entry in &self.config {
            let Some((k, v)) = entry.split_once('=') else {
                bail!("Bad key=value pair: {entry}");
            };
            config.insert(k.into(), json!(v));
        }
        if let Some(pool) = &self.storage {
            let path = format!(
                "/1.0/storage-pools/{}",
                lxd_client::websocket::escape_path(pool)
            );
            client
                .get_struct::<Value>(&path)
                .await
                .map_err(|e| anyhow!("Failed loading storage pool {pool:?}: {e}"))?;
            devices.insert(
                "root".into(),
                obj(&json!({"type": "disk", "path": "/", "pool": pool})),
            );
        }
        let profiles: Value = if !self.profile.is_empty() {
            json!(self.profile)
        } else if self.no_profiles {
            json!([])
        } else if stdin_data["profiles"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
        {
            stdin_data["profiles"].clone()
        } else {
            Value::Null
        };
        let overrides = device_overrides(&self.device)?;
        if overrides.keys().any(|d| !devices.contains_key(d)) {
            let names: Vec<String> = match profiles.as_array() {
                Some(p) if !p.is_empty() => p
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                _ => vec!["default".into()],
            };
            let mut profile_devices: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
            for p in names {
                let (profile, _) = client.get_profile(&p).await.map_err(|e| {
                    anyhow!("Failed loading profile {p:?} for device override: {e}")
                })?;
                for (k, v) in profile.devices {
                    profile_devices.insert(
                        k,
                        v.into_iter().map(|(a, b)| (a, Value::String(b))).collect(),
                    );
                }
            }
            for (dev, keys) in &overrides {
                if devices.contains_key(dev) {
                    continue;
                }
                let Some(mut base) = profile_devices.remove(dev) else {
                    bail!("Cannot override config for device {dev:?}: Device not found in profile devices");
                };
                for (k, v) in keys {
                    base.insert(k.clone(), json!(v));
                }
                devices.insert(dev.clone(), base);
                continue;
            }
        }
        for (dev, keys) in &overrides {
            if let Some(d) = devices.get_mut(dev) {
                for (k, v) in keys {
                    d.insert(k.clone(), json!(v));
                }
            }
        }
        let mut req = json!({
            "architecture": "", "config": config, "devices": devices,
            "ephemeral": self.ephemeral, "profiles": profiles, "stateful": false,
            "description": "", "name": name,
            "source": {"type": "", "certificate": "", "allow_inconsistent": false},
            "instance_type": self.instance_type.clone().unwrap_or_default(),
            "type": if self.vm { "virtual-machine" } else { "container" },
        });
        let op = if self.empty {
            req["source"]["type"] = json!("none");
            let op = client.create_instance(&req).await?;
            client.wait_operation(&op.id).await?
        } else {
            if image.is_empty() {
                image = "default".into();
            }
            if iremote != remote {
                let pull = crate::image_source::pull_source(ctx, &iremote, &image, self.vm).await?;
                if let Some(kind) = &pull.image_type {
                    req["type"] = json!(kind);
                }
                let mut progress = ProgressRenderer::new("Retrieving image: ", ctx.flags.quiet);
                let res = crate::image_source::create_from_pull(&client, req, &pull, |t| {
                    progress.update(t)
                })
                .await;
                progress.done("");
                res?
            } else {
                if let Ok((alias, _)) = client.get_struct::<Value>(&alias_path(&image)).await {
                    image = alias["target"].as_str().unwrap_or_default().to_string();
                }
                let (img, _) = client.get_image(&image).await?;
                if img.kind != "virtual-machine" && self.vm {
                    bail!("Asked for a VM but image is of type container");
                }
                req["type"] = json!(img.kind);
                req["source"] = json!({"type": "image", "certificate": "",
                "fingerprint": img.fingerprint, "allow_inconsistent": false});
                let op = client.create_instance(&req).await?;
                let mut progress = ProgressRenderer::new("Retrieving image: ", ctx.flags.quiet);
                let res = client
                    .wait_operation_with_progress(&op.id, |t| progress.update(t))
                    .await;
                progress.done("");
                res?
            }
        };
        let resources = op.resources.clone().unwrap_or_default();
        let list = resources
            .get("instances")
            .filter(|l| !l.is_empty())
            .or_else(|| resources.get("containers").filter(|l| !l.is_empty()))
            .ok_or_else(|| {
                anyhow!("Didn't get any affected image, instance or snapshot from server")
            })?;
        if list.len() == 1 && name.is_empty() {
            name = list[0].rsplit('/').next().unwrap_or_default().to_string();
            println!("Instance name is: {name}");
        }
        check_network(&client, &name).await;
        Ok((client, name))
    }
}

fn alias_path(name: &str) -> String {
    format!(
        "/1.0/images/aliases/{}",
        lxd_client::websocket::escape_path(name)
    )
}

/// Warns when the new instance has no NIC (lxc's `checkNetwork`).
async fn check_network(client: &lxd_client::Client, name: &str) {
    let Ok((inst, _)) = client.get_instance(name).await else {
        return;
    };
    let has_nic = inst["expanded_devices"]
        .as_object()
        .is_some_and(|m| m.values().any(|d| d["type"] == "nic"));
    if !has_nic {
        eprint!("\nThe instance you are starting doesn't have any network attached to it.\n  To create a new network, use: lxc network create\n  To attach a network to an instance, use: lxc network attach\n\n");
    }
}

impl LaunchCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["launch"], &self.init.args, 1, Some(2))? {
            return Ok(());
        }
        let (client, name) = self.init.create(&ctx).await?;
        let remote = ctx
            .conf
            .parse_remote(self.init.args.get(1).map(String::as_str).unwrap_or(""))?
            .0;
        if !ctx.flags.quiet {
            println!("Starting {name}");
        }
        let put = lxd_client::instances::state_put("start", -1, false, false);
        let op = client.update_instance_state(&name, &put).await?;
        crate::cmd_action::failed_already(&client, &op.id).await?;
        let mut progress = ProgressRenderer::new("", ctx.flags.quiet);
        let res = client
            .wait_operation_with_progress(&op.id, |t| progress.update(t))
            .await;
        progress.done("");
        if let Err(e) = res {
            let pretty = if remote.is_empty() {
                name.clone()
            } else {
                format!("{remote}:{name}")
            };
            bail!("{e}\nTry `lxc info --show-log {pretty}` for more info");
        }
        if let Some(kind) = &self.console {
            return crate::cmd_console::attach_kind(&client, &name, kind).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_overrides_without_comma_errors() {
        let e = device_overrides(&["root=1".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Bad device override syntax, expecting <device>,<key>=<value>: root=1"
        );
    }

    #[test]
    fn device_overrides_key_values_are_grouped_by_device() {
        let m = device_overrides(&["root,size=1GB".into(), "root,pool=p".into()]).unwrap();
        assert_eq!(m["root"]["size"], "1GB");
        assert_eq!(m["root"]["pool"], "p");
    }
}
