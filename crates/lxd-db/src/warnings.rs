//! Warnings: recorded once per (project, type, entity) and counted on repeats.

use lxd_api::Warning;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::DbError;

const COLUMNS: &str = "status, uuid, project, type, count, first_seen_at, last_seen_at, last_message, severity, entity_url";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Warning> {
    Ok(Warning {
        status: r.get(0)?,
        uuid: r.get(1)?,
        location: "none".to_string(),
        project: r.get(2)?,
        kind: r.get(3)?,
        count: r.get::<_, i64>(4)? as u64,
        first_seen_at: r.get(5)?,
        last_seen_at: r.get(6)?,
        last_message: r.get(7)?,
        severity: r.get(8)?,
        entity_url: r.get(9)?,
    })
}

/// Record a warning, or bump its count and message if it is already known.
pub fn upsert(
    conn: &Connection,
    uuid: &str,
    kind: &str,
    message: &str,
    now: &str,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO warnings (uuid, type, last_message, first_seen_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (project, type, entity_url) DO UPDATE SET
           count = count + 1, last_message = excluded.last_message,
           last_seen_at = excluded.last_seen_at",
        params![uuid, kind, message, now],
    )?;
    Ok(())
}

/// All warnings, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Warning>, DbError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM warnings ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One warning by UUID.
pub fn get(conn: &Connection, uuid: &str) -> Result<Warning, DbError> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM warnings WHERE uuid = ?1"))?
        .query_row([uuid], from_row)
        .optional()?
        .ok_or(DbError::NotFound("Warning"))
}

/// Set a warning's status (`new`, `acknowledged`, `resolved`).
pub fn set_status(conn: &Connection, uuid: &str, status: &str) -> Result<(), DbError> {
    if conn.execute(
        "UPDATE warnings SET status = ?1 WHERE uuid = ?2",
        params![status, uuid],
    )? == 0
    {
        return Err(DbError::NotFound("Warning"));
    }
    Ok(())
}

/// Delete a warning.
pub fn delete(conn: &Connection, uuid: &str) -> Result<(), DbError> {
    if conn.execute("DELETE FROM warnings WHERE uuid = ?1", [uuid])? == 0 {
        return Err(DbError::NotFound("Warning"));
    }
    Ok(())
}
