//! `lxc copy` on one server (and the copy step of `lxc move`), as lxc 5.0.2 does it: `POST
//! /1.0/instances` with a `copy` source (an instance, or `<instance>/<snapshot>`) after the
//! client applied `-c`, `-d`, `-p`, `--no-profiles`, `-e` and `-s` to the source's writable
//! fields and stripped volatile keys; `--refresh` re-PUTs the writable fields afterwards.
//! Between two servers the same request travels as a migration (`cmd_copy_remote.rs`).

use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde_json::{json, Map, Value};

use crate::cli::check_args;
use crate::global::Ctx;
use crate::progress::ProgressRenderer;

/// Flags `copy` and `move` share.
#[derive(Debug, Args)]
pub struct TransferFlags {
    /// Ignore copy errors for volatile files
    #[arg(long)]
    pub(crate) allow_inconsistent: bool,
    /// Config key/value to apply to the new instance
    #[arg(short, long = "config", value_name = "")]
    pub(crate) config: Vec<String>,
    /// New key/value to apply to a specific device
    #[arg(short, long = "device", value_name = "")]
    pub(crate) device: Vec<String>,
    /// Copy the instance without its snapshots
    #[arg(long)]
    pub(crate) instance_only: bool,
    /// Transfer mode. One of pull, push or relay
    #[arg(long, value_name = "", default_value = "pull")]
    pub(crate) mode: String,
    /// Create the instance with no profiles applied
    #[arg(long)]
    pub(crate) no_profiles: bool,
    /// Profile to apply to the new instance
    #[arg(short, long = "profile", value_name = "")]
    pub(crate) profile: Vec<String>,
    /// Copy a stateful instance stateless
    #[arg(long)]
    pub(crate) stateless: bool,
    /// Storage pool name
    #[arg(short, long, value_name = "")]
    pub(crate) storage: Option<String>,
    /// Cluster member name
    #[arg(long, value_name = "")]
    pub(crate) target: Option<String>,
    /// Copy to a project different from the source
    #[arg(long, value_name = "")]
    pub(crate) target_project: Option<String>,
}

/// Copy instances within or in between LXD servers
#[derive(Debug, Args)]
pub struct CopyCmd {
    args: Vec<String>,
    #[command(flatten)]
    flags: TransferFlags,
    /// Ephemeral instance
    #[arg(short, long)]
    ephemeral: bool,
    /// Perform an incremental copy
    #[arg(long)]
    refresh: bool,
}

/// What one copy does (lxc's `copyInstance` parameters).
pub(crate) struct CopyPlan<'a> {
    pub(crate) flags: &'a TransferFlags,
    pub(crate) refresh: bool,
    pub(crate) keep_volatile: bool,
    /// 1 = make ephemeral, 0 = make persistent, −1 = keep.
    pub(crate) ephemeral: i8,
    pub(crate) stateful: bool,
    pub(crate) is_move: bool,
}

fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// Go's `shared.InstanceIncludeWhenCopying(key, true)`.
fn include_when_copying(key: &str) -> bool {
    key == "volatile.base_image" || !key.starts_with("volatile.")
}

/// Go's `shared.GetRootDiskDevice` (first match; LXD errors on several).
fn root_disk_name(devices: &Map<String, Value>) -> Option<String> {
    devices
        .iter()
        .find(|(_, d)| {
            d["type"] == "disk"
                && d["path"] == "/"
                && d["source"].as_str().unwrap_or_default().is_empty()
        })
        .map(|(k, _)| k.clone())
}

impl CopyPlan<'_> {
    /// Applies the overrides to the writable fields of `entry` (an instance or snapshot).
    fn apply(&self, entry: &mut Value) -> Result<()> {
        let mut config = obj(&entry["config"]);
        for kv in &self.flags.config {
            let Some((k, v)) = kv.split_once('=') else {
                bail!("Bad key=value pair: {kv}");
            };
            config.insert(k.into(), json!(v));
        }
        let overrides = crate::cmd_launch::device_overrides(&self.flags.device)?;
        if !self.flags.profile.is_empty() {
            entry["profiles"] = json!(self.flags.profile);
        } else if self.flags.no_profiles {
            entry["profiles"] = json!([]);
        }
        let mut devices = obj(&entry["devices"]);
        for (dev, keys) in overrides {
            let d = devices.entry(dev).or_insert_with(|| json!({}));
            for (k, v) in keys {
                d[k] = json!(v);
            }
        }
        match self.ephemeral {
            1 => entry["ephemeral"] = json!(true),
            0 => entry["ephemeral"] = json!(false),
            _ => {}
        }
        if let Some(pool) = self.flags.storage.as_deref().filter(|p| !p.is_empty()) {
            match root_disk_name(&devices) {
                Some(root) => devices[&root]["pool"] = json!(pool),
                None => {
                    devices.insert(
                        "root".into(),
                        json!({"type": "disk", "path": "/", "pool": pool}),
                    );
                }
            }
        }
        if !self.keep_volatile {
            config.retain(|k, _| include_when_copying(k));
        }
        config.remove("volatile.last_state.power");
        entry["config"] = Value::Object(config);
        entry["devices"] = Value::Object(devices);
        Ok(())
    }
}

