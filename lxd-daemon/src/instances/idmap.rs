//! Id maps of unprivileged containers: the host's range (LXD's rule: the first `root` entry
//! of `/etc/subuid` and `/etc/subgid` with at least 65536 ids, else 1000000:1000000000) and
//! each container's map from its `security.idmap.*` and `raw.idmap` keys, recorded as LXD
//! records them: `volatile.idmap.next` and `.base` at create and when those keys change,
//! `volatile.idmap.current` at start.
//!
//! `security.idmap.isolated` blocks are allocated past those of every other isolated
//! container; callers hold [`allocation_lock`] from the computation until the keys are
//! written, so two allocations never pick the same block.

use lxd_api::ConfigMap;
use lxd_runtime::container::{IdMaps, IdRange};
use lxd_shared::idmap::{self, HostIdSources, IdKind, IdmapConfig, IdmapError, IdmapSet};

use crate::state::AppState;

/// Keys whose change means a new map (LXD's `Update` list).
pub const MAP_KEYS: &[&str] = &[
    "security.idmap.isolated",
    "security.idmap.base",
    "security.idmap.size",
    "raw.idmap",
    "security.privileged",
];

static ALLOCATION: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Serialises map allocations until their keys are recorded.
pub async fn allocation_lock() -> tokio::sync::MutexGuard<'static, ()> {
    ALLOCATION.lock().await
}

/// The host's id map, read from `/etc` and `/proc/self`.
pub fn host_idmap() -> Result<IdmapSet, IdmapError> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let (subuid, subgid) = (read("/etc/subuid"), read("/etc/subgid"));
    let (uid_map, gid_map) = (read("/proc/self/uid_map"), read("/proc/self/gid_map"));
    let sources = HostIdSources {
        subuid: subuid.as_deref(),
        subgid: subgid.as_deref(),
        proc_uid_map: uid_map.as_deref(),
        proc_gid_map: gid_map.as_deref(),
    };
    idmap::default_idmap(&sources, "root")
}

/// The isolated blocks of every unprivileged container but `project`/`name`.
fn blocks_in_use(
    state: &AppState,
    host: &IdmapSet,
    project: &str,
    name: &str,
) -> Result<Vec<idmap::IsolatedBlock>, IdmapError> {
    let all = state
        .db
        .read(lxd_db::instances::all_names)
        .unwrap_or_default();
    let mut blocks = Vec::new();
    for (p, n) in all {
        if p == project && n == name {
            continue;
        }
        let Ok(row) = state.db.read(|c| lxd_db::instances::get(c, &p, &n)) else {
            continue;
        };
        let Ok((config, _)) = crate::handlers::instances::store::expand(state, &p, &row) else {
            continue;
        };
        if super::spec::privileged(&config) {
            continue;
        }
        let cfg = IdmapConfig::from_lookup(|k| config.get(k).map(String::as_str));
        let base = config.get("volatile.idmap.base").map_or("", String::as_str);
        if let Some(block) = idmap::IsolatedBlock::of_container(host, &cfg, base)? {
            blocks.push(block);
        }
    }
    Ok(blocks)
}

/// LXD's `findIdmap` for instance `name` of `project` with expanded `config`: its map
/// (`None` for a privileged container) and `volatile.idmap.base`. The map is also checked as
/// the kernel will check it, so overlapping entries are refused here rather than at start.
pub fn next_idmap(
    state: &AppState,
    project: &str,
    name: &str,
    config: &ConfigMap,
) -> Result<(Option<IdmapSet>, i64), IdmapError> {
    if super::spec::privileged(config) {
        return Ok((None, 0));
    }
    let host = host_idmap()?;
    let cfg = IdmapConfig::from_lookup(|k| config.get(k).map(String::as_str));
    let others = if cfg.isolated() && cfg.base.is_empty() {
        blocks_in_use(state, &host, project, name)?
    } else {
        Vec::new()
    };
    let (set, base) = idmap::find_idmap(&host, &cfg, &others)?;
    set.validate()?;
    Ok((Some(set), base))
}

