//! `lxc export` (create a backup expiring in a day, download it to a file or `-`, delete it)
//! and `lxc import` (upload a backup tarball as a new instance, `-s` for the pool).

use anyhow::{anyhow, Result};
use clap::Args;
use serde_json::json;

use crate::cli::check_args;
use crate::global::Ctx;
use crate::progress::{done_shared, update_shared, ProgressRenderer};

/// Export instance backups
#[derive(Debug, Args)]
pub struct ExportCmd {
    args: Vec<String>,
    /// Compression algorithm to use (none for uncompressed)
    #[arg(long, value_name = "")]
    compression: Option<String>,
    /// Whether or not to only backup the instance (without snapshots)
    #[arg(long)]
    instance_only: bool,
    /// Use storage driver optimized format (can only be restored on a similar pool)
    #[arg(long)]
    optimized_storage: bool,
}

/// Import instance backups
#[derive(Debug, Args)]
pub struct ImportCmd {
    args: Vec<String>,
    /// Storage pool name
    #[arg(short, long, value_name = "")]
    storage: Option<String>,
}

impl ExportCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["export"], &self.args, 1, Some(2))? {
            return Ok(());
        }
        let (client, name) = ctx.resource(&self.args[0]).await?;
        let expires = chrono::Utc::now() + chrono::Duration::hours(24);
        let req = json!({
            "name": "", "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            "instance_only": self.instance_only, "container_only": self.instance_only,
            "optimized_storage": self.optimized_storage,
            "compression_algorithm": self.compression.clone().unwrap_or_default(),
        });
        let op = client
            .create_instance_backup(&name, &req)
            .await
            .map_err(|e| anyhow!("Create instance backup: {e}"))?;
        let mut quiet = ctx.flags.quiet;
        let mut progress = ProgressRenderer::new("Backing up instance: ", quiet);
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
        let target = self
            .args
            .get(1)
            .cloned()
            .unwrap_or_else(|| "backup.tar.gz".into());
        let res = async {
            let mut out: Box<dyn std::io::Write> = if target == "-" {
                quiet = true;
                Box::new(std::io::stdout())
            } else {
                Box::new(std::fs::File::create(&target)?)
            };
            let progress = ProgressRenderer::shared("Exporting the backup: ", quiet);
            let p = progress.clone();
            let handler: lxd_client::progress::ProgressFn = Box::new(move |t| update_shared(&p, t));
            if let Err(e) = client
                .get_instance_backup_file(&name, &backup, &mut out, Some(handler))
                .await
            {
                if target != "-" {
                    let _ = std::fs::remove_file(&target);
                }
                done_shared(&progress, "");
                return Err(anyhow!("Fetch instance backup file: {e}"));
            }
            out.flush()
                .map_err(|e| anyhow!("Failed to close export file: {e}"))?;
            done_shared(&progress, "Backup exported successfully!");
            Ok(())
        }
        .await;
        if let Ok(op) = client.delete_instance_backup(&name, &backup).await {
            let _ = client.wait_operation(&op.id).await;
        }
        res
    }
}

impl ImportCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        if check_args(&["import"], &self.args, 1, Some(3))? {
            return Ok(());
        }
        let mut pos = 0;
        let mut remote = "";
        if self.args.len() > 1 && self.args[0].ends_with(':') {
            remote = &self.args[0];
            pos = 1;
        }
        let src = self.args.get(pos).cloned().unwrap_or_default();
        let name = self.args.get(pos + 1).cloned().unwrap_or_default();
        let (client, _) = ctx.resource(remote).await?;
        let mut quiet = ctx.flags.quiet;
        let file = if src == "-" {
            quiet = true;
            let mut tmp = tempfile_in_memory()?;
            std::io::copy(&mut std::io::stdin(), &mut tmp)?;
            use std::io::Seek;
            tmp.rewind()?;
            tmp
        } else {
            std::fs::File::open(&src)
                .map_err(|e| anyhow!("open {src}: {}", crate::cmd_file::io_text(&e)))?
        };
        let progress = ProgressRenderer::shared("Importing instance: ", quiet);
        let p = progress.clone();
        let handler: lxd_client::progress::ProgressFn = Box::new(move |t| update_shared(&p, t));
        let pool = self.storage.clone().unwrap_or_default();
        // Like lxc, a refused upload leaves the progress line as it is.
        let op = client
            .create_instance_from_backup(file, &pool, &name, Some(handler))
            .await?;
        let res = client.wait_operation(&op.id).await;
        done_shared(&progress, "");
        res.map(|_| ()).map_err(Into::into)
    }
}

/// An anonymous temporary file (stdin is buffered there so its size is known).
fn tempfile_in_memory() -> Result<std::fs::File> {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("lxc_import_{}", std::process::id()));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    let _ = std::fs::remove_file(&path);
    Ok(f)
}