/// The `api.InstancePut` part of a create request.
fn writable(entry: &Value) -> Value {
    json!({
        "architecture": entry["architecture"].as_str().unwrap_or_default(),
        "config": entry["config"], "devices": entry["devices"],
        "ephemeral": entry["ephemeral"].as_bool().unwrap_or(false),
        "profiles": entry["profiles"],
        "stateful": entry["stateful"].as_bool().unwrap_or(false),
        "description": entry["description"].as_str().unwrap_or_default(),
    })
}

/// A `copy` source as Go serializes `api.InstanceSource` (empty optional fields left out).
fn copy_source(
    source: &str,
    base_image: &str,
    live: bool,
    instance_only: bool,
    refresh: bool,
    allow_inconsistent: bool,
) -> Value {
    let mut s = json!({"type": "copy", "certificate": ""});
    if !base_image.is_empty() {
        s["base-image"] = json!(base_image);
    }
    s["source"] = json!(source);
    if live {
        s["live"] = json!(true);
    }
    if instance_only {
        s["instance_only"] = json!(true);
        s["container_only"] = json!(true);
    }
    if refresh {
        s["refresh"] = json!(true);
    }
    s["allow_inconsistent"] = json!(allow_inconsistent);
    s
}

/// How a migration source is asked for (when the destination is another server).
struct MigrationSource {
    path: String,
    body: Value,
    base_image: String,
    live: bool,
    instance_only: bool,
}

