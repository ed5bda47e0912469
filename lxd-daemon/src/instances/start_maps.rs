//! The id-map part of a start (LXD's `startCommon`): the map the container gets
//! (`volatile.idmap.next`, computed now for records made before it was kept), the rootfs
//! brought to it (idmapped mount, or shifted on disk; see [`super::shift`]), and
//! `volatile.idmap.current` / `volatile.last_state.idmap` recorded at once, before init runs,
//! since the disk has changed whether or not the start then succeeds.

use std::path::Path;

use lxd_api::ConfigMap;
use lxd_runtime::container::IdMaps;
use lxd_shared::config::values::parse_bool;
use lxd_shared::idmap::IdmapSet;

use super::idmap::{allocation_lock, create_keys, next_idmap, next_keys, stored, to_runtime};
use super::shift::{host_root, prepare_rootfs};
use crate::state::AppState;

/// What the runtime spec and the templates need from the maps.
#[derive(Debug, Clone)]
pub struct StartMaps {
    /// The user namespace maps; `None` runs privileged.
    pub idmap: Option<IdMaps>,
    /// The rootfs is stored shifted (bind it, no idmapped mount).
    pub shifted: bool,
    /// The owner files created for the container's root get on disk (templates).
    pub root_owner: (u32, u32),
}

/// Which instance, and its expanded config (with its own `volatile.*` keys).
pub struct StartTarget<'a> {
    pub project: &'a str,
    pub name: &'a str,
    pub expanded: &'a ConfigMap,
}

/// The next map stored for the instance, or a new one (recorded with its base) when none is
/// stored or it no longer fits `security.privileged`.
async fn next_map(state: &AppState, target: &StartTarget<'_>) -> Result<Option<IdmapSet>, String> {
    let privileged = super::spec::privileged(target.expanded);
    if target.expanded.contains_key("volatile.idmap.next") {
        let next = stored(target.expanded, "volatile.idmap.next").map_err(|e| e.to_string())?;
        if next.is_none() == privileged {
            return Ok(next);
        }
    }
    let _guard = allocation_lock().await;
    let keys = if target.expanded.contains_key("volatile.idmap.base") {
        let (next, base) = next_idmap(state, target.project, target.name, target.expanded)
            .map_err(|e| format!("Failed to get ID map: {e}"))?;
        next_keys(next.as_ref(), base)
    } else {
        create_keys(state, target.project, target.name, target.expanded)
            .map_err(|e| format!("Failed to get ID map: {e}"))?
    };
    let next = keys
        .get("volatile.idmap.next")
        .map(|json| IdmapSet::from_json(json))
        .transpose()
        .map_err(|e| e.to_string())?
        .flatten();
    record(state, target, keys).await?;
    Ok(next)
}

async fn record(state: &AppState, target: &StartTarget<'_>, keys: ConfigMap) -> Result<(), String> {
    let (p, n) = (target.project.to_string(), target.name.to_string());
    state
        .db
        .write(move |c| lxd_db::instances::set_config_keys(c, &p, &n, &keys))
        .await
        .map_err(|e| e.to_string())
}

/// Bring the rootfs at `rootfs` to the container's map and record the maps.
pub async fn prepare(
    state: &AppState,
    target: StartTarget<'_>,
    rootfs: &Path,
) -> Result<StartMaps, String> {
    let next = next_map(state, &target).await?;
    let disk = stored(target.expanded, "volatile.last_state.idmap").map_err(|e| e.to_string())?;
    let protected = target
        .expanded
        .get("security.protection.shift")
        .and_then(|v| parse_bool(v))
        .unwrap_or(false);
    let disk_state = prepare_rootfs(
        &state.facts,
        rootfs,
        next.as_ref(),
        disk.as_ref(),
        protected,
    )
    .await
    .map_err(|e| format!("Failed to handle idmapped storage: {e}"))?;
    let current = next
        .as_ref()
        .map_or_else(|| "[]".to_string(), IdmapSet::to_json);
    let mut keys: ConfigMap = [("volatile.idmap.current".to_string(), current)].into();
    if let Some(last) = disk_state.last_state {
        keys.insert("volatile.last_state.idmap".into(), last);
    }
    record(state, &target, keys).await?;
    let root_owner = match (&next, disk_state.shifted) {
        (Some(next), true) => host_root(next).unwrap_or((0, 0)),
        _ => (0, 0),
    };
    Ok(StartMaps {
        idmap: next.as_ref().map(to_runtime),
        shifted: disk_state.shifted,
        root_owner,
    })
}
