//! Snapshot records and id maps as the migration header carries them: LXD's architecture
//! numbers, Unix seconds for dates (Go's zero time is -62135596800), config and devices as
//! key/value lists.

use lxd_db::instances::snapshots::SnapshotRow;
use lxd_shared::idmap::{IdmapEntry, IdmapSet};

use super::proto::{IdMapEntry, SnapshotInfo};

/// Unix seconds of Go's zero `time.Time`.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// LXD's architecture names by number (`shared/osarch`).
const ARCHITECTURES: &[(i32, &str)] = &[
    (1, "i686"),
    (2, "x86_64"),
    (3, "armv7l"),
    (4, "aarch64"),
    (5, "ppc"),
    (6, "ppc64"),
    (7, "ppc64le"),
    (8, "s390x"),
    (9, "mips"),
    (10, "mips64"),
    (11, "riscv32"),
    (12, "riscv64"),
    (13, "armv6l"),
    (14, "armv8l"),
];

/// LXD's number of an architecture name (0 when unknown).
pub fn architecture_id(name: &str) -> i32 {
    ARCHITECTURES
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(id, _)| *id)
        .unwrap_or(0)
}

/// The name of an architecture number (`unknown` as LXD prints it otherwise).
pub fn architecture_name(id: i32) -> String {
    ARCHITECTURES
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// RFC 3339 text → Unix seconds (Go's zero time for an empty or unparsable value).
pub fn unix_seconds(text: &str) -> i64 {
    crate::time::parse_go_time(text)
        .map(|t| t.timestamp())
        .unwrap_or(GO_ZERO_UNIX)
}

/// Unix seconds → RFC 3339 as LXD stores it; 0 and Go's zero time give the zero time.
pub fn rfc3339(secs: i64) -> String {
    if secs == 0 || secs == GO_ZERO_UNIX {
        return crate::time::ZERO.to_string();
    }
    chrono::DateTime::from_timestamp(secs, 0)
        .map(crate::time::go_rfc3339)
        .unwrap_or_else(|| crate::time::ZERO.to_string())
}

/// A snapshot record as the source's header describes it (LXD's `snapshotToProtobuf`).
pub fn snapshot_to_proto(row: &SnapshotRow) -> SnapshotInfo {
    SnapshotInfo {
        name: row.name.clone(),
        local_config: row
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        profiles: row.profiles.clone(),
        ephemeral: row.ephemeral,
        local_devices: row
            .devices
            .iter()
            .map(|(name, keys)| {
                (
                    name.clone(),
                    keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                )
            })
            .collect(),
        architecture: architecture_id(&row.architecture),
        stateful: row.stateful,
        creation_date: Some(unix_seconds(&row.created_at)),
        last_used_date: Some(GO_ZERO_UNIX),
        expiry_date: Some(unix_seconds(&row.expires_at)),
    }
}

/// The record a target writes for a received snapshot (LXD's
/// `snapshotProtobufToInstanceArgs`).
pub fn snapshot_from_proto(info: &SnapshotInfo) -> SnapshotRow {
    SnapshotRow {
        name: info.name.clone(),
        created_at: info
            .creation_date
            .filter(|s| *s != 0)
            .map(rfc3339)
            .unwrap_or_else(crate::time::now_rfc3339),
        expires_at: rfc3339(info.expiry_date.unwrap_or(0)),
        stateful: info.stateful,
        description: String::new(),
        architecture: architecture_name(info.architecture),
        ephemeral: info.ephemeral,
        config: info.local_config.iter().cloned().collect(),
        devices: info
            .local_devices
            .iter()
            .map(|(name, keys)| (name.clone(), keys.iter().cloned().collect()))
            .collect(),
        profiles: info.profiles.clone(),
    }
}

/// The id map a source's data is stored with, as the header carries it.
pub fn idmap_from_proto(entries: &[IdMapEntry]) -> Option<IdmapSet> {
    if entries.is_empty() {
        return None;
    }
    Some(IdmapSet::new(
        entries
            .iter()
            .map(|e| IdmapEntry {
                isuid: e.isuid,
                isgid: e.isgid,
                hostid: i64::from(e.hostid),
                nsid: i64::from(e.nsid),
                maprange: i64::from(e.maprange),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_round_trips_through_the_header_at_second_precision() {
        let row = SnapshotRow {
            name: "snap0".into(),
            created_at: "2024-03-01T10:20:30.123456Z".into(),
            expires_at: crate::time::ZERO.into(),
            architecture: "x86_64".into(),
            config: [("user.k".to_string(), "v".to_string())].into(),
            devices: [(
                "root".to_string(),
                [("type".to_string(), "disk".to_string())].into(),
            )]
            .into(),
            profiles: vec!["default".into()],
            ..Default::default()
        };
        let info = snapshot_to_proto(&row);
        assert_eq!(info.architecture, 2);
        assert_eq!(info.expiry_date, Some(GO_ZERO_UNIX));
        let back = snapshot_from_proto(&info);
        assert_eq!(back.created_at, "2024-03-01T10:20:30Z");
        assert_eq!(back.expires_at, crate::time::ZERO);
        assert_eq!(back.config, row.config);
        assert_eq!(back.devices, row.devices);
        assert_eq!(back.architecture, "x86_64");
    }

    #[test]
    fn idmap_entries_become_a_set() {
        assert!(idmap_from_proto(&[]).is_none());
        let set = idmap_from_proto(&[IdMapEntry {
            isuid: true,
            isgid: true,
            hostid: 100000,
            nsid: 0,
            maprange: 65536,
        }])
        .unwrap();
        assert_eq!(
            set.ns_to_host(lxd_shared::idmap::IdKind::Uid, 0),
            Some(100000)
        );
    }
}
