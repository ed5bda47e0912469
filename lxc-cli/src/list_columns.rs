//! `lxc list` columns as lxc 5.0.2 defines them: the shorthand letters, custom
//! `[config:|devices:]key[:name][:maxWidth]` columns and each cell's text from an
//! `InstanceFull` value. Filters live in `list_filters.rs`.

use anyhow::{bail, Result};
use serde_json::Value;

/// Where a column's text comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Letter(char),
    Config(String, i64),
    Device(String, i64),
}

/// One column: header, source, and what it needs fetched.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub source: Source,
    pub needs_state: bool,
    pub needs_snapshots: bool,
}

const LETTERS: &[(char, &str, bool, bool)] = &[
    ('4', "IPV4", true, false),
    ('6', "IPV6", true, false),
    ('a', "ARCHITECTURE", false, false),
    ('b', "STORAGE POOL", false, false),
    ('c', "CREATED AT", false, false),
    ('d', "DESCRIPTION", false, false),
    ('D', "DISK USAGE", true, false),
    ('e', "PROJECT", false, false),
    ('f', "BASE IMAGE", false, false),
    ('F', "BASE IMAGE", false, false),
    ('l', "LAST USED AT", false, false),
    ('m', "MEMORY USAGE", true, false),
    ('M', "MEMORY USAGE%", true, false),
    ('n', "NAME", false, false),
    ('N', "PROCESSES", true, false),
    ('p', "PID", true, false),
    ('P', "PROFILES", false, false),
    ('S', "SNAPSHOTS", false, true),
    ('s', "STATE", false, false),
    ('t', "TYPE", false, false),
    ('u', "CPU USAGE", true, false),
];

/// The default `--columns` value.
pub const DEFAULT_COLUMNS: &str = "ns46tSL";
const DEFAULT_ALL_PROJECTS: &str = "ens46tSL";

/// lxc's `parseColumns`: the columns and whether state or snapshots are needed.
pub fn parse(
    flag: &str,
    fast: bool,
    all_projects: bool,
    clustered: bool,
) -> Result<(Vec<Column>, bool)> {
    let mut flag = flag.to_string();
    if all_projects && flag == DEFAULT_COLUMNS {
        flag = DEFAULT_ALL_PROJECTS.into();
    }
    if fast {
        if flag != DEFAULT_COLUMNS && flag != DEFAULT_ALL_PROJECTS {
            bail!("Can't specify --fast with --columns");
        }
        flag = if flag == DEFAULT_ALL_PROJECTS {
            "ensacPt".into()
        } else {
            "nsacPt".into()
        };
    }
    if !clustered {
        if flag != DEFAULT_COLUMNS && flag != DEFAULT_ALL_PROJECTS && flag.contains('L') {
            bail!("Can't specify column L when not clustered");
        }
        flag = flag.replace('L', "");
    }
    let mut columns = Vec::new();
    let mut needs_data = false;
    for entry in flag.split(',') {
        if entry.is_empty() {
            bail!("Empty column entry (redundant, leading or trailing command) in '{flag}'");
        }
        if !entry.contains('.') {
            for c in entry.chars() {
                let found = LETTERS.iter().find(|l| l.0 == c).map(|l| (l.1, l.2, l.3));
                let found =
                    found.or_else(|| (c == 'L' && clustered).then_some(("LOCATION", false, false)));
                let Some((name, st, sn)) = found else {
                    bail!("Unknown column shorthand char '{c}' in '{entry}'");
                };
                needs_data |= st || sn;
                columns.push(Column {
                    name: name.into(),
                    source: Source::Letter(c),
                    needs_state: st,
                    needs_snapshots: sn,
                });
            }
            continue;
        }
        let mut cc: Vec<&str> = entry.split(':').collect();
        let mut is_device = false;
        if (cc[0] == "config" || cc[0] == "devices") && cc.len() > 1 {
            is_device = cc[0] == "devices";
            cc.remove(0);
        }
        if cc.len() > 3 {
            bail!("Invalid config key column format (too many fields): '{entry}'");
        }
        let k = cc[0].to_string();
        if !is_device && !lxd_shared::config::instance::is_instance_key(&k) {
            bail!("Invalid config key '{k}' in '{entry}'");
        }
        let mut name = k.clone();
        if cc.len() > 1 {
            if cc[1].is_empty() && cc.len() != 3 {
                bail!("Invalid name in '{entry}', empty string is only allowed when defining maxWidth");
            }
            name = cc[1].to_string();
        }
        let mut max_width = -1;
        if cc.len() > 2 {
            let Ok(t) = cc[2].parse::<i64>() else {
                bail!(
                    "Invalid max width (must be an integer) '{}' in '{entry}'",
                    cc[2]
                );
            };
            if t < -1 {
                bail!(
                    "Invalid max width (must -1, 0 or a positive integer) '{}' in '{entry}'",
                    cc[2]
                );
            }
            max_width = if t == 0 { name.len() as i64 } else { t };
        }
        let source = if is_device {
            Source::Device(k, max_width)
        } else {
            Source::Config(k, max_width)
        };
        columns.push(Column {
            name,
            source,
            needs_state: false,
            needs_snapshots: false,
        });
    }
    Ok((columns, needs_data))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn is_active(inst: &Value) -> bool {
    !matches!(inst["status_code"].as_u64().unwrap_or(0), 102 | 112)
}

fn truncate(v: &str, max: i64) -> String {
    if max > 0 && v.len() > max as usize {
        String::from_utf8_lossy(&v.as_bytes()[..max as usize]).into_owned()
    } else {
        v.to_string()
    }
}

/// Go's `time.Time.UTC().Format("2006/01/02 15:04 UTC")`, or empty for unset times.
pub fn list_time(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(d) if d.timestamp() > 0 => d
            .with_timezone(&chrono::Utc)
            .format("%Y/%m/%d %H:%M UTC")
            .to_string(),
        _ => String::new(),
    }
}

