//! `lxc storage volume export|import`: a custom volume (with or without its snapshots) as a
//! backup tarball and back, through the custom volume backups API, with lxc 5.0.2's progress
//! lines and messages.

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use crate::cli::check_args;
use crate::cmd_file::io_text;
use crate::cmd_storage_volume::{on_target, parse_volume, path};
use crate::global::Ctx;
use crate::progress::{done_shared, update_shared, ProgressRenderer};

/// Flags of `export`.
pub struct ExportFlags {
    pub compression: Option<String>,
    pub optimized_storage: bool,
    pub target: Option<String>,
    pub volume_only: bool,
}

/// `export [<remote>:]<pool> <volume> [<path>]` (default `backup.tar.gz`).
pub async fn export(ctx: &Ctx, args: &[String], f: &ExportFlags) -> Result<()> {
    if check_args(&path("export"), args, 2, Some(3))? {
        return Ok(());
    }
    let (client, pool) = ctx.resource(&args[0]).await?;
    let client = on_target(client, &f.target);
    let (volume, kind) = parse_volume("custom", &args[1]);
    if kind != "custom" {
        bail!("Only \"custom\" volumes can be exported");
    }
    let expires = chrono::Utc::now() + chrono::Duration::hours(24);
    let req = json!({
        "name": "",
        "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        "volume_only": f.volume_only,
        "optimized_storage": f.optimized_storage,
        "compression_algorithm": f.compression.clone().unwrap_or_default(),
    });
    let op = client
        .create_storage_pool_volume_backup(&pool, &volume, &req)
        .await
        .map_err(|e| anyhow!("Failed to create storage volume backup: {e}"))?;
    let quiet = ctx.flags.quiet;
    let mut progress = ProgressRenderer::new("Backing up storage volume: ", quiet);
    let res = client
        .wait_operation_with_progress(&op.id, |t| progress.update(t))
        .await;
    progress.done("");
    let op = res?;
    let backup = op
        .resources
        .as_ref()
        .and_then(|r| r.get("backups"))
        .and_then(|l| l.first())
        .map(|b| b.trim_start_matches("/1.0/backups/").to_string())
        .unwrap_or_default();
    let target = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "backup.tar.gz".into());
    let res = async {
        let mut out = std::fs::File::create(&target)
            .map_err(|e| anyhow!("open {target}: {}", io_text(&e)))?;
        let progress = ProgressRenderer::shared("Exporting the backup: ", quiet);
        let p = progress.clone();
        let handler: lxd_client::progress::ProgressFn = Box::new(move |t| update_shared(&p, t));
        if let Err(e) = client
            .get_storage_pool_volume_backup_file(&pool, &volume, &backup, &mut out, Some(handler))
            .await
        {
            let _ = std::fs::remove_file(&target);
            done_shared(&progress, "");
            return Err(anyhow!("Failed to fetch storage volume backup file: {e}"));
        }
        done_shared(&progress, "Backup exported successfully!");
        Ok(())
    }
    .await;
    if let Ok(op) = client
        .delete_storage_pool_volume_backup(&pool, &volume, &backup)
        .await
    {
        let _ = client.wait_operation(&op.id).await;
    }
    res
}

/// `import [<remote>:]<pool> <backup file> [<volume name>]`.
pub async fn import(ctx: &Ctx, args: &[String], target: &Option<String>) -> Result<()> {
    if check_args(&path("import"), args, 2, Some(3))? {
        return Ok(());
    }
    let (client, pool) = ctx.resource(&args[0]).await?;
    let client = on_target(client, target);
    let file =
        std::fs::File::open(&args[1]).map_err(|e| anyhow!("open {}: {}", args[1], io_text(&e)))?;
    let name = args.get(2).cloned().unwrap_or_default();
    let progress = ProgressRenderer::shared("Importing custom volume: ", ctx.flags.quiet);
    let p = progress.clone();
    let handler: lxd_client::progress::ProgressFn = Box::new(move |t| update_shared(&p, t));
    // Like lxc, a refused upload leaves the progress line as it is.
    let op = client
        .create_storage_pool_volume_from_backup(&pool, file, &name, Some(handler))
        .await?;
    let res = client.wait_operation(&op.id).await;
    done_shared(&progress, "");
    res.map(|_| ()).map_err(Into::into)
}
