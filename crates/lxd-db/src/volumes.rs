//! Storage volumes (per pool, project and type) and their snapshots, each with config.
//!
//! Only volumes the daemon creates through the volumes API (`custom`) are stored; instance and
//! image volumes are derived from their own records. Snapshots are keyed by their volume.

use lxd_api::ConfigMap;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{unique_as_exists, DbError};

/// A stored volume.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeRow {
    pub name: String,
    /// `custom` (the only type stored today).
    pub vol_type: String,
    pub description: String,
    /// `filesystem` or `block`.
    pub content_type: String,
    pub created_at: String,
    pub config: ConfigMap,
}

/// A stored volume snapshot (`name` is the snapshot's own name, without its volume's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeSnapshotRow {
    pub name: String,
    pub description: String,
    pub created_at: String,
    /// RFC 3339, LXD's zero time when the snapshot never expires.
    pub expires_at: String,
    pub config: ConfigMap,
}

/// Where a volume is: pool, project, type and name.
#[derive(Debug, Clone, Copy)]
pub struct VolumeKey<'a> {
    pub pool: &'a str,
    pub project: &'a str,
    pub vol_type: &'a str,
    pub name: &'a str,
}

const NOT_FOUND: DbError = DbError::NotFound("Storage volume");

fn volume_id(conn: &Connection, key: VolumeKey<'_>) -> Result<i64, DbError> {
    conn.prepare_cached(
        "SELECT v.id FROM storage_volumes v
         JOIN storage_pools p ON p.id = v.pool_id JOIN projects j ON j.id = v.project_id
         WHERE p.name = ?1 AND j.name = ?2 AND v.type = ?3 AND v.name = ?4",
    )?
    .query_row(
        params![key.pool, key.project, key.vol_type, key.name],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(NOT_FOUND)
}

fn config_of(conn: &Connection, sql: &str, id: i64) -> Result<ConfigMap, DbError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn volume_config(conn: &Connection, id: i64) -> Result<ConfigMap, DbError> {
    config_of(
        conn,
        "SELECT key, value FROM storage_volumes_config WHERE volume_id = ?1",
        id,
    )
}

fn write_volume_config(conn: &Connection, id: i64, config: &ConfigMap) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM storage_volumes_config WHERE volume_id = ?1",
        [id],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO storage_volumes_config (volume_id, key, value) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in config {
        stmt.execute(params![id, k, v])?;
    }
    Ok(())
}

/// The volumes of a pool as `(project, row)`, in one project or all, sorted by project, type
/// and name.
pub fn list(
    conn: &Connection,
    pool: &str,
    project: Option<&str>,
) -> Result<Vec<(String, VolumeRow)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.id, j.name, v.name, v.type, v.description, v.content_type, v.created_at
         FROM storage_volumes v
         JOIN storage_pools p ON p.id = v.pool_id JOIN projects j ON j.id = v.project_id
         WHERE p.name = ?1 AND (?2 IS NULL OR j.name = ?2)
         ORDER BY j.name, v.type, v.name",
    )?;
    let rows = stmt
        .query_map(params![pool, project], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                VolumeRow {
                    name: r.get(2)?,
                    vol_type: r.get(3)?,
                    description: r.get(4)?,
                    content_type: r.get(5)?,
                    created_at: r.get(6)?,
                    config: ConfigMap::new(),
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, project, mut row)| {
            row.config = volume_config(conn, id)?;
            Ok((project, row))
        })
        .collect()
}

/// One volume.
pub fn get(conn: &Connection, key: VolumeKey<'_>) -> Result<VolumeRow, DbError> {
    let id = volume_id(conn, key)?;
    let (description, content_type, created_at) = conn
        .prepare_cached(
            "SELECT description, content_type, created_at FROM storage_volumes WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(VolumeRow {
        name: key.name.to_string(),
        vol_type: key.vol_type.to_string(),
        description,
        content_type,
        created_at,
        config: volume_config(conn, id)?,
    })
}

/// Create a volume in `pool` and `project`.
pub fn create(
    conn: &Connection,
    pool: &str,
    project: &str,
    row: &VolumeRow,
) -> Result<(), DbError> {
    let pool_id = crate::pools::id(conn, pool)?;
    let project_id = crate::projects::id(conn, project)?;
    conn.execute(
        "INSERT INTO storage_volumes
         (pool_id, project_id, name, type, description, content_type, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            pool_id,
            project_id,
            row.name,
            row.vol_type,
            row.description,
            row.content_type,
            row.created_at
        ],
    )
    .map_err(unique_as_exists("storage volume"))?;
    write_volume_config(conn, conn.last_insert_rowid(), &row.config)
}

/// Replace a volume's description and config.
pub fn update(
    conn: &Connection,
    key: VolumeKey<'_>,
    description: &str,
    config: &ConfigMap,
) -> Result<(), DbError> {
    let id = volume_id(conn, key)?;
    conn.execute(
        "UPDATE storage_volumes SET description = ?1 WHERE id = ?2",
        params![description, id],
    )?;
    write_volume_config(conn, id, config)
}

