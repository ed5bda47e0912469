//! `lxc storage volume list` (5.0.2's columns `etndcuLU`, their sorting and every `--format`)
//! and `lxc storage volume info` (name, type, content type, usage, snapshots, backups).

use std::cmp::Ordering;

use anyhow::{bail, Result};
use lxd_api::storage_volume::{StorageVolume, StorageVolumeState};
use lxd_client::Client;

use crate::cli::check_args;
use crate::cmd_list::natural_cmp;
use crate::cmd_storage_info::byte_size_iec;
use crate::cmd_storage_volume::{on_target, parse_volume, path, pool, pool_client};
use crate::cmd_storage_volume::{split_snapshot, ListArgs, TargetArgs};
use crate::global::Ctx;
use crate::info_instance::local_time;
use crate::output::{render_table, table};
use crate::yaml::sort_maps_at;

/// The default of `--columns`.
pub const DEFAULT_COLUMNS: &str = "etndcuL";

/// One column: header, whether it needs the volume's state, and its cell.
struct Column {
    name: &'static str,
    needs_state: bool,
    data: fn(&StorageVolume, &StorageVolumeState) -> String,
}

fn is_snapshot(name: &str) -> bool {
    name.contains('/')
}

fn column(c: char, clustered: bool, all_projects: bool) -> Option<Column> {
    let col = |name, data| Column {
        name,
        needs_state: false,
        data,
    };
    Some(match c {
        't' => col("TYPE", |v, _| {
            if is_snapshot(&v.name) {
                format!("{} (snapshot)", v.kind)
            } else {
                v.kind.clone()
            }
        }),
        'n' => col("NAME", |v, _| v.name.clone()),
        'd' => col("DESCRIPTION", |v, _| v.description.clone()),
        'c' => col("CONTENT-TYPE", |v, _| {
            if v.content_type.is_empty() {
                "filesystem".into()
            } else {
                v.content_type.clone()
            }
        }),
        'u' => col("USED BY", |v, _| {
            v.used_by.as_ref().map_or(0, Vec::len).to_string()
        }),
        'U' => Column {
            name: "USAGE",
            needs_state: true,
            data: |_, s| {
                s.usage
                    .as_ref()
                    .map(|u| byte_size_iec(u.used, 2))
                    .unwrap_or_default()
            },
        },
        'L' if clustered => col("LOCATION", |v, _| v.location.clone()),
        'e' if all_projects => col("PROJECT", |v, _| v.project.clone()),
        _ => return None,
    })
}

/// lxc's `parseColumns`: `L` only on clusters (dropped from the default otherwise), `e` only
/// with `--all-projects` (silently dropped otherwise).
fn parse_columns(flag: &str, clustered: bool, all_projects: bool) -> Result<Vec<Column>> {
    let mut flag = flag.to_string();
    if !clustered {
        if flag != DEFAULT_COLUMNS && flag.contains('L') {
            bail!("Can't specify column L when not clustered");
        }
        flag = flag.replace('L', "");
    }
    if !all_projects {
        flag = flag.replace('e', "");
    }
    let mut columns = Vec::new();
    for entry in flag.split(',') {
        if entry.is_empty() {
            bail!("Empty column entry (redundant, leading or trailing command) in '{flag}'");
        }
        for c in entry.chars() {
            match column(c, clustered, all_projects) {
                Some(col) => columns.push(col),
                None => bail!("Unknown column shorthand char '{c}' in '{entry}'"),
            }
        }
    }
    Ok(columns)
}

/// lxc's `ByNameAndType.Less`: rows of one type (first word of column 0) by column 1, where
/// an empty cell never sorts first; different types by column 0.
fn name_and_type_less(a: &[String], b: &[String]) -> bool {
    let first_word = |s: &str| s.split(' ').next().unwrap_or("").to_string();
    if first_word(&a[0]) != first_word(&b[0]) {
        return natural_cmp(&a[0], &b[0]) == Ordering::Less;
    }
    if a[1].is_empty() {
        return false;
    }
    if b[1].is_empty() {
        return true;
    }
    natural_cmp(&a[1], &b[1]) == Ordering::Less
}

/// Go's `sort.Sort` on up to 12 rows is an insertion sort; it is used for any length here, so
/// the (not strictly consistent) `less` gives Go's order on small lists.
fn insertion_sort(rows: &mut [Vec<String>], less: fn(&[String], &[String]) -> bool) {
    for i in 1..rows.len() {
        let mut j = i;
        while j > 0 && less(&rows[j], &rows[j - 1]) {
            rows.swap(j, j - 1);
            j -= 1;
        }
    }
}

async fn clustered(client: &Client) -> Result<bool> {
    Ok(client.get_server().await?.0.environment.server_clustered)
}

/// `list [<remote>:]<pool> [<filter>...]`.
pub async fn list(ctx: &Ctx, a: &ListArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("list"), args, 1, None)? {
        return Ok(());
    }
    let (client, pool) = pool(ctx, &args[0]).await?;
    let volumes = client
        .get_storage_pool_volumes(&pool, &args[1..], a.all_projects)
        .await?;
    let columns = parse_columns(&a.columns, clustered(&client).await?, a.all_projects)?;
    let mut rows = Vec::new();
    for vol in &volumes {
        let mut row = Vec::new();
        for col in &columns {
            let state = if col.needs_state && !is_snapshot(&vol.name) && vol.kind != "image" {
                client
                    .get_storage_pool_volume_state(&pool, &vol.kind, &vol.name)
                    .await?
            } else {
                StorageVolumeState::default()
            };
            row.push((col.data)(vol, &state));
        }
        rows.push(row);
    }
    if columns.len() >= 2 {
        insertion_sort(&mut rows, name_and_type_less);
    }
    let header: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let mut raw = serde_json::to_value(&volumes)?;
    if a.format == "yaml" {
        sort_maps_at(&mut raw, &["config"]);
        let text = crate::yaml::to_yaml_with_times(&raw, &["created_at"]);
        print!("{text}");
        return Ok(());
    }
    render_table(&a.format, &header, &rows, &raw)
}

