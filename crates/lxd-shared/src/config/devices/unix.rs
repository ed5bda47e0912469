//! `unix-char` and `unix-block` devices: their options with LXD's checks, and where the node
//! comes from and goes (`source` on the host, `path` inside, each defaulting to the other).

use std::collections::BTreeMap;

use super::rules::{self, Rule};
use super::DeviceError;

fn source_rule(value: &str) -> Result<(), String> {
    if value.starts_with("/dev") {
        Ok(())
    } else {
        Err("Path needs to be in /dev".into())
    }
}

const RULES: &[(&str, Rule, bool)] = &[
    ("source", source_rule, false),
    ("path", rules::any, false),
    ("major", rules::is_device_number, false),
    ("minor", rules::is_device_number, false),
    ("uid", rules::is_unix_id, false),
    ("gid", rules::is_unix_id, false),
    ("mode", rules::is_octal_mode, false),
    ("required", rules::is_bool, false),
];

fn get<'a>(dev: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    dev.get(key).map(String::as_str).unwrap_or("")
}

/// Check a unix-char or unix-block device.
pub fn check(name: &str, dev: &BTreeMap<String, String>) -> Result<(), DeviceError> {
    super::apply_rules(name, dev, RULES, &[])?;
    if get(dev, "source").is_empty() && get(dev, "path").is_empty() {
        return Err(DeviceError::Invalid(
            name.to_string(),
            "Unix device entry is missing the required \"source\" or \"path\" property".into(),
        ));
    }
    Ok(())
}

/// The node's path on the host: `source`, else `path`.
pub fn source_path(dev: &BTreeMap<String, String>) -> &str {
    match get(dev, "source") {
        "" => get(dev, "path"),
        s => s,
    }
}

/// The node's path inside the instance: `path`, else `source`.
pub fn dest_path(dev: &BTreeMap<String, String>) -> &str {
    match get(dev, "path") {
        "" => get(dev, "source"),
        p => p,
    }
}

/// Whether the instance may not start without the node (`required`, true by default).
pub fn is_required(dev: &BTreeMap<String, String>) -> bool {
    crate::config::values::parse_bool(get(dev, "required")).unwrap_or(true)
}
