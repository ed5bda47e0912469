//! `lxc storage volume`: the clap tree of its sub-commands (5.0.2's flags and aliases) and
//! dispatch, plus the argument helpers they share (`[<remote>:]<pool>`, `type/name`,
//! `name/snapshot`). The verbs live in `cmd_storage_volume_*.rs`.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use lxd_client::Client;

use crate::cli::check_args;
use crate::global::Ctx;

/// Manage storage volumes
#[derive(Debug, Args)]
pub struct VolumeCmd {
    #[command(subcommand)]
    cmd: Option<VolumeSub>,
}

/// `--target` alone, which most sub-commands take.
#[derive(Debug, Args)]
pub struct TargetArgs {
    pub args: Vec<String>,
    /// Cluster member name
    #[arg(long, value_name = "")]
    pub target: Option<String>,
}

/// Flags of `copy` and `move`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    pub args: Vec<String>,
    /// Transfer mode. One of pull (default), push or relay.
    #[arg(long, value_name = "", default_value = "pull")]
    pub mode: String,
    /// Cluster member name
    #[arg(long, value_name = "")]
    pub target: Option<String>,
    /// Destination cluster member name
    #[arg(long, value_name = "")]
    pub destination_target: Option<String>,
    /// Copy the volume without its snapshots
    #[arg(long)]
    pub volume_only: bool,
    /// Copy to a project different from the source
    #[arg(long, value_name = "")]
    pub target_project: Option<String>,
    /// Refresh and update the existing storage volume copies
    #[arg(long)]
    pub refresh: bool,
}

/// Flags of `move` (no `--volume-only` or `--refresh` there).
#[derive(Debug, Args)]
pub struct MoveArgs {
    pub args: Vec<String>,
    /// Transfer mode, one of pull (default), push or relay
    #[arg(long, value_name = "", default_value = "pull")]
    pub mode: String,
    /// Cluster member name
    #[arg(long, value_name = "")]
    pub target: Option<String>,
    /// Destination cluster member name
    #[arg(long, value_name = "")]
    pub destination_target: Option<String>,
    /// Move to a project different from the source
    #[arg(long, value_name = "")]
    pub target_project: Option<String>,
}

/// Flags of `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    pub args: Vec<String>,
    /// All projects
    #[arg(long)]
    pub all_projects: bool,
    /// Columns
    #[arg(short, long, value_name = "", default_value = crate::cmd_storage_volume_list::DEFAULT_COLUMNS)]
    pub columns: String,
    /// Format (csv|json|table|yaml|compact)
    #[arg(short, long, value_name = "", default_value = "table")]
    pub format: String,
}

/// Sub-commands of `lxc storage volume`.
#[derive(Debug, Subcommand)]
enum VolumeSub {
    /// Attach new storage volumes to instances
    Attach { args: Vec<String> },
    /// Attach new storage volumes to profiles
    AttachProfile { args: Vec<String> },
    /// Copy storage volumes
    #[command(visible_alias = "cp")]
    Copy(CopyArgs),
    /// Create new custom storage volumes
    Create {
        args: Vec<String>,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
        /// Content type, block or filesystem
        #[arg(long = "type", value_name = "", default_value = "filesystem")]
        content_type: String,
    },
    /// Delete storage volumes
    #[command(visible_alias = "rm")]
    Delete(TargetArgs),
    /// Detach storage volumes from instances
    Detach { args: Vec<String> },
    /// Detach storage volumes from profiles
    DetachProfile { args: Vec<String> },
    /// Edit storage volume configurations as YAML
    Edit(TargetArgs),
    /// Export custom storage volume
    Export {
        args: Vec<String>,
        /// Define a compression algorithm: for backup or none
        #[arg(long, value_name = "")]
        compression: Option<String>,
        /// Use storage driver optimized format (can only be restored on a similar pool)
        #[arg(long)]
        optimized_storage: bool,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
        /// Export the volume without its snapshots
        #[arg(long)]
        volume_only: bool,
    },
    /// Get values for storage volume configuration keys
    Get(TargetArgs),
    /// Import custom storage volumes
    Import(TargetArgs),
    /// Show storage volume state information
    Info(TargetArgs),
    /// List storage volumes
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Move storage volumes between pools
    #[command(visible_alias = "mv")]
    Move(MoveArgs),
    /// Rename storage volumes and storage volume snapshots
    Rename(TargetArgs),
    /// Restore storage volume snapshots
    Restore(TargetArgs),
    /// Set storage volume configuration keys
    Set(TargetArgs),
    /// Show storage volume configurations
    Show(TargetArgs),
    /// Snapshot storage volumes
    Snapshot {
        args: Vec<String>,
        /// Ignore any configured auto-expiry for the storage volume
        #[arg(long)]
        no_expiry: bool,
        /// If the snapshot name already exists, delete and create a new one
        #[arg(long)]
        reuse: bool,
        /// Cluster member name
        #[arg(long, value_name = "")]
        target: Option<String>,
    },
    /// Unset storage volume configuration keys
    Unset(TargetArgs),
}

/// The help path of sub-command `verb`.
pub fn path(verb: &'static str) -> [&'static str; 3] {
    ["storage", "volume", verb]
}

/// lxc's `parseVolume`: `custom/v1`, `container/c1`, ... name a volume of that type; any other
/// name (even with a `/`) is a volume of `default` type. Returns `(name, type)`.
pub fn parse_volume(default: &str, name: &str) -> (String, String) {
    match name.split_once('/') {
        None => (name.to_string(), default.to_string()),
        Some((kind, rest))
            if ["custom", "image", "container", "virtual-machine"].contains(&kind) =>
        {
            (rest.to_string(), kind.to_string())
        }
        Some(_) => (name.to_string(), default.to_string()),
    }
}

