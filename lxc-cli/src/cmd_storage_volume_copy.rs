//! `lxc storage volume` copy, move and rename. As lxc 5.0.2 does, `move` is a copy followed by
//! deleting the source (its client never takes the server-side move path, since the source and
//! destination servers are always distinct objects after `UseTarget`). Copies between two
//! different remotes (migration) are not implemented by this client.

use anyhow::{anyhow, bail, Result};
use lxd_api::storage_volume::{StorageVolumePost, StorageVolumeSource, StorageVolumesPost};

use crate::cli::check_args;
use crate::cmd_storage_volume::{on_target, parse_volume, parse_volume_with_pool, path, pool};
use crate::cmd_storage_volume::{split_snapshot, CopyArgs, MoveArgs, TargetArgs};
use crate::global::Ctx;
use crate::progress::ProgressRenderer;

/// Go's `api.GetParentAndSnapshotName`: `(parent, snapshot, is_snapshot)`.
fn parent_and_snapshot(name: &str) -> (String, String, bool) {
    match name.split_once('/') {
        Some((p, s)) => (p.to_string(), s.to_string(), true),
        None => (name.to_string(), String::new(), false),
    }
}

/// `copy [<remote>:]<pool>/<volume>[/<snapshot>] [<remote>:]<pool>/<volume>`.
pub async fn copy(ctx: &Ctx, a: CopyArgs) -> Result<()> {
    if check_args(&path("copy"), &a.args, 2, Some(2))? {
        return Ok(());
    }
    transfer(ctx, &a, false).await
}

/// `move`: `copy` without `--volume-only`/`--refresh`, then the source is deleted.
pub async fn move_volume(ctx: &Ctx, m: MoveArgs) -> Result<()> {
    if check_args(&path("move"), &m.args, 2, Some(2))? {
        return Ok(());
    }
    let a = CopyArgs {
        args: m.args,
        mode: m.mode,
        target: m.target,
        destination_target: m.destination_target,
        volume_only: false,
        target_project: m.target_project,
        refresh: false,
    };
    transfer(ctx, &a, true).await
}

