//! Projects and their config.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{unique_as_exists, DbError};

/// A stored project.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRow {
    pub name: String,
    pub description: String,
    pub config: BTreeMap<String, String>,
}

/// The id of a project by name.
pub fn id(conn: &Connection, name: &str) -> Result<i64, DbError> {
    conn.prepare_cached("SELECT id FROM projects WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
        .ok_or(DbError::NotFound("Project"))
}

/// Project names, sorted.
pub fn names(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached("SELECT name FROM projects ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One project.
pub fn get(conn: &Connection, name: &str) -> Result<ProjectRow, DbError> {
    let (pid, description): (i64, String) = conn
        .prepare_cached("SELECT id, description FROM projects WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or(DbError::NotFound("Project"))?;
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM projects_config WHERE project_id = ?1")?;
    let config = stmt
        .query_map([pid], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(ProjectRow {
        name: name.to_string(),
        description,
        config,
    })
}

/// Create a project with its own `default` profile.
pub fn create(conn: &Connection, row: &ProjectRow) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO projects (name, description) VALUES (?1, ?2)",
        params![row.name, row.description],
    )
    .map_err(unique_as_exists("project"))?;
    let pid = conn.last_insert_rowid();
    write_config(conn, pid, &row.config)?;
    conn.execute(
        "INSERT INTO profiles (project_id, name, description) VALUES (?1, 'default', ?2)",
        params![pid, format!("Default LXD profile for project {}", row.name)],
    )?;
    Ok(())
}

/// Replace a project's description and config.
pub fn update(conn: &Connection, row: &ProjectRow) -> Result<(), DbError> {
    let pid = id(conn, &row.name)?;
    conn.execute(
        "UPDATE projects SET description = ?1 WHERE id = ?2",
        params![row.description, pid],
    )?;
    conn.execute("DELETE FROM projects_config WHERE project_id = ?1", [pid])?;
    write_config(conn, pid, &row.config)
}

/// Rename a project.
pub fn rename(conn: &Connection, old: &str, new: &str) -> Result<(), DbError> {
    let n = conn
        .execute(
            "UPDATE projects SET name = ?1 WHERE name = ?2",
            params![new, old],
        )
        .map_err(unique_as_exists("project"))?;
    if n == 0 {
        return Err(DbError::NotFound("Project"));
    }
    Ok(())
}

/// Delete a project and everything it owns.
pub fn delete(conn: &Connection, name: &str) -> Result<(), DbError> {
    if conn.execute("DELETE FROM projects WHERE name = ?1", [name])? == 0 {
        return Err(DbError::NotFound("Project"));
    }
    Ok(())
}

fn write_config(
    conn: &Connection,
    pid: i64,
    config: &BTreeMap<String, String>,
) -> Result<(), DbError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO projects_config (project_id, key, value) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in config {
        stmt.execute(params![pid, k, v])?;
    }
    Ok(())
}
