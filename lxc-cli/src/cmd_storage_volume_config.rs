//! `lxc storage volume` create, delete, show, get, set/unset, edit, snapshot and restore, with
//! lxc 5.0.2's argument checks, messages and YAML.

use anyhow::{bail, Result};
use lxd_api::storage_volume::{
    StorageVolumePut, StorageVolumeSnapshotPut, StorageVolumeSnapshotsPost, StorageVolumesPost,
};
use serde_json::Value;

use crate::cli::check_args;
use crate::cmd_storage_volume::{on_target, parse_volume, path, pool, split_snapshot, TargetArgs};
use crate::global::Ctx;
use crate::go_yaml::Schema;
use crate::yaml::{sort_maps_at, to_yaml_with_times};

/// `api.StorageVolumePut` as `edit` decodes it.
const STORAGE_VOLUME_PUT: Schema = Schema::Struct(
    "api.StorageVolumePut",
    &[
        ("config", Schema::Map(&Schema::Str)),
        ("description", Schema::Str),
        ("restore", Schema::Str),
    ],
);

/// `api.StorageVolumeSnapshotPut` as `edit` decodes it.
const STORAGE_VOLUME_SNAPSHOT_PUT: Schema = Schema::Struct(
    "api.StorageVolumeSnapshotPut",
    &[("description", Schema::Str), ("expires_at", Schema::Any)],
);

/// The comment block lxc 5.0.2 puts above a volume in the editor (its typo included).
const EDIT_HELP: &str = "### This is a YAML representation of a storage volume.
### Any line starting with a '# will be ignored.
###
### A storage volume consists of a set of configuration items.
###
### name: vol1
### type: custom
### used_by: []
### config:
###   size: \"61203283968\"";

/// Keys yaml.v2 writes as `time.Time`.
const TIME_KEYS: &[&str] = &["created_at", "expires_at"];

/// A volume or snapshot as `show` prints it: Go struct order, config sorted as yaml.v2 does.
pub fn volume_yaml<T: serde::Serialize>(v: &T) -> String {
    let mut value = serde_json::to_value(v).unwrap_or_default();
    sort_maps_at(&mut value, &["config"]);
    to_yaml_with_times(&value, TIME_KEYS)
}

/// `create [<remote>:]<pool> <volume> [key=value...]`.
pub async fn create(
    ctx: &Ctx,
    args: &[String],
    target: &Option<String>,
    content_type: &str,
) -> Result<()> {
    if check_args(&path("create"), args, 2, None)? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let (name, kind) = parse_volume("custom", &args[1]);
    let mut vol = StorageVolumesPost {
        name,
        kind,
        content_type: content_type.to_string(),
        ..Default::default()
    };
    for entry in &args[2..] {
        let Some((k, v)) = entry.split_once('=') else {
            bail!("Bad key=value pair: [{entry}]");
        };
        vol.config.insert(k.into(), v.into());
    }
    let client = on_target(client, target);
    client.create_storage_pool_volume(&pool, &vol).await?;
    if !ctx.flags.quiet {
        println!("Storage volume {} created", args[1]);
    }
    Ok(())
}

/// `delete [<remote>:]<pool> <volume>[/<snapshot>]`.
pub async fn delete(ctx: &Ctx, a: &TargetArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("delete"), args, 2, Some(2))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let (name, kind) = parse_volume("custom", &args[1]);
    let client = on_target(client, &a.target);
    match name.split_once('/') {
        Some((vol, snap)) => {
            client
                .delete_storage_pool_volume_snapshot(&pool, &kind, vol, snap)
                .await?
        }
        None => {
            client
                .delete_storage_pool_volume(&pool, &kind, &name)
                .await?
        }
    }
    if !ctx.flags.quiet {
        println!("Storage volume {} deleted", args[1]);
    }
    Ok(())
}

/// `show [<remote>:]<pool> <volume>[/<snapshot>]`.
pub async fn show(ctx: &Ctx, a: &TargetArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("show"), args, 2, Some(2))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let (name, kind) = parse_volume("custom", &args[1]);
    let snapshot = split_snapshot(&name)?;
    let client = on_target(client, &a.target);
    if let Some((vol, snap)) = snapshot {
        let (s, _) = client
            .get_storage_pool_volume_snapshot(&pool, &kind, &vol, &snap)
            .await?;
        print!("{}", volume_yaml(&s));
        return Ok(());
    }
    let (mut vol, _) = client.get_storage_pool_volume(&pool, &kind, &name).await?;
    if let Some(u) = vol.used_by.as_mut() {
        u.sort();
    }
    print!("{}", volume_yaml(&vol));
    Ok(())
}

/// `get [<remote>:]<pool> <volume>[/<snapshot>] <key>`.
pub async fn get(ctx: &Ctx, a: &TargetArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("get"), args, 3, Some(3))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let (name, kind) = parse_volume("custom", &args[1]);
    let snapshot = split_snapshot(&name)?;
    let client = on_target(client, &a.target);
    let config = match snapshot {
        Some((vol, snap)) => {
            client
                .get_storage_pool_volume_snapshot(&pool, &kind, &vol, &snap)
                .await?
                .0
                .config
        }
        None => {
            client
                .get_storage_pool_volume(&pool, &kind, &name)
                .await?
                .0
                .config
        }
    };
    if let Some(v) = config.get(&args[2]) {
        println!("{v}");
    }
    Ok(())
}

