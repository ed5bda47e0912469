//! How lxc 5.0.2 renders and reads images: the `image info` text, the list's date and size
//! cells, and `api.ImagePut` decoded from YAML for `image edit` (missing keys take Go's zero
//! values, so an absent `expires_at` is `0001-01-01T00:00:00Z`).

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use lxd_api::image::Image;
use serde_json::{json, Map, Value};

use crate::go_yaml::Schema;

/// `api.ImagePut` (the non-string fields are typed after decoding).
const IMAGE_PUT: Schema = Schema::Struct(
    "api.ImagePut",
    &[
        ("auto_update", Schema::Any),
        ("properties", Schema::Map(&Schema::Str)),
        ("public", Schema::Any),
        ("expires_at", Schema::Any),
        ("profiles", Schema::Any),
    ],
);

/// Go's zero `time.Time` in JSON.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Go's `shared.TimeIsSet`: after the Unix epoch.
fn time_is_set(s: &str) -> bool {
    parse_time(s).is_some_and(|t| t.timestamp() > 0)
}

/// `2006/01/02 15:04 UTC`.
fn info_time(s: &str) -> String {
    let t = parse_time(s).unwrap_or_default();
    t.format("%Y/%m/%d %H:%M UTC").to_string()
}

/// The list's UPLOAD DATE cell: `Jan 2, 2006 at 3:04pm (MST)` in UTC.
pub fn upload_date(s: &str) -> String {
    let t = parse_time(s).unwrap_or_default();
    t.format("%b %-d, %Y at %-I:%M%P (UTC)").to_string()
}

/// Sizes as lxc prints them: MiB with two decimals and an `MB` suffix.
pub fn size_mb(size: i64) -> String {
    format!("{:.2}MB", size as f64 / 1024.0 / 1024.0)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The text of `lxc image info`. Properties are printed sorted (lxc walks a Go map, so its
/// order varies from run to run).
pub fn info_text(info: &Image) -> String {
    let mut out = String::new();
    let kind = if info.kind.is_empty() {
        "container"
    } else {
        &info.kind
    };
    out += &format!("Fingerprint: {}\n", info.fingerprint);
    out += &format!("Size: {}\n", size_mb(info.size));
    out += &format!("Architecture: {}\n", info.architecture);
    out += &format!("Type: {kind}\n");
    out += &format!("Public: {}\n", yes_no(info.public));
    out += "Timestamps:\n";
    if time_is_set(&info.created_at) {
        out += &format!("    Created: {}\n", info_time(&info.created_at));
    }
    out += &format!("    Uploaded: {}\n", info_time(&info.uploaded_at));
    if time_is_set(&info.expires_at) {
        out += &format!("    Expires: {}\n", info_time(&info.expires_at));
    } else {
        out += "    Expires: never\n";
    }
    if time_is_set(&info.last_used_at) {
        out += &format!("    Last used: {}\n", info_time(&info.last_used_at));
    } else {
        out += "    Last used: never\n";
    }
    out += "Properties:\n";
    for (k, v) in &info.properties {
        out += &format!("    {k}: {v}\n");
    }
    out += "Aliases:\n";
    for a in &info.aliases {
        if a.description.is_empty() {
            out += &format!("    - {}\n", a.name);
        } else {
            out += &format!("    - {} ({})\n", a.name, a.description);
        }
    }
    out += &format!("Cached: {}\n", yes_no(info.cached));
    let auto = if info.auto_update {
        "enabled"
    } else {
        "disabled"
    };
    out += &format!("Auto update: {auto}\n");
    if let Some(src) = &info.update_source {
        out += "Source:\n";
        out += &format!("    Server: {}\n", src.server);
        out += &format!("    Protocol: {}\n", src.protocol);
        out += &format!("    Alias: {}\n", src.alias);
    }
    match info.profiles.as_deref() {
        None | Some([]) => out += "Profiles: []\n",
        Some(list) => {
            out += "Profiles:\n";
            for p in list {
                out += &format!("    - {p}\n");
            }
        }
    }
    out
}

fn unmarshal_error(tag: &str, value: &Value, into: &str) -> anyhow::Error {
    let v = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    anyhow!("yaml: unmarshal errors:\n  line 1: cannot unmarshal !!{tag} `{v}` into {into}")
}

fn as_bool(v: Option<&Value>) -> Result<bool> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(unmarshal_error("str", other, "bool")),
    }
}

/// Decodes `api.ImagePut` YAML as lxc's `yaml.Unmarshal` does, into the JSON lxc sends.
pub fn decode_image_put(text: &str) -> Result<Value> {
    let v = crate::go_yaml::decode(text, IMAGE_PUT).map_err(|e| anyhow!(e))?;
    let m = v.as_object().cloned().unwrap_or_default();
    let properties = match m.get("properties") {
        Some(Value::Object(p)) => Value::Object(p.clone()),
        _ => Value::Null,
    };
    let expires_at = match m.get("expires_at") {
        None | Some(Value::Null) => GO_ZERO_TIME.to_string(),
        Some(Value::String(s)) => match parse_time(s) {
            Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            None => return Err(unmarshal_error("str", &json!(s), "time.Time")),
        },
        Some(other) => return Err(unmarshal_error("int", other, "time.Time")),
    };
    let profiles = match m.get("profiles") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => json!(s),
                    other => json!(other.to_string()),
                })
                .collect(),
        ),
        Some(other) => return Err(unmarshal_error("str", other, "[]string")),
    };
    let mut out = Map::new();
    out.insert("auto_update".into(), json!(as_bool(m.get("auto_update"))?));
    out.insert("properties".into(), properties);
    out.insert("public".into(), json!(as_bool(m.get("public"))?));
    out.insert("expires_at".into(), json!(expires_at));
    out.insert("profiles".into(), profiles);
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_date_matches_lxc_layout() {
        assert_eq!(
            upload_date("2026-11-28T00:15:17.182223534Z"),
            "Nov 28, 2026 at 12:15am (UTC)"
        );
        assert_eq!(
            upload_date("2026-11-28T13:05:00Z"),
            "Nov 28, 2026 at 1:05pm (UTC)"
        );
    }

    #[test]
    fn decode_image_put_empty_document_has_go_zero_values() {
        let v = decode_image_put("").unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"auto_update":false,"properties":null,"public":false,"expires_at":"0001-01-01T00:00:00Z","profiles":null}"#
        );
    }

    #[test]
    fn decode_image_put_shown_yaml_round_trips() {
        let text = "auto_update: false\nproperties:\n  os: BusyBox\npublic: true\nexpires_at: 1970-01-01T00:00:00Z\nprofiles:\n- default\n";
        let v = decode_image_put(text).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"auto_update":false,"properties":{"os":"BusyBox"},"public":true,"expires_at":"1970-01-01T00:00:00Z","profiles":["default"]}"#
        );
    }

    #[test]
    fn size_mb_uses_mebibytes() {
        assert_eq!(size_mb(1_036_706), "0.99MB");
    }
}
