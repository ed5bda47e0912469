//! Custom volume config checks with LXD 5.0.2's texts (dir and btrfs accept the same keys:
//! `size`, `snapshots.*`, `security.shifted`/`unmapped`, the idmap volatile keys, `user.*`;
//! `block.*` belongs to block-backed drivers and is refused here).

use lxd_api::ConfigMap;
use lxd_shared::config::values::{is_expiry, parse_bool};

use crate::api::ApiError;

const BOOLS: &[&str] = &["security.shifted", "security.unmapped"];
const FREE: &[&str] = &[
    "snapshots.pattern",
    "volatile.idmap.last",
    "volatile.idmap.next",
];

/// Check `config` of the volume stored as `storage_name` (LXD names it in its errors).
pub fn validate(storage_name: &str, config: &ConfigMap) -> Result<(), ApiError> {
    for (key, value) in config {
        let invalid = |why: String| {
            ApiError::internal(format!(
                "Invalid value for volume {storage_name:?} option {key:?}: {why}"
            ))
        };
        match key.as_str() {
            k if k.starts_with("user.") || FREE.contains(&k) => {}
            k if BOOLS.contains(&k) => {
                if !value.is_empty() && parse_bool(value).is_none() {
                    return Err(invalid(format!("Invalid value for a boolean {value:?}")));
                }
            }
            "size" => {
                if !value.is_empty() && lxd_shared::units::parse_byte_size(value).is_err() {
                    return Err(invalid(format!("Invalid value: {value}")));
                }
            }
            "snapshots.expiry" => {
                if !value.is_empty() && !is_expiry(value) {
                    return Err(invalid("Invalid expiry expression".into()));
                }
            }
            "snapshots.schedule" => {
                if !value.is_empty() && !is_schedule(value) {
                    return Err(invalid(
                        "Schedule must be of the form: <minute> <hour> <day-of-month> <month> <day-of-week>"
                            .into(),
                    ));
                }
            }
            _ => {
                return Err(ApiError::internal(format!(
                    "Invalid option for volume {storage_name:?} option {key:?}"
                )))
            }
        }
    }
    Ok(())
}

/// A cron expression (five fields) or one of the `@` aliases LXD accepts, possibly a
/// comma-separated list of them.
fn is_schedule(value: &str) -> bool {
    const ALIASES: &[&str] = &[
        "@hourly",
        "@daily",
        "@midnight",
        "@weekly",
        "@monthly",
        "@annually",
        "@yearly",
        "@startup",
        "@never",
    ];
    value.split(',').map(str::trim).all(|s| {
        ALIASES.contains(&s)
            || (s.split_whitespace().count() == 5
                && s.split_whitespace().all(|f| {
                    f.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))
                }))
    })
}

/// The quota in bytes from `size` (`None` when unset or empty).
pub fn size_of(config: &ConfigMap) -> Option<u64> {
    config
        .get("size")
        .filter(|s| !s.is_empty())
        .and_then(|s| lxd_shared::units::parse_byte_size(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(k: &str, v: &str) -> ConfigMap {
        [(k.to_string(), v.to_string())].into()
    }

    fn err(k: &str, v: &str) -> String {
        validate("default_t1", &cfg(k, v)).unwrap_err().to_string()
    }

    #[test]
    fn validate_texts_match_lxd() {
        assert_eq!(
            err("foo", "bar"),
            "Invalid option for volume \"default_t1\" option \"foo\""
        );
        assert_eq!(
            err("size", "abc"),
            "Invalid value for volume \"default_t1\" option \"size\": Invalid value: abc"
        );
        assert_eq!(
            err("security.shifted", "bad"),
            "Invalid value for volume \"default_t1\" option \"security.shifted\": Invalid value for a boolean \"bad\""
        );
        assert_eq!(
            err("snapshots.expiry", "bad"),
            "Invalid value for volume \"default_t1\" option \"snapshots.expiry\": Invalid expiry expression"
        );
        assert!(err("snapshots.schedule", "bogus").contains("Schedule must be"));
        assert!(err("block.filesystem", "ext4").contains("Invalid option"));
        assert!(err("volatile.foo", "x").contains("Invalid option"));
    }

    #[test]
    fn validate_accepts_lxd_keys() {
        for (k, v) in [
            ("user.foo", "x"),
            ("size", "1GiB"),
            ("size", ""),
            ("snapshots.schedule", "@daily"),
            ("snapshots.schedule", "0 6 * * *"),
            ("snapshots.pattern", "x%d"),
            ("snapshots.expiry", "1d"),
            ("security.unmapped", "true"),
            ("volatile.idmap.last", "[]"),
        ] {
            validate("v", &cfg(k, v)).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        }
    }
}