/// `volatile.idmap.next` and `.base` for a map from [`next_idmap`].
pub fn next_keys(next: Option<&IdmapSet>, base: i64) -> ConfigMap {
    [
        (
            "volatile.idmap.next".to_string(),
            next.map_or_else(|| "[]".to_string(), IdmapSet::to_json),
        ),
        ("volatile.idmap.base".to_string(), base.to_string()),
    ]
    .into()
}

/// The keys a new instance starts with (LXD's create): its next map and base, and
/// `volatile.last_state.idmap` = `[]` (a fresh rootfs holds the container's own ids) unless
/// `config` already says how the rootfs is stored (a local copy keeps the source's).
pub fn create_keys(
    state: &AppState,
    project: &str,
    name: &str,
    expanded: &ConfigMap,
) -> Result<ConfigMap, IdmapError> {
    let (next, base) = next_idmap(state, project, name, expanded)?;
    let mut keys = next_keys(next.as_ref(), base);
    if !expanded.contains_key("volatile.last_state.idmap") {
        keys.insert("volatile.last_state.idmap".into(), "[]".into());
    }
    Ok(keys)
}

/// Whether any key of [`MAP_KEYS`] differs between two expanded configs.
pub fn map_keys_changed(old: &ConfigMap, new: &ConfigMap) -> bool {
    MAP_KEYS.iter().any(|k| old.get(*k) != new.get(*k))
}

/// Parse a stored `volatile.idmap.*` value (`[]` or absent: no map).
pub fn stored(config: &ConfigMap, key: &str) -> Result<Option<IdmapSet>, IdmapError> {
    match config.get(key) {
        Some(json) => IdmapSet::from_json(json),
        None => Ok(None),
    }
}

/// The runtime's form of a map.
pub fn to_runtime(set: &IdmapSet) -> IdMaps {
    let ranges = |kind: IdKind| {
        let mut out: Vec<IdRange> = Vec::new();
        for e in set.entries.iter().filter(|e| e.covers(kind)) {
            let range = IdRange {
                nsid: e.nsid as u32,
                hostid: e.hostid as u32,
                range: e.maprange as u32,
            };
            // A `both` entry that split two ranges appears twice (LXD's AddSafe).
            if !out.contains(&range) {
                out.push(range);
            }
        }
        out
    };
    IdMaps {
        uid: ranges(IdKind::Uid),
        gid: ranges(IdKind::Gid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lxd_shared::idmap::IdmapEntry;

    #[test]
    fn to_runtime_duplicate_both_entries_written_once() {
        let hole = IdmapEntry::both(1000, 1000, 1);
        let set = IdmapSet::new(vec![
            IdmapEntry::uid(100_000, 0, 1000),
            hole,
            IdmapEntry::uid(101_001, 1001, 5000),
            IdmapEntry::gid(100_000, 0, 1000),
            hole,
            IdmapEntry::gid(101_001, 1001, 5000),
        ]);
        let maps = to_runtime(&set);
        assert_eq!(maps.uid.len(), 3);
        assert_eq!(maps.gid.len(), 3);
        assert_eq!(IdMaps::render(&maps.uid), set.uid_map());
    }

    #[test]
    fn next_keys_and_change_detection() {
        let keys = next_keys(None, 0);
        assert_eq!(keys["volatile.idmap.next"], "[]");
        assert_eq!(keys["volatile.idmap.base"], "0");
        let old: ConfigMap = [("raw.idmap".to_string(), "both 1000 1000".to_string())].into();
        let mut new = old.clone();
        assert!(!map_keys_changed(&old, &new));
        new.insert("security.idmap.isolated".into(), "true".into());
        assert!(map_keys_changed(&old, &new));
        new.remove("security.idmap.isolated");
        new.insert("limits.memory".into(), "1GB".into());
        assert!(!map_keys_changed(&old, &new));
    }
}
