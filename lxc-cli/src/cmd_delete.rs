//! `lxc delete` (`-f` stops first, `-i` asks) and `lxc rename` (a same-remote move: rename an
//! instance or one of its snapshots).

use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde_json::json;

use crate::cli::check_args;
use crate::global::Ctx;

/// Delete instances and snapshots
#[derive(Debug, Args)]
pub struct DeleteCmd {
    args: Vec<String>,
    /// Force the removal of running instances
    #[arg(short, long)]
    force: bool,
    /// Require user confirmation
    #[arg(short, long)]
    interactive: bool,
}

/// Rename instances and snapshots
#[derive(Debug, Args)]
pub struct RenameCmd {
    args: Vec<String>,
}

fn snapshot_path(inst: &str, snap: &str) -> String {
    format!(
        "{}/snapshots/{}",
        lxd_client::instances::instance_path(inst),
        lxd_client::websocket::escape_path(snap)
    )
}

async fn query_wait(
    client: &lxd_client::Client,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<()> {
    let op = client.query_operation(method, path, body, None).await?;
    client.wait_operation(&op.id).await?;
    Ok(())
}

impl DeleteCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["delete"], &self.args, 1, None)? {
            return Ok(());
        }
        let mut resources = Vec::new();
        for raw in &self.args {
            let (remote, name) = ctx.conf.parse_remote(raw)?;
            let client = ctx.connect(&remote).await?;
            resources.push((remote, name, client));
        }
        for (remote, name, client) in &resources {
            let res = match name.split_once('/') {
                Some((inst, snap)) => client
                    .get_struct::<serde_json::Value>(&snapshot_path(inst, snap))
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        anyhow!("Failed checking instance snapshot exists \"{remote}:{name}\": {e}")
                    }),
                None => client.get_instance(name).await.map(|_| ()).map_err(|e| {
                    anyhow!("Failed checking instance exists \"{remote}:{name}\": {e}")
                }),
            };
            res?;
        }
        for (_, name, client) in &resources {
            if self.interactive {
                prompt_delete(name)?;
            }
            if let Some((inst, snap)) = name.split_once('/') {
                return query_wait(client, "DELETE", &snapshot_path(inst, snap), None).await;
            }
            if delete_instance(client, name, self.force).await? {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Deletes instance `name` as `lxc delete -f` does (stopping it first); used by `lxc move`.
pub async fn force_delete(client: &lxd_client::Client, name: &str) -> Result<()> {
    delete_instance(client, name, true).await.map(|_| ())
}

/// Deletes one instance, stopping it first when `force`; returns true when a stopped
/// ephemeral instance vanished by itself (lxc then stops deleting).
async fn delete_instance(client: &lxd_client::Client, name: &str, force: bool) -> Result<bool> {
    let (inst, _) = client.get_instance(name).await?;
    let code = inst["status_code"].as_u64().unwrap_or(0);
    if code != 0 && code != 102 {
        if !force {
            bail!("The instance is currently running, stop it first or pass --force");
        }
        let put = lxd_client::instances::state_put("stop", -1, true, false);
        let op = client.update_instance_state(name, &put).await?;
        if let Err(e) = client.wait_operation(&op.id).await {
            bail!("Stopping the instance failed: {e}");
        }
        if inst["ephemeral"] == json!(true) {
            return Ok(true);
        }
    }
    client.delete_instance(name).await?;
    Ok(false)
}

fn prompt_delete(name: &str) -> Result<()> {
    use std::io::Write;
    print!("Remove {name} (yes/no): ");
    let _ = std::io::stdout().flush();
    let mut input = String::new();
    let _ = std::io::stdin().read_line(&mut input);
    let input = input.strip_suffix('\n').unwrap_or(&input);
    if input.to_lowercase() != "yes" {
        bail!("User aborted delete operation");
    }
    Ok(())
}

impl RenameCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["rename"], &self.args, 2, Some(2))? {
            return Ok(());
        }
        let (src_remote, src_name) = ctx.conf.parse_remote(&self.args[0])?;
        let (dst_remote, mut dst_name) = ctx.conf.parse_remote(&self.args[1])?;
        if src_remote != dst_remote {
            if self.args[1].contains(':') {
                bail!("Can't specify a different remote for rename");
            }
            dst_name = self.args[1].clone();
        }
        let client = ctx.connect(&src_remote).await?;
        if let Some((parent, snap)) = src_name.split_once('/') {
            let Some((dst_parent, dst_snap)) = dst_name.split_once('/') else {
                if parent != dst_name {
                    bail!("Invalid new snapshot name, parent must be the same as source");
                }
                bail!("Invalid new snapshot name");
            };
            if parent != dst_parent {
                bail!("Invalid new snapshot name, parent must be the same as source");
            }
            let body =
                json!({ "name": dst_snap, "migration": false, "target": null, "live": false });
            return query_wait(&client, "POST", &snapshot_path(parent, snap), Some(&body)).await;
        }
        client.rename_instance(&src_name, &dst_name).await?;
        Ok(())
    }
}
