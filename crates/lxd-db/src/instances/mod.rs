//! Instances with their config, devices and ordered profiles; snapshots live in
//! [`snapshots`]. Rows hold only what the user or LXD stored (local config and devices);
//! expanded values are computed with [`expand`] from the instance's profiles.

mod kv;
pub mod snapshots;

use std::collections::HashMap;

use lxd_api::{ConfigMap, DevicesMap};
use rusqlite::{params, Connection, OptionalExtension, ToSql};

use crate::error::{unique_as_exists, DbError};
use crate::profiles::{self, ProfileRow};
use crate::projects;

/// A stored instance (name unique within its project).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceRow {
    pub name: String,
    /// `container` or `virtual-machine`.
    pub kind: String,
    pub architecture: String,
    pub ephemeral: bool,
    pub stateful: bool,
    pub description: String,
    pub created_at: String,
    pub last_used_at: String,
    /// Local config (not expanded).
    pub config: ConfigMap,
    /// Local devices (not expanded).
    pub devices: DevicesMap,
    /// Profile names in the order they apply.
    pub profiles: Vec<String>,
}

const FROM: &str = "FROM instances i JOIN projects p ON p.id = i.project_id";

/// The id of an instance.
pub(crate) fn id(conn: &Connection, project: &str, name: &str) -> Result<i64, DbError> {
    conn.prepare_cached(&format!(
        "SELECT i.id {FROM} WHERE p.name = ?1 AND i.name = ?2"
    ))?
    .query_row(params![project, name], |r| r.get(0))
    .optional()?
    .ok_or(DbError::NotFound("Instance"))
}

/// Instances matching `filter` (SQL over `i` and `p`), sorted by name, in four queries.
fn load(conn: &Connection, filter: &str, args: &[&dyn ToSql]) -> Result<Vec<InstanceRow>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.id, i.name, i.type, i.architecture, i.ephemeral, i.stateful, i.description,
         i.created_at, i.last_used_at {FROM} WHERE {filter} ORDER BY i.name"
    ))?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            InstanceRow {
                name: r.get(1)?,
                kind: r.get(2)?,
                architecture: r.get(3)?,
                ephemeral: r.get(4)?,
                stateful: r.get(5)?,
                description: r.get(6)?,
                created_at: r.get(7)?,
                last_used_at: r.get(8)?,
                ..Default::default()
            },
        ))
    })?;
    let mut found: Vec<(i64, InstanceRow)> = rows.collect::<Result<_, _>>()?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let owners = format!("SELECT i.id {FROM} WHERE {filter}");
    let mut kv = kv::read(conn, &kv::INSTANCE, &owners, args)?;
    let mut profiles: HashMap<i64, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ip.instance_id, pr.name FROM instances_profiles ip
         JOIN profiles pr ON pr.id = ip.profile_id
         WHERE ip.instance_id IN ({owners}) ORDER BY ip.instance_id, ip.apply_order"
    ))?;
    for row in stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (id, name): (i64, String) = row?;
        profiles.entry(id).or_default().push(name);
    }
    for (id, row) in &mut found {
        if let Some((config, devices)) = kv.remove(id) {
            row.config = config;
            row.devices = devices;
        }
        row.profiles = profiles.remove(id).unwrap_or_default();
    }
    Ok(found.into_iter().map(|(_, row)| row).collect())
}

/// Instance names of a project, sorted.
pub fn names(conn: &Connection, project: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.name {FROM} WHERE p.name = ?1 ORDER BY i.name"
    ))?;
    let rows = stmt.query_map([project], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `(project, name)` of every instance, sorted by project then name.
pub fn all_names(conn: &Connection) -> Result<Vec<(String, String)>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT p.name, i.name {FROM} ORDER BY p.name, i.name"
    ))?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every instance of a project with its config, devices and profiles (for `recursion=1`).
pub fn list(conn: &Connection, project: &str) -> Result<Vec<InstanceRow>, DbError> {
    load(conn, "p.name = ?1", &[&project])
}

/// One instance.
pub fn get(conn: &Connection, project: &str, name: &str) -> Result<InstanceRow, DbError> {
    load(conn, "p.name = ?1 AND i.name = ?2", &[&project, &name])?
        .pop()
        .ok_or(DbError::NotFound("Instance"))
}

/// Create an instance; its profiles must exist in the project that provides profiles.
pub fn create(conn: &Connection, project: &str, row: &InstanceRow) -> Result<(), DbError> {
    let pid = projects::id(conn, project)?;
    conn.prepare_cached(
        "INSERT INTO instances (project_id, name, type, architecture, ephemeral, stateful,
         description, created_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        pid,
        row.name,
        row.kind,
        row.architecture,
        row.ephemeral,
        row.stateful,
        row.description,
        row.created_at,
        row.last_used_at
    ])
    .map_err(unique_as_exists("instance"))?;
    let id = conn.last_insert_rowid();
    kv::write_config(conn, &kv::INSTANCE, id, &row.config)?;
    kv::write_devices(conn, &kv::INSTANCE, id, &row.devices)?;
    write_profiles(conn, project, id, &row.profiles)
}

