//! `lxc storage info`: the two YAML documents (`info:` and `used by:`) lxc 5.0.2 prints for a
//! pool, with IEC sizes unless `--bytes`. Pure rendering; the command fetches the data.

use lxd_api::StoragePool;
use serde_json::{json, Map, Value};

use crate::yaml::{sort_all_maps, to_yaml};

/// Go's `units.GetByteSizeStringIEC`: 1024-based units (`KiB` ... `EiB`).
pub fn byte_size_iec(bytes: u64, precision: usize) -> String {
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64;
    for unit in ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"] {
        value /= 1024.0;
        if value < 1024.0 {
            return format!("{value:.precision$}{unit}");
        }
    }
    format!("{value:.precision$}EB")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_value(query: &str, key: &str) -> String {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| percent_decode(k) == key)
        .map(|(_, v)| percent_decode(v))
        .unwrap_or_default()
}

/// One `used_by` URL as `(type, what)`: volumes are named by their volume, and the project
/// and target in the query are appended as lxc does.
fn used_by_entry(url: &str) -> Option<(String, String)> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let fields: Vec<String> = path.get(5..)?.split('/').map(percent_decode).collect();
    let mut kind = fields.first()?.clone();
    let mut what = fields.get(1)?.clone();
    if kind == "storage-pools" {
        kind = "volumes".to_string();
        what = fields.get(4)?.clone();
    }
    let (project, target) = (query_value(query, "project"), query_value(query, "target"));
    let mut info = String::new();
    if !project.is_empty() {
        info = format!("project {project:?}");
    }
    if !target.is_empty() {
        info = if info.is_empty() {
            format!("target {target:?}")
        } else {
            format!("{info}, target {target:?}")
        };
    }
    if !info.is_empty() {
        what = format!("{what} ({info})");
    }
    Some((kind, what))
}

/// The text of `lxc storage info <pool>` given the pool and its `/resources`.
pub fn render(pool: &StoragePool, res: &Value, bytes: bool) -> String {
    let space = |k: &str| res["space"][k].as_u64().unwrap_or_default();
    let fmt = |n: u64| {
        if bytes {
            n.to_string()
        } else {
            byte_size_iec(n, 2)
        }
    };
    let mut used_by = Map::new();
    for (kind, what) in pool.used_by.iter().filter_map(|u| used_by_entry(u)) {
        if let Value::Array(a) = used_by.entry(kind).or_insert_with(|| json!([])) {
            a.push(json!(what));
        }
    }
    let mut info = json!({"info": {
        "description": pool.description, "driver": pool.driver, "name": pool.name,
        "space used": fmt(space("used")), "total space": fmt(space("total")),
    }});
    sort_all_maps(&mut info);
    let mut used = json!({ "used by": Value::Object(used_by) });
    sort_all_maps(&mut used);
    format!("{}{}", to_yaml(&info), to_yaml(&used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_size_iec_small_and_large_values_use_binary_units() {
        assert_eq!(byte_size_iec(1023, 2), "1023B");
        assert_eq!(byte_size_iec(17_701_236_736, 2), "16.49GiB");
    }

    #[test]
    fn used_by_entry_volume_with_project_and_target_names_both() {
        let e = used_by_entry("/1.0/storage-pools/p/volumes/custom/v1?project=a&target=m");
        assert_eq!(
            e,
            Some(("volumes".into(), "v1 (project \"a\", target \"m\")".into()))
        );
        let e = used_by_entry("/1.0/profiles/default");
        assert_eq!(e, Some(("profiles".into(), "default".into())));
    }
}
