//! Snapshots of an instance: a frozen copy of its config, devices and profile names (names,
//! not references, so a snapshot survives later profile changes). Names are unique per
//! instance; deleting or renaming the instance carries its snapshots along.

use lxd_api::{ConfigMap, DevicesMap};
use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::kv;
use crate::error::{unique_as_exists, DbError};

/// A stored snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotRow {
    /// The snapshot's own name (without `instance/`).
    pub name: String,
    pub created_at: String,
    /// Go's zero time when it never expires.
    pub expires_at: String,
    pub stateful: bool,
    pub description: String,
    pub architecture: String,
    pub ephemeral: bool,
    pub config: ConfigMap,
    pub devices: DevicesMap,
    pub profiles: Vec<String>,
}

const OF_INSTANCE: &str = "s.instance_id = (SELECT i.id FROM instances i JOIN projects p
     ON p.id = i.project_id WHERE p.name = ?1 AND i.name = ?2)";

fn id(conn: &Connection, project: &str, instance: &str, name: &str) -> Result<i64, DbError> {
    super::id(conn, project, instance)?;
    conn.prepare_cached(&format!(
        "SELECT s.id FROM instances_snapshots s WHERE {OF_INSTANCE} AND s.name = ?3"
    ))?
    .query_row(params![project, instance, name], |r| r.get(0))
    .optional()?
    .ok_or(DbError::NotFound("Instance snapshot"))
}

/// Snapshots matching `filter` (SQL over `s`), oldest first.
fn load(conn: &Connection, filter: &str, args: &[&dyn ToSql]) -> Result<Vec<SnapshotRow>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT s.id, s.name, s.created_at, s.expires_at, s.stateful, s.description,
         s.architecture, s.ephemeral, s.profiles FROM instances_snapshots s
         WHERE {filter} ORDER BY s.id"
    ))?;
    let rows = stmt.query_map(args, |r| {
        let profiles: String = r.get(8)?;
        Ok((
            r.get::<_, i64>(0)?,
            SnapshotRow {
                name: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
                stateful: r.get(4)?,
                description: r.get(5)?,
                architecture: r.get(6)?,
                ephemeral: r.get(7)?,
                profiles: serde_json::from_str(&profiles).unwrap_or_default(),
                ..Default::default()
            },
        ))
    })?;
    let found: Vec<(i64, SnapshotRow)> = rows.collect::<Result<_, _>>()?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let owners = format!("SELECT s.id FROM instances_snapshots s WHERE {filter}");
    let mut kv = kv::read(conn, &kv::SNAPSHOT, &owners, args)?;
    Ok(found
        .into_iter()
        .map(|(id, mut row)| {
            if let Some((config, devices)) = kv.remove(&id) {
                row.config = config;
                row.devices = devices;
            }
            row
        })
        .collect())
}

/// Snapshot names of an instance, oldest first.
pub fn names(conn: &Connection, project: &str, instance: &str) -> Result<Vec<String>, DbError> {
    super::id(conn, project, instance)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT s.name FROM instances_snapshots s WHERE {OF_INSTANCE} ORDER BY s.id"
    ))?;
    let rows = stmt.query_map(params![project, instance], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every snapshot of an instance with its config and devices, oldest first.
pub fn list(conn: &Connection, project: &str, instance: &str) -> Result<Vec<SnapshotRow>, DbError> {
    super::id(conn, project, instance)?;
    load(conn, OF_INSTANCE, &[&project, &instance])
}

/// One snapshot.
pub fn get(
    conn: &Connection,
    project: &str,
    instance: &str,
    name: &str,
) -> Result<SnapshotRow, DbError> {
    let id = id(conn, project, instance, name)?;
    load(conn, "s.id = ?1", &[&id])?
        .pop()
        .ok_or(DbError::NotFound("Instance snapshot"))
}

/// Record a snapshot of `instance`.
pub fn create(
    conn: &Connection,
    project: &str,
    instance: &str,
    row: &SnapshotRow,
) -> Result<(), DbError> {
    let instance_id = super::id(conn, project, instance)?;
    let profiles = serde_json::to_string(&row.profiles).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT INTO instances_snapshots (instance_id, name, created_at, expires_at, stateful,
         description, architecture, ephemeral, profiles)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        instance_id,
        row.name,
        row.created_at,
        row.expires_at,
        row.stateful,
        row.description,
        row.architecture,
        row.ephemeral,
        profiles
    ])
    .map_err(unique_as_exists("snapshot"))?;
    let id = conn.last_insert_rowid();
    kv::write_config(conn, &kv::SNAPSHOT, id, &row.config)?;
    kv::write_devices(conn, &kv::SNAPSHOT, id, &row.devices)
}

/// Rename a snapshot.
pub fn rename(
    conn: &Connection,
    project: &str,
    instance: &str,
    old: &str,
    new: &str,
) -> Result<(), DbError> {
    let id = id(conn, project, instance, old)?;
    conn.prepare_cached("UPDATE instances_snapshots SET name = ?1 WHERE id = ?2")?
        .execute(params![new, id])
        .map_err(unique_as_exists("snapshot"))?;
    Ok(())
}

/// Change when a snapshot expires (the only writable field, `PUT` on a snapshot).
pub fn set_expiry(
    conn: &Connection,
    project: &str,
    instance: &str,
    name: &str,
    expires_at: &str,
) -> Result<(), DbError> {
    let id = id(conn, project, instance, name)?;
    conn.prepare_cached("UPDATE instances_snapshots SET expires_at = ?1 WHERE id = ?2")?
        .execute(params![expires_at, id])?;
    Ok(())
}

/// Delete a snapshot with its config and devices.
pub fn delete(conn: &Connection, project: &str, instance: &str, name: &str) -> Result<(), DbError> {
    let id = id(conn, project, instance, name)?;
    conn.prepare_cached("DELETE FROM instances_snapshots WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A snapshot that has an expiry date: `(project, instance, snapshot, expires_at)`.
pub type Expiring = (String, String, String, String);

/// Every snapshot, in every project, whose `expires_at` is not Go's zero time.
pub fn expiring(conn: &Connection) -> Result<Vec<Expiring>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.name, i.name, s.name, s.expires_at FROM instances_snapshots s
         JOIN instances i ON i.id = s.instance_id JOIN projects p ON p.id = i.project_id
         WHERE s.expires_at != '' AND s.expires_at != '0001-01-01T00:00:00Z' ORDER BY s.id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