/// Replace the editable fields of `row.name`: architecture, ephemeral, description, config,
/// devices and profiles (not type, stateful or the timestamps).
pub fn update(conn: &Connection, project: &str, row: &InstanceRow) -> Result<(), DbError> {
    let id = id(conn, project, &row.name)?;
    conn.prepare_cached(
        "UPDATE instances SET architecture = ?1, ephemeral = ?2, description = ?3 WHERE id = ?4",
    )?
    .execute(params![
        row.architecture,
        row.ephemeral,
        row.description,
        id
    ])?;
    kv::replace(conn, &kv::INSTANCE, id, &row.config, &row.devices)?;
    conn.prepare_cached("DELETE FROM instances_profiles WHERE instance_id = ?1")?
        .execute([id])?;
    write_profiles(conn, project, id, &row.profiles)
}

fn write_profiles(
    conn: &Connection,
    project: &str,
    id: i64,
    names: &[String],
) -> Result<(), DbError> {
    if names.is_empty() {
        return Ok(());
    }
    let source = profiles::effective_project(conn, project)?;
    let mut find = conn.prepare_cached(
        "SELECT pr.id FROM profiles pr JOIN projects p ON p.id = pr.project_id
         WHERE p.name = ?1 AND pr.name = ?2",
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO instances_profiles (instance_id, profile_id, apply_order) VALUES (?1, ?2, ?3)",
    )?;
    for (order, name) in names.iter().enumerate() {
        let profile: i64 = find
            .query_row(params![source, name], |r| r.get(0))
            .optional()?
            .ok_or(DbError::NotFound("Profile"))?;
        insert.execute(params![id, profile, order as i64])?;
    }
    Ok(())
}

/// Set or (with an empty value) remove some config keys, leaving the others alone; LXD's
/// `VolatileSet`.
pub fn set_config_keys(
    conn: &Connection,
    project: &str,
    name: &str,
    changes: &ConfigMap,
) -> Result<(), DbError> {
    let id = id(conn, project, name)?;
    let mut delete =
        conn.prepare_cached("DELETE FROM instances_config WHERE instance_id = ?1 AND key = ?2")?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO instances_config (instance_id, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (instance_id, key) DO UPDATE SET value = excluded.value",
    )?;
    for (k, v) in changes {
        if v.is_empty() {
            delete.execute(params![id, k])?;
        } else {
            upsert.execute(params![id, k, v])?;
        }
    }
    Ok(())
}

/// Record whether the instance holds saved runtime state (stateful stop).
pub fn set_stateful(
    conn: &Connection,
    project: &str,
    name: &str,
    stateful: bool,
) -> Result<(), DbError> {
    let id = id(conn, project, name)?;
    conn.prepare_cached("UPDATE instances SET stateful = ?1 WHERE id = ?2")?
        .execute(params![stateful, id])?;
    Ok(())
}

/// Rename an instance; config, devices, profiles and snapshots follow it.
pub fn rename(conn: &Connection, project: &str, old: &str, new: &str) -> Result<(), DbError> {
    let id = id(conn, project, old)?;
    conn.prepare_cached("UPDATE instances SET name = ?1 WHERE id = ?2")?
        .execute(params![new, id])
        .map_err(unique_as_exists("instance"))?;
    Ok(())
}

/// Delete an instance with its config, devices, profile links and snapshots.
pub fn delete(conn: &Connection, project: &str, name: &str) -> Result<(), DbError> {
    let id = id(conn, project, name)?;
    conn.prepare_cached("DELETE FROM instances WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Set `last_used_at` (on start).
pub fn mark_used(conn: &Connection, project: &str, name: &str, when: &str) -> Result<(), DbError> {
    let id = id(conn, project, name)?;
    conn.prepare_cached("UPDATE instances SET last_used_at = ?1 WHERE id = ?2")?
        .execute(params![when, id])?;
    Ok(())
}

/// `(project, name)` of the instances using a profile of `project`, sorted. Instances of
/// projects without `features.profiles` use the default project's profiles, so they can be
/// in another project.
pub fn instances_using_profile(
    conn: &Connection,
    project: &str,
    profile: &str,
) -> Result<Vec<(String, String)>, DbError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT p.name, i.name {FROM} JOIN instances_profiles ip ON ip.instance_id = i.id
         JOIN profiles pr ON pr.id = ip.profile_id JOIN projects pp ON pp.id = pr.project_id
         WHERE pp.name = ?1 AND pr.name = ?2 ORDER BY p.name, i.name"
    ))?;
    let rows = stmt.query_map(params![project, profile], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Expanded config and devices: `profiles` applied in order, then the local values on top;
/// devices are replaced whole by name (see [`lxd_shared::expand`]).
pub fn expand(
    profiles: &[ProfileRow],
    config: &ConfigMap,
    devices: &DevicesMap,
) -> (ConfigMap, DevicesMap) {
    let config = lxd_shared::expand::expand_config(
        profiles
            .iter()
            .map(|p| &p.config)
            .chain(std::iter::once(config)),
    );
    let devices = lxd_shared::expand::expand_devices(
        profiles
            .iter()
            .map(|p| &p.devices)
            .chain(std::iter::once(devices)),
    );
    (config, devices)
}
