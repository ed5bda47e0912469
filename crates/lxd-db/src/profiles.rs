//! Profiles with their config and devices.

use std::collections::BTreeMap;

use lxd_api::{ConfigMap, DevicesMap};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{unique_as_exists, DbError};
use crate::projects;

/// A stored profile (without `used_by`, which the daemon derives).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileRow {
    pub name: String,
    pub description: String,
    pub config: ConfigMap,
    pub devices: DevicesMap,
}

/// The project whose profiles `project` uses (itself if it has `features.profiles`).
pub fn effective_project(conn: &Connection, project: &str) -> Result<String, DbError> {
    let row = projects::get(conn, project)?;
    let own = row
        .config
        .get("features.profiles")
        .map(|v| v == "true")
        .unwrap_or(false);
    Ok(if own || project == "default" {
        project.to_string()
    } else {
        "default".to_string()
    })
}

fn profile_id(conn: &Connection, project: &str, name: &str) -> Result<i64, DbError> {
    conn.prepare_cached(
        "SELECT profiles.id FROM profiles JOIN projects ON projects.id = profiles.project_id
         WHERE projects.name = ?1 AND profiles.name = ?2",
    )?
    .query_row(params![project, name], |r| r.get(0))
    .optional()?
    .ok_or(DbError::NotFound("Profile"))
}

/// Profile names of a project, in creation order as LXD lists them.
pub fn names(conn: &Connection, project: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT profiles.name FROM profiles JOIN projects ON projects.id = profiles.project_id
         WHERE projects.name = ?1 ORDER BY profiles.name",
    )?;
    let rows = stmt.query_map([project], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One profile.
pub fn get(conn: &Connection, project: &str, name: &str) -> Result<ProfileRow, DbError> {
    let id = profile_id(conn, project, name)?;
    let description: String = conn
        .prepare_cached("SELECT description FROM profiles WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    let mut config = BTreeMap::new();
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM profiles_config WHERE profile_id = ?1")?;
    for row in stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (k, v) = row?;
        config.insert(k, v);
    }
    let mut devices: DevicesMap = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT d.name, c.key, c.value FROM profiles_devices d
         LEFT JOIN profiles_devices_config c ON c.device_id = d.id WHERE d.profile_id = ?1",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    for row in rows {
        let (dev, key, value) = row?;
        let entry = devices.entry(dev).or_default();
        if let (Some(k), Some(v)) = (key, value) {
            entry.insert(k, v);
        }
    }
    Ok(ProfileRow {
        name: name.to_string(),
        description,
        config,
        devices,
    })
}

/// Create a profile.
pub fn create(conn: &Connection, project: &str, row: &ProfileRow) -> Result<(), DbError> {
    let pid = projects::id(conn, project)?;
    conn.execute(
        "INSERT INTO profiles (project_id, name, description) VALUES (?1, ?2, ?3)",
        params![pid, row.name, row.description],
    )
    .map_err(unique_as_exists("profile"))?;
    write_body(conn, conn.last_insert_rowid(), row)
}

/// Replace a profile's description, config and devices.
pub fn update(conn: &Connection, project: &str, row: &ProfileRow) -> Result<(), DbError> {
    let id = profile_id(conn, project, &row.name)?;
    conn.execute(
        "UPDATE profiles SET description = ?1 WHERE id = ?2",
        params![row.description, id],
    )?;
    conn.execute("DELETE FROM profiles_config WHERE profile_id = ?1", [id])?;
    conn.execute("DELETE FROM profiles_devices WHERE profile_id = ?1", [id])?;
    write_body(conn, id, row)
}

/// Rename a profile.
pub fn rename(conn: &Connection, project: &str, old: &str, new: &str) -> Result<(), DbError> {
    let id = profile_id(conn, project, old)?;
    conn.execute(
        "UPDATE profiles SET name = ?1 WHERE id = ?2",
        params![new, id],
    )
    .map_err(unique_as_exists("profile"))?;
    Ok(())
}

/// Delete a profile.
pub fn delete(conn: &Connection, project: &str, name: &str) -> Result<(), DbError> {
    let id = profile_id(conn, project, name)?;
    conn.execute("DELETE FROM profiles WHERE id = ?1", [id])?;
    Ok(())
}

fn write_body(conn: &Connection, id: i64, row: &ProfileRow) -> Result<(), DbError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO profiles_config (profile_id, key, value) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in &row.config {
        stmt.execute(params![id, k, v])?;
    }
    for (dev, keys) in &row.devices {
        conn.execute(
            "INSERT INTO profiles_devices (profile_id, name) VALUES (?1, ?2)",
            params![id, dev],
        )?;
        let dev_id = conn.last_insert_rowid();
        let mut stmt = conn.prepare_cached(
            "INSERT INTO profiles_devices_config (device_id, key, value) VALUES (?1, ?2, ?3)",
        )?;
        for (k, v) in keys {
            stmt.execute(params![dev_id, k, v])?;
        }
    }
    Ok(())
}
