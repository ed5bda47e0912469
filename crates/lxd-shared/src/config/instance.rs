//! Instance configuration keys (`lxd/instance/instancetype/instance.go`) and their checks.
//!
//! Profiles carry the same keys, so profile writes are validated here too.

use thiserror::Error;

use super::values::{is_cpu_limit, is_expiry, parse_bool};
use crate::units::parse_byte_size;

/// A refused instance or profile setting, with LXD's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstanceConfigError {
    #[error("Unknown configuration key: {0}")]
    UnknownKey(String),
    #[error("Invalid value for a boolean {0:?}")]
    Bool(String),
    #[error("Invalid value for an integer {0:?}")]
    Int(String),
    #[error("Value too large")]
    Range,
    /// LXD's `IsUint32` text around Go's `strconv.ParseUint` error.
    #[error("Invalid value for uint32 {0:?}: strconv.ParseUint: parsing {0:?}: {1}")]
    Uint32(String, &'static str),
    #[error("Invalid CPU limit syntax")]
    Cpu,
    #[error("Invalid value: {0}")]
    Value(String),
    #[error("Invalid expiry expression")]
    Expiry,
    #[error("Invalid value {0:?} (not one of {1})")]
    Choice(String, String),
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Any,
    Bool,
    Int,
    Uint32,
    Priority,
    Cpu,
    SizeOrPercent,
    Size,
    Expiry,
    Choice(&'static [&'static str]),
    CpuAllowance,
}

const KEYS: &[(&str, Kind)] = &[
    ("boot.autostart", Kind::Bool),
    ("boot.autostart.delay", Kind::Int),
    ("boot.autostart.priority", Kind::Int),
    ("boot.host_shutdown_timeout", Kind::Int),
    ("boot.stop.priority", Kind::Int),
    ("cloud-init.network-config", Kind::Any),
    ("cloud-init.user-data", Kind::Any),
    ("cloud-init.vendor-data", Kind::Any),
    (
        "cluster.evacuate",
        Kind::Choice(&["auto", "migrate", "live-migrate", "stop"]),
    ),
    ("limits.cpu", Kind::Cpu),
    ("limits.cpu.allowance", Kind::CpuAllowance),
    ("limits.cpu.priority", Kind::Priority),
    ("limits.disk.priority", Kind::Priority),
    ("limits.hugepages.64KB", Kind::Size),
    ("limits.hugepages.1MB", Kind::Size),
    ("limits.hugepages.2MB", Kind::Size),
    ("limits.hugepages.1GB", Kind::Size),
    ("limits.memory", Kind::SizeOrPercent),
    ("limits.memory.enforce", Kind::Choice(&["soft", "hard"])),
    ("limits.memory.swap", Kind::Bool),
    ("limits.memory.swap.priority", Kind::Priority),
    ("limits.network.priority", Kind::Priority),
    ("limits.processes", Kind::Int),
    ("linux.kernel_modules", Kind::Any),
    ("migration.incremental.memory", Kind::Bool),
    ("migration.incremental.memory.goal", Kind::Int),
    ("migration.incremental.memory.iterations", Kind::Int),
    ("nvidia.driver.capabilities", Kind::Any),
    ("nvidia.require.cuda", Kind::Any),
    ("nvidia.require.driver", Kind::Any),
    ("nvidia.runtime", Kind::Bool),
    ("raw.apparmor", Kind::Any),
    ("raw.idmap", Kind::Any),
    ("raw.lxc", Kind::Any),
    ("raw.seccomp", Kind::Any),
    ("security.devlxd", Kind::Bool),
    ("security.devlxd.images", Kind::Bool),
    ("security.idmap.base", Kind::Uint32),
    ("security.idmap.isolated", Kind::Bool),
    ("security.idmap.size", Kind::Uint32),
    ("security.nesting", Kind::Bool),
    ("security.privileged", Kind::Bool),
    ("security.protection.delete", Kind::Bool),
    ("security.protection.shift", Kind::Bool),
    ("security.syscalls.allow", Kind::Any),
    ("security.syscalls.deny", Kind::Any),
    ("security.syscalls.deny_compat", Kind::Bool),
    ("security.syscalls.deny_default", Kind::Bool),
    ("security.syscalls.intercept.bpf", Kind::Bool),
    ("security.syscalls.intercept.bpf.devices", Kind::Bool),
    ("security.syscalls.intercept.mknod", Kind::Bool),
    ("security.syscalls.intercept.mount", Kind::Bool),
    ("security.syscalls.intercept.mount.allowed", Kind::Any),
    ("security.syscalls.intercept.mount.fuse", Kind::Any),
    ("security.syscalls.intercept.mount.shift", Kind::Bool),
    ("security.syscalls.intercept.sched_setscheduler", Kind::Bool),
    ("security.syscalls.intercept.setxattr", Kind::Bool),
    ("snapshots.expiry", Kind::Expiry),
    ("snapshots.pattern", Kind::Any),
    ("snapshots.schedule", Kind::Any),
    ("snapshots.schedule.stopped", Kind::Bool),
];

const FREE_PREFIXES: &[&str] = &["user.", "environment.", "image.", "volatile."];

const RLIMITS: &[&str] = &[
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "nice",
    "nofile",
    "nproc",
    "rtprio",
    "sigpending",
];

/// Whether `name` is a key instances and profiles may carry.
pub fn is_instance_key(name: &str) -> bool {
    FREE_PREFIXES.iter().any(|p| name.starts_with(p))
        || name
            .strip_prefix("linux.sysctl.")
            .is_some_and(|s| !s.is_empty())
        || name
            .strip_prefix("limits.kernel.")
            .is_some_and(|s| RLIMITS.contains(&s))
        || KEYS.iter().any(|(k, _)| *k == name)
}

