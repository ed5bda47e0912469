//! `lxc snapshot` (`--reuse` replaces a snapshot of the same name, `--no-expiry` sends a zero
//! `expires_at`, `--stateful`) and `lxc restore` (a PUT of the instance with `restore` set).

use anyhow::{anyhow, Result};
use clap::Args;
use serde_json::json;

use crate::cli::check_args;
use crate::global::Ctx;

/// Go's zero `time.Time` as JSON: what `--no-expiry` sends.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Create instance snapshots
#[derive(Debug, Args)]
pub struct SnapshotCmd {
    args: Vec<String>,
    /// Ignore any configured auto-expiry for the instance
    #[arg(long)]
    no_expiry: bool,
    /// If the snapshot name already exists, delete and create a new one
    #[arg(long)]
    reuse: bool,
    /// Whether or not to snapshot the instance's running state
    #[arg(long)]
    stateful: bool,
}

/// Restore instances from snapshots
#[derive(Debug, Args)]
pub struct RestoreCmd {
    args: Vec<String>,
    /// Whether or not to restore the instance's running state from snapshot (if available)
    #[arg(long)]
    stateful: bool,
}

/// `/1.0/instances/<inst>/snapshots/<snap>`.
pub fn snapshot_path(inst: &str, snap: &str) -> String {
    format!(
        "{}/snapshots/{}",
        lxd_client::instances::instance_path(inst),
        lxd_client::websocket::escape_path(snap)
    )
}

impl SnapshotCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["snapshot"], &self.args, 1, Some(2))? {
            return Ok(());
        }
        let mut snap = self.args.get(1).cloned().unwrap_or_default();
        let (remote, mut name) = ctx.conf.parse_remote(&self.args[0])?;
        if let Some((inst, s)) = name.clone().split_once('/') {
            if !snap.is_empty() {
                return Err(anyhow!("Invalid instance name: {name}"));
            }
            name = inst.to_string();
            snap = s.to_string();
        }
        let client = ctx.connect(&remote).await?;
        if self.reuse && !snap.is_empty() {
            let path = snapshot_path(&name, &snap);
            if client.get_struct::<serde_json::Value>(&path).await.is_ok() {
                let op = client.query_operation("DELETE", &path, None, None).await?;
                client.wait_operation(&op.id).await?;
            }
        }
        let mut req = json!({ "name": snap, "stateful": self.stateful });
        if self.no_expiry {
            req["expires_at"] = json!(ZERO_TIME);
        }
        let path = format!("{}/snapshots", lxd_client::instances::instance_path(&name));
        let op = client
            .query_operation("POST", &path, Some(&req), None)
            .await?;
        client.wait_operation(&op.id).await?;
        Ok(())
    }
}

impl RestoreCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["restore"], &self.args, 2, Some(2))? {
            return Ok(());
        }
        let (remote, name) = ctx.conf.parse_remote(&self.args[0])?;
        let client = ctx.connect(&remote).await?;
        let mut snap = self.args[1].clone();
        if !snap.contains('/') {
            snap = format!("{name}/{snap}");
        }
        let put = restore_put(&snap, self.stateful);
        let path = lxd_client::instances::instance_path(&name);
        let op = client
            .query_operation("PUT", &path, Some(&put), None)
            .await?;
        client.wait_operation(&op.id).await?;
        Ok(())
    }
}

/// The `api.InstancePut` lxc sends to restore `snap` (`<instance>/<snapshot>`).
fn restore_put(snap: &str, stateful: bool) -> serde_json::Value {
    json!({
        "architecture": "", "config": null, "devices": null, "ephemeral": false,
        "profiles": null, "restore": snap, "stateful": stateful, "description": "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_put_names_instance_and_snapshot() {
        let put = restore_put("c1/snap0", false);
        assert_eq!(put["restore"], "c1/snap0");
        assert_eq!(put["config"], serde_json::Value::Null);
    }

    #[test]
    fn snapshot_path_escapes_the_snapshot_name() {
        assert_eq!(
            snapshot_path("c1", "a b"),
            "/1.0/instances/c1/snapshots/a%20b"
        );
    }
}
