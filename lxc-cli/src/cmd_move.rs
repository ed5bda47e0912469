//! `lxc move` on one server, as lxc 5.0.2 does it: a rename (`POST /1.0/instances/<name>
//! {"name"}`, or a snapshot rename), a server-side pool or project move (`migration: true` with
//! `pool` / `project` when the server has `instance_pool_move` / `instance_project_move`), or a
//! copy plus a forced delete. Between remotes the copy is a migration (`cmd_copy_remote.rs`).

use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde_json::json;

use crate::cli::check_args;
use crate::cmd_copy::{copy_instance, CopyPlan, TransferFlags};
use crate::global::Ctx;

/// Move instances within or in between LXD servers
#[derive(Debug, Args)]
pub struct MoveCmd {
    args: Vec<String>,
    #[command(flatten)]
    flags: TransferFlags,
}

impl MoveCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        let f = &self.flags;
        let min = if f.target.is_none() && f.target_project.is_none() && f.storage.is_none() {
            2
        } else {
            1
        };
        if check_args(&["move"], &self.args, min, Some(2))? {
            return Ok(());
        }
        let (src_remote, src_name) = ctx.conf.parse_remote(&self.args[0])?;
        let (dst_remote, dst_name) = match self.args.get(1) {
            Some(d) => ctx.conf.parse_remote(d)?,
            None => (src_remote.clone(), String::new()),
        };
        if src_remote == dst_remote
            && f.target.is_none()
            && f.storage.is_none()
            && f.target_project.is_none()
        {
            if !f.config.is_empty()
                || !f.device.is_empty()
                || !f.profile.is_empty()
                || f.no_profiles
            {
                bail!("Can't override configuration or profiles in local rename");
            }
            let client = ctx.connect(&src_remote).await?;
            if let Some((parent, snap)) = src_name.split_once('/') {
                let (dst_parent, dst_snap) = match dst_name.split_once('/') {
                    Some((p, s)) => (p, Some(s)),
                    None => (dst_name.as_str(), None),
                };
                if parent != dst_parent {
                    bail!("Invalid new snapshot name, parent must be the same as source");
                }
                let Some(dst_snap) = dst_snap else {
                    bail!("Invalid new snapshot name");
                };
                let body =
                    json!({ "name": dst_snap, "migration": false, "target": null, "live": false });
                let path = crate::cmd_snapshot::snapshot_path(parent, snap);
                let op = client
                    .query_operation("POST", &path, Some(&body), None)
                    .await?;
                client.wait_operation(&op.id).await?;
                return Ok(());
            }
            client.rename_instance(&src_name, &dst_name).await?;
            return Ok(());
        }
        let stateful = !f.stateless;
        if f.target.is_some() && src_remote == dst_remote {
            let client = ctx.connect(&src_remote).await?;
            let (server, _) = client
                .get_server_raw()
                .await
                .map_err(|e| anyhow!("Failed to connect to cluster member: {e}"))?;
            if server["environment"]["server_clustered"] != json!(true) {
                bail!("The source LXD server is not clustered");
            }
            bail!("Moving instances between cluster members is not supported by this client yet");
        }
        if src_remote == dst_remote {
            let client = ctx.connect(&src_remote).await?;
            let (server, _) = client.get_server_raw().await?;
            let has = |ext: &str| {
                server["api_extensions"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|e| e == ext))
            };
            let server_side = match (&f.storage, &f.target_project) {
                (Some(pool), _) if has("instance_pool_move") => Some(("--storage", "pool", pool)),
                (_, Some(project)) if f.storage.is_none() && has("instance_project_move") => {
                    Some(("--target-project", "project", project))
                }
                _ => None,
            };
            if let Some((flag, key, value)) = server_side {
                if f.mode != "pull" {
                    bail!("The --mode flag can't be used with {flag}");
                }
                if src_name.is_empty() {
                    bail!("You must specify a source instance name");
                }
                let name = if dst_name.is_empty() {
                    &src_name
                } else {
                    &dst_name
                };
                let mut body = json!({ "name": name, "migration": true, "live": stateful,
                    "instance_only": f.instance_only, "container_only": false, "target": null,
                    "pool": "", "project": "", "allow_inconsistent": false });
                body[key] = json!(value);
                let path = lxd_client::instances::instance_path(&src_name);
                let op = client
                    .query_operation("POST", &path, Some(&body), None)
                    .await
                    .map_err(|e| anyhow!("Migration API failure: {e}"))?;
                client
                    .wait_operation(&op.id)
                    .await
                    .map_err(|e| anyhow!("Migration operation failure: {e}"))?;
                return Ok(());
            }
        }
        let plan = CopyPlan {
            flags: f,
            refresh: false,
            keep_volatile: true,
            ephemeral: -1,
            stateful,
            is_move: true,
        };
        let dst = self.args.get(1).unwrap_or(&self.args[0]);
        copy_instance(&ctx, &plan, &self.args[0], dst).await?;
        let (client, name) = ctx.resource(&self.args[0]).await?;
        crate::cmd_delete::force_delete(&client, &name)
            .await
            .map_err(|e| anyhow!("Failed to delete original instance after copying it: {e}"))
    }
}