/// Check one key and value of an instance or profile config.
pub fn check_instance_value(name: &str, value: &str) -> Result<(), InstanceConfigError> {
    if !is_instance_key(name) {
        return Err(InstanceConfigError::UnknownKey(name.to_string()));
    }
    let Some((_, kind)) = KEYS.iter().find(|(k, _)| *k == name) else {
        return Ok(());
    };
    if value.is_empty() {
        return Ok(());
    }
    let v = value.to_string();
    match kind {
        Kind::Any => Ok(()),
        Kind::Bool => parse_bool(value)
            .map(|_| ())
            .ok_or(InstanceConfigError::Bool(v)),
        Kind::Int => value
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| InstanceConfigError::Int(v)),
        Kind::Uint32 => check_uint32(value),
        Kind::Priority => match value.parse::<i64>() {
            Ok(0..=10) => Ok(()),
            Ok(_) => Err(InstanceConfigError::Range),
            Err(_) => Err(InstanceConfigError::Int(v)),
        },
        Kind::Cpu if is_cpu_limit(value) => Ok(()),
        Kind::Cpu => Err(InstanceConfigError::Cpu),
        Kind::SizeOrPercent => check_size_or_percent(value),
        Kind::Size => parse_byte_size(value)
            .map(|_| ())
            .map_err(|_| InstanceConfigError::Value(v)),
        Kind::Expiry if is_expiry(value) => Ok(()),
        Kind::Expiry => Err(InstanceConfigError::Expiry),
        Kind::Choice(choices) if choices.contains(&value) => Ok(()),
        Kind::Choice(choices) => Err(InstanceConfigError::Choice(v, format!("{choices:?}"))),
        Kind::CpuAllowance => check_cpu_allowance(value),
    }
}

/// Go's `strconv.ParseUint(value, 10, 32)`: decimal digits only, at most 4294967295.
fn check_uint32(value: &str) -> Result<(), InstanceConfigError> {
    let v = value.to_string();
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InstanceConfigError::Uint32(v, "invalid syntax"));
    }
    match value.parse::<u32>() {
        Ok(_) => Ok(()),
        Err(_) => Err(InstanceConfigError::Uint32(v, "value out of range")),
    }
}

fn check_size_or_percent(value: &str) -> Result<(), InstanceConfigError> {
    let bad = || InstanceConfigError::Value(value.to_string());
    match value.strip_suffix('%') {
        Some(pct) => pct.parse::<u64>().map(|_| ()).map_err(|_| bad()),
        None => parse_byte_size(value).map(|_| ()).map_err(|_| bad()),
    }
}

/// `50%` or `25ms/100ms`.
fn check_cpu_allowance(value: &str) -> Result<(), InstanceConfigError> {
    let bad = || InstanceConfigError::Value(value.to_string());
    if let Some(pct) = value.strip_suffix('%') {
        return pct.parse::<u64>().map(|_| ()).map_err(|_| bad());
    }
    let (quota, period) = value.split_once('/').ok_or_else(bad)?;
    let ms = |s: &str| s.strip_suffix("ms").and_then(|n| n.parse::<u64>().ok());
    match (ms(quota), ms(period)) {
        (Some(_), Some(_)) => Ok(()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_instance_value_unknown_key_refused() {
        assert_eq!(
            check_instance_value("nope.key", "1")
                .unwrap_err()
                .to_string(),
            "Unknown configuration key: nope.key"
        );
    }

    #[test]
    fn check_instance_value_free_namespaces_accepted() {
        for k in [
            "user.a",
            "environment.X",
            "image.os",
            "volatile.base_image",
            "linux.sysctl.x",
        ] {
            assert!(check_instance_value(k, "anything").is_ok(), "{k}");
        }
        assert!(check_instance_value("limits.kernel.nofile", "100").is_ok());
        assert!(check_instance_value("limits.kernel.bogus", "100").is_err());
    }

    #[test]
    fn check_instance_value_types_use_lxd_texts() {
        assert_eq!(
            check_instance_value("security.privileged", "maybe")
                .unwrap_err()
                .to_string(),
            "Invalid value for a boolean \"maybe\""
        );
        assert_eq!(
            check_instance_value("limits.cpu", "abc")
                .unwrap_err()
                .to_string(),
            "Invalid CPU limit syntax"
        );
        assert_eq!(
            check_instance_value("limits.memory", "abc")
                .unwrap_err()
                .to_string(),
            "Invalid value: abc"
        );
        assert!(check_instance_value("limits.memory", "256MB").is_ok());
        assert!(check_instance_value("limits.memory", "50%").is_ok());
        assert!(check_instance_value("limits.cpu.allowance", "25ms/100ms").is_ok());
        assert!(check_instance_value("limits.cpu.priority", "11").is_err());
    }

    #[test]
    fn check_instance_value_idmap_numbers_uint32_lxd_texts() {
        let err = |k, v| check_instance_value(k, v).unwrap_err().to_string();
        assert_eq!(
            err("security.idmap.size", "abc"),
            r#"Invalid value for uint32 "abc": strconv.ParseUint: parsing "abc": invalid syntax"#
        );
        assert_eq!(
            err("security.idmap.base", "-5"),
            r#"Invalid value for uint32 "-5": strconv.ParseUint: parsing "-5": invalid syntax"#
        );
        assert_eq!(
            err("security.idmap.size", "5000000000"),
            r#"Invalid value for uint32 "5000000000": strconv.ParseUint: parsing "5000000000": value out of range"#
        );
        assert!(check_instance_value("security.idmap.base", "4294967295").is_ok());
    }
}
