//! Pool config validation shared by the drivers, with LXD's rules and error texts
//! (`validatePoolCommonRules` plus each driver's own keys).

use crate::driver::PoolConfig;
use crate::error::StorageError;

/// How one key's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Any,
    /// Empty or a byte size (`10GiB`, `500MB`, `1024`).
    Size,
    /// Empty or a boolean as LXD spells them.
    Bool,
}

/// Keys every driver accepts.
pub const COMMON_RULES: &[(&str, Rule)] = &[
    ("source", Rule::Any),
    ("volatile.initial_source", Rule::Any),
    ("rsync.bwlimit", Rule::Size),
    ("rsync.compression", Rule::Bool),
    ("volume.size", Rule::Size),
    ("volume.snapshots.expiry", Rule::Any),
    ("volume.snapshots.schedule", Rule::Any),
    ("volume.snapshots.pattern", Rule::Any),
    ("volume.security.shifted", Rule::Bool),
    ("volume.security.unmapped", Rule::Bool),
];

fn check(rule: Rule, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    match rule {
        Rule::Any => Ok(()),
        Rule::Size => lxd_shared::units::parse_byte_size(value)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Rule::Bool => lxd_shared::config::values::parse_bool(value)
            .map(|_| ())
            .ok_or_else(|| format!("Invalid value for a boolean {value:?}")),
    }
}

/// Check `config` against the common rules plus `driver_rules`; `user.*` keys are free.
pub fn validate(config: &PoolConfig, driver_rules: &[(&str, Rule)]) -> Result<(), StorageError> {
    let rule_of = |key: &str| {
        COMMON_RULES
            .iter()
            .chain(driver_rules)
            .find(|(k, _)| *k == key)
            .map(|(_, r)| *r)
    };
    for (key, value) in config {
        if let Some(rule) = rule_of(key) {
            check(rule, value).map_err(|reason| StorageError::InvalidValue {
                key: key.clone(),
                reason,
            })?;
        }
    }
    match config
        .keys()
        .find(|k| rule_of(k).is_none() && !k.starts_with("user."))
    {
        Some(k) => Err(StorageError::UnknownOption(k.clone())),
        None => Ok(()),
    }
}

/// A size key's value in bytes; empty or absent is `None`.
pub fn size_of(config: &PoolConfig, key: &str) -> Result<Option<u64>, StorageError> {
    match config.get(key).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => lxd_shared::units::parse_byte_size(v)
            .map(Some)
            .map_err(|e| StorageError::InvalidValue {
                key: key.to_string(),
                reason: e.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> PoolConfig {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn validate_bad_values_lxd_texts() {
        let err = validate(&cfg(&[("rsync.compression", "maybe")]), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value for option \"rsync.compression\": Invalid value for a boolean \"maybe\""
        );
        let err = validate(&cfg(&[("volume.size", "big")]), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid value for option \"volume.size\": Invalid value: big"
        );
    }

    #[test]
    fn validate_unknown_key_refused_user_key_allowed() {
        let err = validate(&cfg(&[("size", "1GiB")]), &[]).unwrap_err();
        assert_eq!(err.to_string(), "Invalid option \"size\"");
        validate(
            &cfg(&[("size", "1GiB"), ("user.x", "y")]),
            &[("size", Rule::Size)],
        )
        .unwrap();
    }
}