/// `info [<remote>:]<pool> <volume>`: custom and instance volumes only.
pub async fn info(ctx: &Ctx, a: &TargetArgs) -> Result<()> {
    let args = &a.args;
    if check_args(&path("info"), args, 2, Some(2))? {
        return Ok(());
    }
    let (client, pool) = pool_client(ctx, &args[0], "Missing storage pool name").await?;
    let (name, kind) = parse_volume("custom", &args[1]);
    if split_snapshot(&name)?.is_some() || kind == "image" {
        bail!("Only instance or custom volumes are supported");
    }
    let client = on_target(client, &a.target);
    let (mut vol, _) = client.get_storage_pool_volume(&pool, &kind, &name).await?;
    let state = client
        .get_storage_pool_volume_state(&pool, &kind, &name)
        .await?;
    let snapshots = client
        .get_storage_pool_volume_snapshots(&pool, &kind, &name)
        .await?;
    let (server, _) = client.get_server().await?;
    let backups = if kind == "custom"
        && server
            .untrusted
            .api_extensions
            .iter()
            .any(|e| e == "custom_volume_backup")
    {
        let path = format!(
            "/1.0/storage-pools/{}/volumes/custom/{}/backups?recursion=1",
            lxd_client::websocket::escape_path(&pool),
            lxd_client::websocket::escape_path(&name)
        );
        client.get_struct::<Vec<serde_json::Value>>(&path).await?.0
    } else {
        Vec::new()
    };

    let mut out = format!("Name: {}\n", vol.name);
    if !vol.description.is_empty() {
        out.push_str(&format!("Description: {}\n", vol.description));
    }
    if vol.kind.is_empty() {
        vol.kind = "custom".into();
    }
    out.push_str(&format!("Type: {}\n", vol.kind));
    if vol.content_type.is_empty() {
        vol.content_type = "filesystem".into();
    }
    out.push_str(&format!("Content type: {}\n", vol.content_type));
    if !vol.location.is_empty() && server.environment.server_clustered {
        out.push_str(&format!("Location: {}\n", vol.location));
    }
    if let Some(u) = &state.usage {
        out.push_str(&format!("Usage: {}\n", byte_size_iec(u.used, 2)));
        if u.total > 0 {
            out.push_str(&format!("Total: {}\n", byte_size_iec(u.total as u64, 2)));
        }
    }
    if !snapshots.is_empty() {
        out.push_str("\nSnapshots:\n");
        let mut rows: Vec<Vec<String>> = snapshots
            .iter()
            .map(|s| {
                let short = s.name.rsplit('/').next().unwrap_or("").to_string();
                let expires = s
                    .expires_at
                    .as_deref()
                    .and_then(local_time)
                    .unwrap_or_else(|| " ".into());
                vec![short, s.description.clone(), expires]
            })
            .collect();
        rows.sort_by(|a, b| crate::cmd_list::row_cmp(a, b));
        out.push_str(&table(&["Name", "Description", "Expires at"], &rows, true));
    }
    if !backups.is_empty() {
        out.push_str("\nBackups:\n");
        let time = |v: &serde_json::Value| {
            v.as_str()
                .and_then(local_time)
                .unwrap_or_else(|| " ".into())
        };
        let yes_no = |v: &serde_json::Value| {
            if v.as_bool() == Some(true) {
                "YES"
            } else {
                "NO"
            }
        };
        let rows: Vec<Vec<String>> = backups
            .iter()
            .map(|b| {
                vec![
                    b["name"].as_str().unwrap_or("").to_string(),
                    time(&b["created_at"]),
                    time(&b["expires_at"]),
                    yes_no(&b["volume_only"]).into(),
                    yes_no(&b["optimized_storage"]).into(),
                ]
            })
            .collect();
        let header = [
            "Name",
            "Taken at",
            "Expires at",
            "Volume Only",
            "Optimized Storage",
        ];
        out.push_str(&table(&header, &rows, true));
    }
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: &str, n: &str) -> Vec<String> {
        vec![t.into(), n.into()]
    }

    #[test]
    fn name_and_type_sort_keeps_snapshots_after_parent_type() {
        let mut rows = vec![
            row("custom (snapshot)", "v1/s1"),
            row("custom", "v2"),
            row("container", "c1"),
            row("custom", "v1"),
        ];
        insertion_sort(&mut rows, name_and_type_less);
        let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(names, ["c1", "v1", "v1/s1", "v2"]);
    }

    #[test]
    fn parse_columns_l_not_clustered_is_refused() {
        assert!(parse_columns("nL", false, false).is_err());
        let cols = parse_columns(DEFAULT_COLUMNS, false, false).unwrap();
        let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            ["TYPE", "NAME", "DESCRIPTION", "CONTENT-TYPE", "USED BY"]
        );
    }

    #[test]
    fn parse_columns_empty_entry_and_unknown_char_error() {
        let e = parse_columns("n,,t", false, false).err().unwrap();
        assert_eq!(
            e.to_string(),
            "Empty column entry (redundant, leading or trailing command) in 'n,,t'"
        );
        let e = parse_columns("nx", false, false).err().unwrap();
        assert_eq!(e.to_string(), "Unknown column shorthand char 'x' in 'nx'");
    }
}