async fn transfer(ctx: &Ctx, a: &CopyArgs, is_move: bool) -> Result<()> {
    let (src_remote, src_path) = ctx.conf.parse_remote(&a.args[0])?;
    let (dst_remote, dst_path) = ctx.conf.parse_remote(&a.args[1])?;
    let src_client = ctx.connect(&src_remote).await?;
    let dst_client = if dst_remote == src_remote {
        src_client.clone()
    } else {
        ctx.connect(&dst_remote).await?
    };
    if src_path.is_empty() {
        bail!("Missing source volume name");
    }
    let target = a.target.clone().filter(|t| !t.is_empty());
    let mut src = on_target(src_client, &target);
    let (src_name, src_pool) = parse_volume_with_pool(&src_path);
    if src_pool.is_empty() {
        bail!("No storage pool for source volume specified");
    }
    let (dst_name, dst_pool) = parse_volume_with_pool(&dst_path);
    if dst_pool.is_empty() {
        bail!("No storage pool for target volume specified");
    }
    // `--mode` only matters for migrations between remotes, which this client refuses below.
    let (op_prefix, final_msg) = if is_move {
        (
            "Moving the storage volume: ",
            "Storage volume moved successfully!",
        )
    } else {
        (
            "Copying the storage volume: ",
            "Storage volume copied successfully!",
        )
    };

    let (parent, snap, is_snap) = parent_and_snapshot(&src_name);
    let (mut vol, _) = src
        .get_storage_pool_volume(&src_pool, "custom", &parent)
        .await?;
    if is_snap {
        let (s, _) = src
            .get_storage_pool_volume_snapshot(&src_pool, "custom", &parent, &snap)
            .await?;
        vol.name = src_name.clone();
        vol.config = s.config;
        vol.description = s.description;
    }

    let destination_target = a.destination_target.clone().filter(|t| !t.is_empty());
    if src_remote != dst_remote {
        if destination_target.is_some() {
            bail!("Cannot use ---destination-target when copying to another remote");
        }
        bail!("Copying storage volumes between remotes is not implemented in this client");
    }
    let mut dst = dst_client.with_target(
        destination_target
            .as_deref()
            .unwrap_or(vol.location.as_str()),
    );
    if target.is_none() {
        src = src.with_target(&vol.location);
    }
    let src_project = src.project().unwrap_or("default").to_string();
    if let Some(p) = a.target_project.as_deref().filter(|p| !p.is_empty()) {
        dst = dst.with_project(p);
    }
    let dst_project = dst.project().unwrap_or("default").to_string();

    let req = StorageVolumesPost {
        config: vol.config.clone(),
        description: vol.description.clone(),
        name: dst_name,
        kind: vol.kind.clone(),
        source: StorageVolumeSource {
            name: vol.name.clone(),
            kind: "copy".into(),
            pool: src_pool.clone(),
            volume_only: a.volume_only,
            refresh: a.refresh,
            project: if src_project != dst_project {
                src_project
            } else {
                String::new()
            },
            ..Default::default()
        },
        content_type: vol.content_type.clone(),
        ..Default::default()
    };
    let op = dst.copy_storage_pool_volume(&dst_pool, &req).await?;
    let mut progress = ProgressRenderer::new(op_prefix, ctx.flags.quiet);
    if let Some(op) = op {
        if let Err(e) = dst
            .wait_operation_with_progress(&op.id, |t| progress.update(t))
            .await
        {
            progress.done("");
            return Err(e.into());
        }
    }
    if is_move {
        let deleted = if is_snap {
            src.delete_storage_pool_volume_snapshot(&src_pool, &vol.kind, &parent, &snap)
                .await
        } else {
            src.delete_storage_pool_volume(&src_pool, &vol.kind, &src_name)
                .await
        };
        if let Err(e) = deleted {
            progress.done("");
            return Err(anyhow!("Failed deleting source volume after copy: {e}"));
        }
    }
    progress.done(final_msg);
    Ok(())
}

/// `rename [<remote>:]<pool> <old name>[/<old snapshot>] <new name>[/<new snapshot>]`.
pub async fn rename(ctx: &Ctx, a: &TargetArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("rename"), args, 3, Some(3))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let (name, kind) = parse_volume("custom", &args[1]);
    if let Some((vol, snap)) = split_snapshot(&name)? {
        let (dst_parent, dst_snap, dst_is_snap) = parent_and_snapshot(&args[2]);
        if dst_parent != vol {
            bail!("Invalid new snapshot name, parent volume must be the same as source");
        }
        if !dst_is_snap {
            bail!("Invalid new snapshot name");
        }
        let client = on_target(client, &a.target);
        client
            .rename_storage_pool_volume_snapshot(&pool, &kind, &vol, &snap, &dst_snap)
            .await?;
        // lxc 5.0.2 prints this one even with --quiet.
        println!("Renamed storage volume from \"{name}\" to \"{dst_snap}\"");
        return Ok(());
    }
    let client = on_target(client, &a.target);
    let post = StorageVolumePost {
        name: args[2].clone(),
        ..Default::default()
    };
    if let Some(op) = client
        .post_storage_pool_volume(&pool, &kind, &name, &post)
        .await?
    {
        client.wait_operation(&op.id).await?;
    }
    if !ctx.flags.quiet {
        println!("Renamed storage volume from \"{name}\" to \"{}\"", args[2]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_and_snapshot_splits_at_first_slash() {
        assert_eq!(
            parent_and_snapshot("v1/s1"),
            ("v1".into(), "s1".into(), true)
        );
        assert_eq!(
            parent_and_snapshot("v1"),
            ("v1".into(), String::new(), false)
        );
    }
}
