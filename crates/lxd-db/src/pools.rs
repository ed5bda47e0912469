//! Storage pools and their config.

use lxd_api::ConfigMap;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{unique_as_exists, DbError};

/// A stored pool (without `used_by`, which the daemon derives).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolRow {
    pub name: String,
    pub driver: String,
    pub description: String,
    pub status: String,
    pub config: ConfigMap,
}

/// The id of a pool by name.
pub fn id(conn: &Connection, name: &str) -> Result<i64, DbError> {
    pool_id(conn, name)
}

fn pool_id(conn: &Connection, name: &str) -> Result<i64, DbError> {
    conn.prepare_cached("SELECT id FROM storage_pools WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
        .ok_or(DbError::NotFound("Storage pool"))
}

/// Pool names, sorted.
pub fn names(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached("SELECT name FROM storage_pools ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The distinct drivers of existing pools, sorted.
pub fn drivers(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT driver FROM storage_pools ORDER BY driver")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One pool.
pub fn get(conn: &Connection, name: &str) -> Result<PoolRow, DbError> {
    let (id, driver, description, status): (i64, String, String, String) = conn
        .prepare_cached(
            "SELECT id, driver, description, status FROM storage_pools WHERE name = ?1",
        )?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?
        .ok_or(DbError::NotFound("Storage pool"))?;
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM storage_pools_config WHERE pool_id = ?1")?;
    let config = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(PoolRow {
        name: name.to_string(),
        driver,
        description,
        status,
        config,
    })
}

/// Create a pool.
pub fn create(conn: &Connection, row: &PoolRow) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO storage_pools (name, driver, description, status) VALUES (?1, ?2, ?3, ?4)",
        params![row.name, row.driver, row.description, row.status],
    )
    .map_err(unique_as_exists("storage pool"))?;
    write_config(conn, conn.last_insert_rowid(), row)
}

/// Replace a pool's description and config.
pub fn update(conn: &Connection, row: &PoolRow) -> Result<(), DbError> {
    let id = pool_id(conn, &row.name)?;
    conn.execute(
        "UPDATE storage_pools SET description = ?1, status = ?2 WHERE id = ?3",
        params![row.description, row.status, id],
    )?;
    conn.execute("DELETE FROM storage_pools_config WHERE pool_id = ?1", [id])?;
    write_config(conn, id, row)
}

/// Delete a pool.
pub fn delete(conn: &Connection, name: &str) -> Result<(), DbError> {
    let id = pool_id(conn, name)?;
    conn.execute("DELETE FROM storage_pools WHERE id = ?1", [id])?;
    Ok(())
}

fn write_config(conn: &Connection, id: i64, row: &PoolRow) -> Result<(), DbError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO storage_pools_config (pool_id, key, value) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in &row.config {
        stmt.execute(params![id, k, v])?;
    }
    Ok(())
}