/// lxc's `copyInstance`: a copy request on one server, a migration between two.
pub(crate) async fn copy_instance(
    ctx: &Ctx,
    plan: &CopyPlan<'_>,
    src: &str,
    dst: &str,
) -> Result<()> {
    let (src_remote, src_name) = ctx.conf.parse_remote(src)?;
    let (dst_remote, mut dst_name) = ctx.conf.parse_remote(dst)?;
    let f = plan.flags;
    if src_name.is_empty() {
        bail!("You must specify a source instance name");
    }
    if dst_name.is_empty() && f.target.is_some() {
        bail!("You must specify a destination instance name when using --target");
    }
    if plan.refresh && f.no_profiles {
        bail!("--no-profiles cannot be used with --refresh");
    }
    if dst_name.is_empty() && !dst.is_empty() {
        dst_name = src_name.clone();
    }
    let source = ctx.connect(&src_remote).await?;
    let mut dest = if src_remote == dst_remote {
        source.clone()
    } else {
        ctx.connect(&dst_remote).await?
    };
    let local = source.connector().endpoint() == dest.connector().endpoint();
    if let Some(p) = f.target_project.as_deref().filter(|p| !p.is_empty()) {
        dest = dest.with_project(p);
    }
    if f.target.as_deref().is_some_and(|t| !t.is_empty()) {
        let (server, _) = dest.get_server_raw().await?;
        if server["environment"]["server_clustered"] != json!(true) {
            bail!("To use --target, the destination remote must be a cluster");
        }
    }
    for kv in &f.config {
        if !kv.contains('=') {
            bail!("Bad key=value pair: {kv}");
        }
    }
    crate::cmd_launch::device_overrides(&f.device)?;
    let mut start = false;
    let mut refresh_put = None;
    let migration;
    let req = if let Some((inst, snap)) = src_name.split_once('/') {
        if f.instance_only {
            bail!("--instance-only can't be passed when the source is a snapshot");
        }
        if plan.refresh {
            bail!("--refresh can only be used with instances");
        }
        let path = crate::cmd_snapshot::snapshot_path(inst, snap);
        let (mut entry, _) = source.get_struct::<Value>(&path).await?;
        plan.apply(&mut entry)?;
        let mut put = writable(&entry);
        put["stateful"] = json!(false);
        put["description"] = json!("");
        let live = entry["stateful"] == json!(true) && plan.stateful;
        if live {
            put["stateful"] = json!(true);
        }
        source
            .get_instance(inst)
            .await
            .map_err(|e| anyhow!("Failed to get instance info: {e}"))?;
        let base = entry["config"]["volatile.base_image"]
            .as_str()
            .unwrap_or_default();
        let name = if dst_name.is_empty() { inst } else { &dst_name };
        let mut req = put;
        req["name"] = json!(name);
        req["source"] = copy_source(&format!("{inst}/{snap}"), base, live, false, false, false);
        req["instance_type"] = json!("");
        req["type"] = json!("");
        migration = MigrationSource {
            path: crate::cmd_snapshot::snapshot_path(inst, snap),
            body: json!({"name": dst_name, "migration": true, "target": null, "live": live}),
            base_image: base.to_string(),
            live,
            instance_only: false,
        };
        req
    } else {
        let (mut entry, _) = source.get_instance(&src_name).await?;
        let running = entry["status_code"] == json!(103);
        start = running && plan.is_move && !plan.stateful;
        plan.apply(&mut entry)?;
        let put = writable(&entry);
        if plan.refresh {
            refresh_put = Some(put.clone());
        }
        let base = entry["config"]["volatile.base_image"]
            .as_str()
            .unwrap_or_default();
        let name = if dst_name.is_empty() {
            src_name.as_str()
        } else {
            &dst_name
        };
        let live = plan.stateful && running;
        let mut req = put;
        req["name"] = json!(name);
        req["source"] = copy_source(
            &src_name,
            base,
            live,
            f.instance_only,
            plan.refresh,
            f.allow_inconsistent,
        );
        req["instance_type"] = json!("");
        req["type"] = entry["type"].clone();
        migration = MigrationSource {
            path: lxd_client::instances::instance_path(&src_name),
            body: json!({"name": "", "migration": true, "live": live,
                "instance_only": f.instance_only, "container_only": f.instance_only,
                "target": null, "pool": "", "project": "",
                "allow_inconsistent": f.allow_inconsistent}),
            base_image: base.to_string(),
            live,
            instance_only: f.instance_only,
        };
        req
    };
    if let Some(t) = f.target.as_deref().filter(|t| !t.is_empty()) {
        dest = dest.with_target(t);
    }
    let mut progress = ProgressRenderer::new("Transferring instance: ", ctx.flags.quiet);
    let res = if local {
        match dest.create_instance(&req).await {
            Ok(op) => dest
                .wait_operation_with_progress(&op.id, |t| progress.update(t))
                .await
                .map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        }
    } else {
        let mut body = req.clone();
        if let Some(map) = body.as_object_mut() {
            map.remove("source");
        }
        let m = crate::cmd_copy_remote::Migration {
            source: &source,
            dest: &dest,
            mode: &f.mode,
            req: body,
            source_path: migration.path,
            source_req: migration.body,
            base_image: migration.base_image,
            live: migration.live,
            instance_only: migration.instance_only,
            refresh: plan.refresh,
            allow_inconsistent: f.allow_inconsistent,
        };
        crate::cmd_copy_remote::run(m, &mut |t| progress.update(t)).await
    };
    progress.done("");
    let op = res?;
    if let Some(mut put) = refresh_put {
        let (inst, etag) = dest
            .get_instance(&dst_name)
            .await
            .map_err(|e| anyhow!("Failed to refresh target instance '{dst_name}': {e}"))?;
        put["config"]["volatile.idmap.next"] = json!(inst["config"]["volatile.idmap.next"]
            .as_str()
            .unwrap_or_default());
        let path = lxd_client::instances::instance_path(&dst_name);
        let op = dest
            .query_operation("PUT", &path, Some(&put), Some(&etag))
            .await?;
        let mut progress = ProgressRenderer::new("Refreshing instance: ", ctx.flags.quiet);
        let res = dest
            .wait_operation_with_progress(&op.id, |t| progress.update(t))
            .await;
        progress.done("");
        res?;
    }
    if dst.is_empty() && f.target_project.is_none() {
        let resources = op.resources.clone().unwrap_or_default();
        let list = resources
            .get("instances")
            .filter(|l| l.len() == 1)
            .or_else(|| resources.get("containers").filter(|l| l.len() == 1))
            .ok_or_else(|| anyhow!("Failed to get the new instance name"))?;
        println!(
            "Instance name is: {}",
            list[0].rsplit('/').next().unwrap_or_default()
        );
    }
    if start {
        let put = lxd_client::instances::state_put("start", 0, false, false);
        let op = dest.update_instance_state(&dst_name, &put).await?;
        dest.wait_operation(&op.id).await?;
    }
    Ok(())
}

impl CopyCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["copy"], &self.args, 1, Some(2))? {
            return Ok(());
        }
        let plan = CopyPlan {
            flags: &self.flags,
            refresh: self.refresh,
            keep_volatile: self.refresh,
            ephemeral: i8::from(self.ephemeral),
            stateful: !self.flags.stateless && !self.refresh,
            is_move: false,
        };
        let dst = self.args.get(1).map(String::as_str).unwrap_or("");
        copy_instance(&ctx, &plan, &self.args[0], dst).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_when_copying_keeps_base_image_only_among_volatile() {
        assert!(include_when_copying("volatile.base_image"));
        assert!(!include_when_copying("volatile.last_state.idmap"));
        assert!(include_when_copying("user.a"));
    }

    #[test]
    fn copy_source_leaves_out_empty_optional_fields() {
        let s = copy_source("c1", "", false, false, false, false);
        assert_eq!(
            s.to_string(),
            r#"{"type":"copy","certificate":"","source":"c1","allow_inconsistent":false}"#
        );
    }
}