/// lxc's `parseVolumeWithPool`: `pool/volume[/snap]` as `(volume, pool)`.
pub fn parse_volume_with_pool(name: &str) -> (String, String) {
    match name.split_once('/') {
        None => (name.to_string(), String::new()),
        Some((pool, rest)) => (rest.to_string(), pool.to_string()),
    }
}

/// `volume[/snapshot]`: `Some((volume, snapshot))` for a snapshot, `None` for a volume;
/// more than one `/` is "Invalid snapshot name".
pub fn split_snapshot(name: &str) -> Result<Option<(String, String)>> {
    let fields: Vec<&str> = name.split('/').collect();
    match fields.len() {
        1 => Ok(None),
        2 => Ok(Some((fields[0].to_string(), fields[1].to_string()))),
        _ => bail!("Invalid snapshot name"),
    }
}

/// Connects to the remote of `[<remote>:]<pool>`; an empty pool is `missing`'s error.
pub async fn pool_client(ctx: &Ctx, raw: &str, missing: &str) -> Result<(Client, String)> {
    let (client, pool) = ctx.resource(raw).await?;
    if pool.is_empty() {
        bail!("{missing}");
    }
    Ok((client, pool))
}

/// Connects for `[<remote>:]<pool>` with "Missing pool name" as the empty-pool error.
pub async fn pool(ctx: &Ctx, raw: &str) -> Result<(Client, String)> {
    pool_client(ctx, raw, "Missing pool name").await
}

/// The client addressing cluster member `target` when one is given (Go's `UseTarget`).
pub fn on_target(client: Client, target: &Option<String>) -> Client {
    match target.as_deref() {
        Some(t) if !t.is_empty() => client.with_target(t),
        _ => client,
    }
}

impl VolumeCmd {
    pub async fn run(self, ctx: Ctx) -> Result<()> {
        use crate::cmd_storage_volume_attach as attach;
        use crate::cmd_storage_volume_backup as backup;
        use crate::cmd_storage_volume_config as config;
        use crate::cmd_storage_volume_copy as copy;
        use crate::cmd_storage_volume_list as list;
        let Some(cmd) = self.cmd else {
            crate::cli::print_usage(&["storage", "volume"]);
            return Ok(());
        };
        match cmd {
            VolumeSub::Attach { args } => attach::attach(&ctx, &args, false).await,
            VolumeSub::AttachProfile { args } => attach::attach(&ctx, &args, true).await,
            VolumeSub::Detach { args } => attach::detach(&ctx, &args, false).await,
            VolumeSub::DetachProfile { args } => attach::detach(&ctx, &args, true).await,
            VolumeSub::Copy(a) => copy::copy(&ctx, a).await,
            VolumeSub::Move(a) => copy::move_volume(&ctx, a).await,
            VolumeSub::Rename(a) => copy::rename(&ctx, &a).await,
            VolumeSub::Create {
                args,
                target,
                content_type,
            } => config::create(&ctx, &args, &target, &content_type).await,
            VolumeSub::Delete(a) => config::delete(&ctx, &a).await,
            VolumeSub::Edit(a) => config::edit(&ctx, &a).await,
            VolumeSub::Get(a) => config::get(&ctx, &a).await,
            VolumeSub::Set(a) => config::set(&ctx, &a, "set").await,
            VolumeSub::Unset(mut a) => {
                if check_args(&path("unset"), &a.args, 3, Some(3))? {
                    return Ok(());
                }
                a.args.push(String::new());
                config::set(&ctx, &a, "unset").await
            }
            VolumeSub::Show(a) => config::show(&ctx, &a).await,
            VolumeSub::Snapshot {
                args,
                no_expiry,
                reuse,
                target,
            } => config::snapshot(&ctx, &args, no_expiry, reuse, &target).await,
            VolumeSub::Restore(a) => config::restore(&ctx, &a).await,
            VolumeSub::Info(a) => list::info(&ctx, &a).await,
            VolumeSub::List(a) => list::list(&ctx, &a).await,
            VolumeSub::Export {
                args,
                compression,
                optimized_storage,
                target,
                volume_only,
            } => {
                let flags = backup::ExportFlags {
                    compression,
                    optimized_storage,
                    target,
                    volume_only,
                };
                backup::export(&ctx, &args, &flags).await
            }
            VolumeSub::Import(a) => backup::import(&ctx, &a.args, &a.target).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_volume_known_type_prefix_is_split() {
        assert_eq!(
            parse_volume("custom", "container/c1"),
            ("c1".into(), "container".into())
        );
        assert_eq!(
            parse_volume("custom", "custom/v1/snap0"),
            ("v1/snap0".into(), "custom".into())
        );
    }

    #[test]
    fn parse_volume_other_prefix_stays_in_name() {
        assert_eq!(
            parse_volume("custom", "v1/snap0"),
            ("v1/snap0".into(), "custom".into())
        );
        assert_eq!(parse_volume("custom", "v1"), ("v1".into(), "custom".into()));
    }

    #[test]
    fn parse_volume_with_pool_without_slash_has_no_pool() {
        assert_eq!(parse_volume_with_pool("v1"), ("v1".into(), String::new()));
        assert_eq!(
            parse_volume_with_pool("p/v1/s"),
            ("v1/s".into(), "p".into())
        );
    }

    #[test]
    fn split_snapshot_two_slashes_is_invalid() {
        assert!(split_snapshot("a/b/c").is_err());
        assert_eq!(split_snapshot("a").unwrap(), None);
    }
}