/// `set [<remote>:]<pool> <volume> <key>=<value>...`; `unset` comes here with `""` appended.
pub async fn set(ctx: &Ctx, a: &TargetArgs, verb: &'static str) -> Result<()> {
    let args = &a.args;
    if check_args(&path(verb), args, 3, None)? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let keys = crate::kv::parse_key_values(&args[2..])?;
    let (name, kind) = parse_volume("custom", &args[1]);
    if split_snapshot(&name)?.is_some() {
        bail!("Snapshots are read-only and can't have their configuration changed");
    }
    let client = on_target(client, &a.target);
    let (vol, etag) = client.get_storage_pool_volume(&pool, &kind, &name).await?;
    let mut put = vol.writable();
    put.config.extend(keys);
    client
        .update_storage_pool_volume(&pool, &vol.kind, &vol.name, &put, &etag)
        .await?;
    Ok(())
}

/// `edit [<remote>:]<pool> <volume>[/<snapshot>]`: YAML from stdin, or the editor loop.
pub async fn edit(ctx: &Ctx, a: &TargetArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("edit"), args, 2, Some(2))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let (name, kind) = parse_volume("custom", &args[1]);
    let snapshot = split_snapshot(&name)?;
    if !crate::editor::stdin_is_terminal() {
        // As in lxc 5.0.2, `--target` is applied only to the interactive path.
        let text = crate::editor::read_stdin()?;
        if let Some((vol, snap)) = snapshot {
            let put: StorageVolumeSnapshotPut =
                crate::editor::decode_yaml(&text, STORAGE_VOLUME_SNAPSHOT_PUT)?;
            client
                .update_storage_pool_volume_snapshot(&pool, &kind, &vol, &snap, &put, "")
                .await?;
            return Ok(());
        }
        let put: StorageVolumePut = crate::editor::decode_yaml(&text, STORAGE_VOLUME_PUT)?;
        client
            .update_storage_pool_volume(&pool, &kind, &name, &put, "")
            .await?;
        return Ok(());
    }
    let client = on_target(client, &a.target);
    if let Some((vol, snap)) = snapshot {
        let (s, etag) = client
            .get_storage_pool_volume_snapshot(&pool, &kind, &vol, &snap)
            .await?;
        return crate::editor::edit_loop(EDIT_HELP, &volume_yaml(&s), |text| {
            let (client, pool, kind, vol, snap, etag) = (
                client.clone(),
                pool.clone(),
                kind.clone(),
                vol.clone(),
                snap.clone(),
                etag.clone(),
            );
            async move {
                let put: StorageVolumeSnapshotPut =
                    crate::editor::decode_yaml(&text, STORAGE_VOLUME_SNAPSHOT_PUT)?;
                client
                    .update_storage_pool_volume_snapshot(&pool, &kind, &vol, &snap, &put, &etag)
                    .await?;
                Ok(())
            }
        })
        .await;
    }
    let (vol, etag) = client.get_storage_pool_volume(&pool, &kind, &name).await?;
    crate::editor::edit_loop(EDIT_HELP, &volume_yaml(&vol), |text| {
        let (client, pool, kind, name, etag) = (
            client.clone(),
            pool.clone(),
            kind.clone(),
            name.clone(),
            etag.clone(),
        );
        async move {
            let put: StorageVolumePut = crate::editor::decode_yaml(&text, STORAGE_VOLUME_PUT)?;
            client
                .update_storage_pool_volume(&pool, &kind, &name, &put, &etag)
                .await?;
            Ok(())
        }
    })
    .await
}

/// `snapshot [<remote>:]<pool> <volume> [<snapshot>]` with `--no-expiry` and `--reuse`.
pub async fn snapshot(
    ctx: &Ctx,
    args: &[String],
    no_expiry: bool,
    reuse: bool,
    target: &Option<String>,
) -> Result<()> {
    if check_args(&path("snapshot"), args, 2, Some(3))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let client = on_target(client, target);
    let (name, kind) = parse_volume("custom", &args[1]);
    if kind != "custom" {
        bail!("Only \"custom\" volumes can be snapshotted");
    }
    client.get_storage_pool_volume(&pool, &kind, &name).await?;
    let snap = args.get(2).cloned().unwrap_or_default();
    let req = StorageVolumeSnapshotsPost {
        name: snap.clone(),
        expires_at: no_expiry.then(|| "0001-01-01T00:00:00Z".to_string()),
    };
    if reuse && !snap.is_empty() {
        let exists = client
            .get_storage_pool_volume_snapshot(&pool, &kind, &name, &snap)
            .await
            .is_ok();
        if exists {
            client
                .delete_storage_pool_volume_snapshot(&pool, &kind, &name, &snap)
                .await?;
        }
    }
    client
        .create_storage_pool_volume_snapshot(&pool, &kind, &name, &req)
        .await?;
    Ok(())
}

/// `restore [<remote>:]<pool> <volume> <snapshot>`: always a custom volume, as in 5.0.2.
pub async fn restore(ctx: &Ctx, a: &TargetArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("restore"), args, 3, Some(3))? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let client = on_target(client, &a.target);
    client
        .get_storage_pool_volume(&pool, "custom", &args[1])
        .await?;
    let (_, etag) = client
        .get_storage_pool_volume(&pool, "custom", &args[1])
        .await?;
    // Go sends a `StorageVolumePut` holding only `Restore`: its nil config goes as `null`.
    let body: Value = serde_json::json!({"config": null, "description": "", "restore": args[2]});
    client
        .update_storage_pool_volume_raw(&pool, "custom", &args[1], &body, &etag)
        .await?;
    Ok(())
}