fn ips(inst: &Value, family: &str) -> String {
    if !is_active(inst) {
        return String::new();
    }
    let Some(nets) = inst["state"]["network"].as_object() else {
        return String::new();
    };
    let mut out = Vec::new();
    for (name, net) in nets {
        if net["type"] == "loopback" {
            continue;
        }
        for addr in net["addresses"].as_array().into_iter().flatten() {
            if matches!(s(&addr["scope"]), "link" | "local") || s(&addr["family"]) != family {
                continue;
            }
            out.push(format!("{} ({name})", s(&addr["address"])));
        }
    }
    out.sort_by(|a, b| b.cmp(a));
    out.join("\n")
}

/// The text of one cell.
pub fn cell(col: &Column, inst: &Value) -> String {
    let state = &inst["state"];
    let active_state = is_active(inst) && !state.is_null();
    match &col.source {
        Source::Config(k, max) => {
            let v = inst["config"]
                .get(k)
                .or_else(|| inst["expanded_config"].get(k));
            truncate(v.map(s).unwrap_or(""), *max)
        }
        Source::Device(k, max) => {
            let parts: Vec<&str> = k.splitn(2, '.').collect();
            if parts.len() != 2 {
                return String::new();
            }
            let get = |f: &str| inst[f].get(parts[0]).and_then(|d| d.get(parts[1])).map(s);
            truncate(
                get("devices")
                    .or_else(|| get("expanded_devices"))
                    .unwrap_or(""),
                *max,
            )
        }
        Source::Letter(c) => match c {
            '4' => ips(inst, "inet"),
            '6' => ips(inst, "inet6"),
            'a' => s(&inst["architecture"]).into(),
            'b' => inst["expanded_devices"]
                .as_object()
                .and_then(|m| {
                    m.values()
                        .find(|d| d["type"] == "disk" && d["path"] == "/")
                        .map(|d| s(&d["pool"]).to_string())
                })
                .unwrap_or_default(),
            'c' => list_time(s(&inst["created_at"])),
            'l' => list_time(s(&inst["last_used_at"])),
            'd' => s(&inst["description"]).into(),
            'D' => {
                let root = inst["expanded_devices"]
                    .as_object()
                    .and_then(|m| {
                        m.iter()
                            .find(|(_, d)| d["type"] == "disk" && d["path"] == "/")
                            .map(|(k, _)| k.clone())
                    })
                    .unwrap_or_default();
                match state["disk"][root.as_str()]["usage"].as_i64() {
                    Some(u) if u > 0 => crate::cmd_storage_info::byte_size_iec(u as u64, 2),
                    _ => String::new(),
                }
            }
            'e' => s(&inst["project"]).into(),
            'f' | 'F' => {
                let v = s(&inst["config"]["volatile.base_image"]);
                if *c == 'f' && v.len() >= 12 {
                    v[..12].to_string()
                } else {
                    v.to_string()
                }
            }
            'm' => match state["memory"]["usage"].as_i64() {
                Some(u) if active_state && u > 0 => {
                    crate::cmd_storage_info::byte_size_iec(u as u64, 2)
                }
                _ => String::new(),
            },
            'M' => {
                let usage = state["memory"]["usage"].as_i64().unwrap_or(0);
                let limit = s(&inst["expanded_config"]["limits.memory"]);
                if !active_state || usage <= 0 || limit.is_empty() || limit.contains('%') {
                    return String::new();
                }
                match lxd_shared::units::parse_byte_size(limit) {
                    Ok(val) if val > 0 => {
                        format!("{:.1}%", usage as f64 / val as f64 * 100.0)
                    }
                    _ => String::new(),
                }
            }
            'n' => s(&inst["name"]).into(),
            'N' if active_state => state["processes"].as_i64().unwrap_or(0).to_string(),
            'p' if active_state => state["pid"].as_i64().unwrap_or(0).to_string(),
            'P' => inst["profiles"]
                .as_array()
                .map(|p| p.iter().map(s).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default(),
            'S' => inst["snapshots"].as_array().map_or(0, Vec::len).to_string(),
            's' => s(&inst["status"]).to_uppercase(),
            't' => {
                let t = match s(&inst["type"]) {
                    "" => "container".to_string(),
                    t => t.to_string(),
                };
                if inst["ephemeral"] == Value::Bool(true) {
                    format!("{} (EPHEMERAL)", t.to_uppercase())
                } else {
                    t.to_uppercase()
                }
            }
            'u' => match state["cpu"]["usage"].as_i64() {
                Some(u) if active_state && u > 0 => format!("{}s", u / 1_000_000_000),
                _ => String::new(),
            },
            'L' => s(&inst["location"]).into(),
            _ => String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_fast_with_columns_errors() {
        let e = parse("ns", true, false, false).unwrap_err();
        assert_eq!(e.to_string(), "Can't specify --fast with --columns");
    }

    #[test]
    fn parse_default_not_clustered_drops_location() {
        let (cols, needs) = parse(DEFAULT_COLUMNS, false, false, false).unwrap();
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["NAME", "STATE", "IPV4", "IPV6", "TYPE", "SNAPSHOTS"]
        );
        assert!(needs);
    }
}
