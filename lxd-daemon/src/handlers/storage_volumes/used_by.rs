//! What uses a volume: instances and profiles whose disk devices name it (`pool` + `source`),
//! the instances whose root disk is on a pool, and the custom volumes the pool lists.

use lxd_api::DevicesMap;
use rusqlite::Connection;

use crate::api::ApiError;
use crate::handlers::instances::instance_url;
use crate::state::AppState;

/// Whether a disk among `devices` attaches custom volume `vol` of `pool`.
pub fn attaches(devices: &DevicesMap, pool: &str, vol: &str) -> bool {
    devices.values().any(|d| {
        d.get("type").map(String::as_str) == Some("disk")
            && d.get("pool").map(String::as_str) == Some(pool)
            && d.get("source").map(String::as_str) == Some(vol)
            && d.get("path").map(String::as_str) != Some("/")
    })
}

/// Every instance as `(project, name, expanded devices)`.
pub fn expanded_instances(
    conn: &Connection,
) -> Result<Vec<(String, String, DevicesMap)>, lxd_db::DbError> {
    let mut out = Vec::new();
    for (project, name) in lxd_db::instances::all_names(conn)? {
        let row = lxd_db::instances::get(conn, &project, &name)?;
        let profile_project = lxd_db::profiles::effective_project(conn, &project)?;
        let profiles = row
            .profiles
            .iter()
            .map(|p| lxd_db::profiles::get(conn, &profile_project, p))
            .collect::<Result<Vec<_>, _>>()?;
        let (_, devices) = lxd_db::instances::expand(&profiles, &row.config, &row.devices);
        out.push((project, name, devices));
    }
    Ok(out)
}

fn profile_url(name: &str, project: &str) -> String {
    if project == "default" {
        format!("/1.0/profiles/{name}")
    } else {
        format!("/1.0/profiles/{name}?project={project}")
    }
}

/// Instances then profiles attaching custom volume `vol` of `project` on `pool`.
pub fn custom_volume_users(
    state: &AppState,
    pool: &str,
    project: &str,
    vol: &str,
) -> Result<Vec<String>, ApiError> {
    Ok(state.db.read(|c| {
        let mut out: Vec<String> = expanded_instances(c)?
            .into_iter()
            .filter(|(p, _, devices)| {
                volume_project_of(c, p).ok().as_deref() == Some(project)
                    && attaches(devices, pool, vol)
            })
            .map(|(p, n, _)| instance_url(&n, &p, false))
            .collect();
        for p in lxd_db::projects::names(c)? {
            if volume_project_of(c, &p).ok().as_deref() != Some(project) {
                continue;
            }
            for name in lxd_db::profiles::names(c, &p)? {
                let profile = lxd_db::profiles::get(c, &p, &name)?;
                if attaches(&profile.devices, pool, vol) {
                    out.push(profile_url(&name, &p));
                }
            }
        }
        out.dedup();
        Ok(out)
    })?)
}

/// Names of the running instances among `users` (instance URLs of [`custom_volume_users`]).
pub fn running_users(state: &AppState, users: &[String]) -> Vec<String> {
    users
        .iter()
        .filter_map(|u| {
            let rest = u.strip_prefix("/1.0/instances/")?;
            let (name, project) = match rest.split_once("?project=") {
                Some((n, p)) => (n, p),
                None => (rest, "default"),
            };
            let runtime = crate::handlers::instances::store::runtime_name(project, name);
            crate::runtime::running(&state.paths, &runtime).map(|_| name.to_string())
        })
        .collect()
}

/// The project whose custom volumes instances of `project` see.
fn volume_project_of(conn: &Connection, project: &str) -> Result<String, lxd_db::DbError> {
    let row = lxd_db::projects::get(conn, project)?;
    let own = row
        .config
        .get("features.storage.volumes")
        .map(String::as_str)
        == Some("true");
    Ok(if own || project == "default" {
        project.to_string()
    } else {
        "default".to_string()
    })
}

/// Instances `(project, name)` whose root disk is on `pool`.
pub fn instances_on_pool(
    conn: &Connection,
    pool: &str,
) -> Result<Vec<(String, String)>, lxd_db::DbError> {
    Ok(expanded_instances(conn)?
        .into_iter()
        .filter(|(_, _, d)| {
            crate::handlers::instances::store::root_pool(d).as_deref() == Some(pool)
        })
        .map(|(p, n, _)| (p, n))
        .collect())
}

/// URLs of the custom volumes and their snapshots on `pool` (part of the pool's `used_by`).
pub fn pool_volume_urls(conn: &Connection, pool: &str) -> Result<Vec<String>, lxd_db::DbError> {
    let mut out = Vec::new();
    for (project, row) in lxd_db::volumes::list(conn, pool, None)? {
        out.push(super::volume_url(pool, &row.vol_type, &row.name, &project));
        let key = lxd_db::volumes::VolumeKey {
            pool,
            project: &project,
            vol_type: &row.vol_type,
            name: &row.name,
        };
        for snap in lxd_db::volumes::snapshots(conn, key)? {
            let full = format!("{}/{}", row.name, snap.name);
            out.push(super::volume_url(pool, &row.vol_type, &full, &project));
        }
    }
    Ok(out)
}
