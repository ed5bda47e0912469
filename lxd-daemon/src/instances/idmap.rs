//! Id maps of unprivileged containers: the host's range (LXD's rule: the first `root` entry
//! of `/etc/subuid` and `/etc/subgid` with at least 65536 ids, else 1000000:1000000000) and
//! each container's map from its `security.idmap.*` and `raw.idmap` keys.

use lxd_runtime::container::{IdMaps, IdRange};
use lxd_shared::idmap::{self, HostIdSources, IdKind, IdmapConfig, IdmapSet};

/// The host's id map, read from `/etc` and `/proc/self`.
pub fn host_idmap() -> Result<IdmapSet, idmap::IdmapError> {
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

/// A container's map from its expanded config (`others`: isolated blocks already in use).
pub fn container_idmap(
    config: &lxd_api::ConfigMap,
    others: &[idmap::IsolatedBlock],
) -> Result<(IdmapSet, i64), idmap::IdmapError> {
    let host = host_idmap()?;
    let cfg = IdmapConfig::from_lookup(|k| config.get(k).map(String::as_str));
    idmap::find_idmap(&host, &cfg, others)
}

/// The runtime's form of a map.
pub fn to_runtime(set: &IdmapSet) -> IdMaps {
    let ranges = |kind: IdKind| {
        set.entries
            .iter()
            .filter(|e| e.covers(kind))
            .map(|e| IdRange {
                nsid: e.nsid as u32,
                hostid: e.hostid as u32,
                range: e.maprange as u32,
            })
            .collect()
    };
    IdMaps {
        uid: ranges(IdKind::Uid),
        gid: ranges(IdKind::Gid),
    }
}