/// Give a volume (with its snapshots) a new name, pool and project.
pub fn relocate(
    conn: &Connection,
    key: VolumeKey<'_>,
    pool: &str,
    project: &str,
    name: &str,
) -> Result<(), DbError> {
    let id = volume_id(conn, key)?;
    let pool_id = crate::pools::id(conn, pool)?;
    let project_id = crate::projects::id(conn, project)?;
    conn.execute(
        "UPDATE storage_volumes SET pool_id = ?1, project_id = ?2, name = ?3 WHERE id = ?4",
        params![pool_id, project_id, name, id],
    )
    .map_err(unique_as_exists("storage volume"))?;
    Ok(())
}

/// Delete a volume and its snapshots.
pub fn delete(conn: &Connection, key: VolumeKey<'_>) -> Result<(), DbError> {
    let id = volume_id(conn, key)?;
    conn.execute("DELETE FROM storage_volumes WHERE id = ?1", [id])?;
    Ok(())
}

fn snapshot_id(conn: &Connection, key: VolumeKey<'_>, snap: &str) -> Result<i64, DbError> {
    let vol = volume_id(conn, key)?;
    conn.prepare_cached(
        "SELECT id FROM storage_volumes_snapshots WHERE volume_id = ?1 AND name = ?2",
    )?
    .query_row(params![vol, snap], |r| r.get(0))
    .optional()?
    .ok_or(DbError::NotFound("Storage volume snapshot"))
}

fn snapshot_config(conn: &Connection, id: i64) -> Result<ConfigMap, DbError> {
    config_of(
        conn,
        "SELECT key, value FROM storage_volumes_snapshots_config WHERE snapshot_id = ?1",
        id,
    )
}

/// A volume's snapshots, oldest first.
pub fn snapshots(conn: &Connection, key: VolumeKey<'_>) -> Result<Vec<VolumeSnapshotRow>, DbError> {
    let vol = volume_id(conn, key)?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, description, created_at, expires_at FROM storage_volumes_snapshots
         WHERE volume_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([vol], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                VolumeSnapshotRow {
                    name: r.get(1)?,
                    description: r.get(2)?,
                    created_at: r.get(3)?,
                    expires_at: r.get(4)?,
                    config: ConfigMap::new(),
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, mut row)| {
            row.config = snapshot_config(conn, id)?;
            Ok(row)
        })
        .collect()
}

/// One snapshot.
pub fn snapshot(
    conn: &Connection,
    key: VolumeKey<'_>,
    snap: &str,
) -> Result<VolumeSnapshotRow, DbError> {
    let id = snapshot_id(conn, key, snap)?;
    let (description, created_at, expires_at) = conn
        .prepare_cached(
            "SELECT description, created_at, expires_at FROM storage_volumes_snapshots
             WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(VolumeSnapshotRow {
        name: snap.to_string(),
        description,
        created_at,
        expires_at,
        config: snapshot_config(conn, id)?,
    })
}

/// Record a snapshot of a volume.
pub fn create_snapshot(
    conn: &Connection,
    key: VolumeKey<'_>,
    row: &VolumeSnapshotRow,
) -> Result<(), DbError> {
    let vol = volume_id(conn, key)?;
    conn.execute(
        "INSERT INTO storage_volumes_snapshots
         (volume_id, name, description, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            vol,
            row.name,
            row.description,
            row.created_at,
            row.expires_at
        ],
    )
    .map_err(unique_as_exists("storage volume snapshot"))?;
    let id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO storage_volumes_snapshots_config (snapshot_id, key, value)
         VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in &row.config {
        stmt.execute(params![id, k, v])?;
    }
    Ok(())
}

/// Change a snapshot's description and expiry.
pub fn update_snapshot(
    conn: &Connection,
    key: VolumeKey<'_>,
    snap: &str,
    description: &str,
    expires_at: &str,
) -> Result<(), DbError> {
    let id = snapshot_id(conn, key, snap)?;
    conn.execute(
        "UPDATE storage_volumes_snapshots SET description = ?1, expires_at = ?2 WHERE id = ?3",
        params![description, expires_at, id],
    )?;
    Ok(())
}

/// Rename a snapshot.
pub fn rename_snapshot(
    conn: &Connection,
    key: VolumeKey<'_>,
    old: &str,
    new: &str,
) -> Result<(), DbError> {
    let id = snapshot_id(conn, key, old)?;
    conn.execute(
        "UPDATE storage_volumes_snapshots SET name = ?1 WHERE id = ?2",
        params![new, id],
    )
    .map_err(unique_as_exists("storage volume snapshot"))?;
    Ok(())
}

/// Delete a snapshot.
pub fn delete_snapshot(conn: &Connection, key: VolumeKey<'_>, snap: &str) -> Result<(), DbError> {
    let id = snapshot_id(conn, key, snap)?;
    conn.execute("DELETE FROM storage_volumes_snapshots WHERE id = ?1", [id])?;
    Ok(())
}
