//! Config maps and devices stored as key/value rows, shared by instances and their snapshots.

use std::collections::HashMap;

use lxd_api::{ConfigMap, DevicesMap};
use rusqlite::{params, Connection, ToSql};

use crate::error::DbError;

/// The tables holding one owner kind's config and devices.
pub(super) struct KvTables {
    /// `<config>(<owner>, key, value)`.
    pub config: &'static str,
    /// `<devices>(id, <owner>, name)`.
    pub devices: &'static str,
    /// `<devices_config>(device_id, key, value)`.
    pub devices_config: &'static str,
    /// The owner id column in `config` and `devices`.
    pub owner: &'static str,
}

pub(super) const INSTANCE: KvTables = KvTables {
    config: "instances_config",
    devices: "instances_devices",
    devices_config: "instances_devices_config",
    owner: "instance_id",
};

pub(super) const SNAPSHOT: KvTables = KvTables {
    config: "instances_snapshots_config",
    devices: "instances_snapshots_devices",
    devices_config: "instances_snapshots_devices_config",
    owner: "snapshot_id",
};

/// Config and devices of every owner whose id `owners` (a `SELECT id ...`) returns.
pub(super) fn read(
    conn: &Connection,
    t: &KvTables,
    owners: &str,
    args: &[&dyn ToSql],
) -> Result<HashMap<i64, (ConfigMap, DevicesMap)>, DbError> {
    let mut out: HashMap<i64, (ConfigMap, DevicesMap)> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {owner}, key, value FROM {config} WHERE {owner} IN ({owners})",
        owner = t.owner,
        config = t.config,
    ))?;
    let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    for row in rows {
        let (id, k, v): (i64, String, String) = row?;
        out.entry(id).or_default().0.insert(k, v);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT d.{owner}, d.name, c.key, c.value FROM {devices} d
         LEFT JOIN {devices_config} c ON c.device_id = d.id WHERE d.{owner} IN ({owners})",
        owner = t.owner,
        devices = t.devices,
        devices_config = t.devices_config,
    ))?;
    let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    for row in rows {
        let (id, dev, k, v): (i64, String, Option<String>, Option<String>) = row?;
        let keys = out.entry(id).or_default().1.entry(dev).or_default();
        if let (Some(k), Some(v)) = (k, v) {
            keys.insert(k, v);
        }
    }
    Ok(out)
}

/// Insert config rows for an owner that has none yet.
pub(super) fn write_config(
    conn: &Connection,
    t: &KvTables,
    id: i64,
    config: &ConfigMap,
) -> Result<(), DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO {} ({}, key, value) VALUES (?1, ?2, ?3)",
        t.config, t.owner
    ))?;
    for (k, v) in config {
        stmt.execute(params![id, k, v])?;
    }
    Ok(())
}

/// Insert device rows for an owner that has none yet.
pub(super) fn write_devices(
    conn: &Connection,
    t: &KvTables,
    id: i64,
    devices: &DevicesMap,
) -> Result<(), DbError> {
    let mut dev_stmt = conn.prepare_cached(&format!(
        "INSERT INTO {} ({}, name) VALUES (?1, ?2)",
        t.devices, t.owner
    ))?;
    let mut key_stmt = conn.prepare_cached(&format!(
        "INSERT INTO {} (device_id, key, value) VALUES (?1, ?2, ?3)",
        t.devices_config
    ))?;
    for (dev, keys) in devices {
        dev_stmt.execute(params![id, dev])?;
        let dev_id = conn.last_insert_rowid();
        for (k, v) in keys {
            key_stmt.execute(params![dev_id, k, v])?;
        }
    }
    Ok(())
}

/// Replace an owner's config and devices.
pub(super) fn replace(
    conn: &Connection,
    t: &KvTables,
    id: i64,
    config: &ConfigMap,
    devices: &DevicesMap,
) -> Result<(), DbError> {
    conn.prepare_cached(&format!("DELETE FROM {} WHERE {} = ?1", t.config, t.owner))?
        .execute([id])?;
    conn.prepare_cached(&format!("DELETE FROM {} WHERE {} = ?1", t.devices, t.owner))?
        .execute([id])?;
    write_config(conn, t, id, config)?;
    write_devices(conn, t, id, devices)
}
