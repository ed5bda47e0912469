//! Server configuration keys (`lxd/cluster/config`, `lxd/node/config`) and their checks.

use super::values::{is_compression_algorithm, is_expiry, parse_bool, ARCHITECTURES};

/// The kind of value a server key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKeyKind {
    String,
    Bool,
    Int,
    Compression,
    Architecture,
    Expiry,
    Address,
    PoolVolume,
}

/// One server key.
#[derive(Debug, Clone, Copy)]
pub struct ServerKey {
    pub name: &'static str,
    pub kind: ServerKeyKind,
    pub default: &'static str,
    /// Hidden keys are shown as `true` and stored hashed.
    pub hidden: bool,
}

const fn key(name: &'static str, kind: ServerKeyKind, default: &'static str) -> ServerKey {
    ServerKey {
        name,
        kind,
        default,
        hidden: false,
    }
}

use ServerKeyKind as K;

/// Every server key LXD 5.0.2 knows.
pub const SERVER_KEYS: &[ServerKey] = &[
    key("backups.compression_algorithm", K::Compression, "gzip"),
    key("candid.api.key", K::String, ""),
    key("candid.api.url", K::String, ""),
    key("candid.domains", K::String, ""),
    key("candid.expiry", K::Int, "3600"),
    key("cluster.https_address", K::Address, ""),
    key("cluster.images_minimal_replica", K::Int, "3"),
    key("cluster.max_standby", K::Int, "2"),
    key("cluster.max_voters", K::Int, "3"),
    key("cluster.offline_threshold", K::Int, "20"),
    key("core.bgp_address", K::Address, ""),
    key("core.bgp_asn", K::Int, ""),
    key("core.bgp_routerid", K::String, ""),
    key("core.debug_address", K::Address, ""),
    key("core.dns_address", K::Address, ""),
    key("core.https_address", K::Address, ""),
    key("core.https_allowed_credentials", K::Bool, "false"),
    key("core.https_allowed_headers", K::String, ""),
    key("core.https_allowed_methods", K::String, ""),
    key("core.https_allowed_origin", K::String, ""),
    key("core.https_trusted_proxy", K::String, ""),
    key("core.metrics_address", K::Address, ""),
    key("core.metrics_authentication", K::Bool, "true"),
    key("core.proxy_http", K::String, ""),
    key("core.proxy_https", K::String, ""),
    key("core.proxy_ignore_hosts", K::String, ""),
    key("core.remote_token_expiry", K::Expiry, ""),
    key("core.shutdown_timeout", K::Int, "5"),
    key("core.trust_ca_certificates", K::Bool, "false"),
    ServerKey {
        name: "core.trust_password",
        kind: K::String,
        default: "",
        hidden: true,
    },
    key("images.auto_update_cached", K::Bool, "true"),
    key("images.auto_update_interval", K::Int, "6"),
    key("images.compression_algorithm", K::Compression, "gzip"),
    key("images.default_architecture", K::Architecture, ""),
    key("images.remote_cache_expiry", K::Int, "10"),
    key("maas.api.key", K::String, ""),
    key("maas.api.url", K::String, ""),
    key("maas.machine", K::String, ""),
    key("network.ovn.integration_bridge", K::String, "br-int"),
    key(
        "network.ovn.northbound_connection",
        K::String,
        "unix:/var/run/ovn/ovnnb_db.sock",
    ),
    key("rbac.agent.url", K::String, ""),
    key("rbac.agent.username", K::String, ""),
    key("rbac.agent.private_key", K::String, ""),
    key("rbac.agent.public_key", K::String, ""),
    key("rbac.api.expiry", K::Int, "3600"),
    key("rbac.api.key", K::String, ""),
    key("rbac.api.url", K::String, ""),
    key("storage.backups_volume", K::PoolVolume, ""),
    key("storage.images_volume", K::PoolVolume, ""),
];

/// A refused server setting, with LXD's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfigError {
    pub key: String,
    /// The refused value; `None` when the value was not a string at all.
    pub value: Option<String>,
    pub reason: String,
}

impl ServerConfigError {
    /// A value of the wrong JSON type (`type_name` as Go names it, e.g. `float64`).
    pub fn invalid_type(key: &str, type_name: &str) -> Self {
        Self {
            key: key.to_string(),
            value: None,
            reason: format!("invalid type {type_name}"),
        }
    }
}

impl std::fmt::Display for ServerConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "cannot set '{}' to '{}': {}", self.key, v, self.reason),
            None => write!(f, "cannot set '{}': {}", self.key, self.reason),
        }
    }
}

impl std::error::Error for ServerConfigError {}

/// Look a key up; `user.*` keys are free-form strings.
pub fn server_key(name: &str) -> Option<ServerKey> {
    if name.starts_with("user.") {
        return Some(ServerKey {
            name: "user.*",
            kind: K::String,
            default: "",
            hidden: false,
        });
    }
    SERVER_KEYS.iter().copied().find(|k| k.name == name)
}

/// Check `value` for `name` and return its normalised form (booleans become `true`/`false`).
pub fn check_server_value(name: &str, value: &str) -> Result<String, ServerConfigError> {
    let fail = |reason: String| ServerConfigError {
        key: name.to_string(),
        value: Some(value.to_string()),
        reason,
    };
    let key = server_key(name).ok_or_else(|| fail("unknown key".into()))?;
    if value.is_empty() {
        return Ok(String::new());
    }
    match key.kind {
        K::String => Ok(value.to_string()),
        K::Bool => parse_bool(value)
            .map(|b| b.to_string())
            .ok_or_else(|| fail("invalid boolean".into())),
        K::Int => value
            .parse::<i64>()
            .map(|_| value.to_string())
            .map_err(|_| fail("invalid integer".into())),
        K::Compression if is_compression_algorithm(value) => Ok(value.to_string()),
        K::Compression => Err(fail(format!("Invalid compression algorithm {value:?}"))),
        K::Architecture if ARCHITECTURES.contains(&value) => Ok(value.to_string()),
        K::Architecture => Err(fail(format!("Invalid value {value:?}"))),
        K::Expiry if is_expiry(value) => Ok(value.to_string()),
        K::Expiry => Err(fail("Invalid expiry expression".into())),
        K::Address if is_listen_address(value) => Ok(value.to_string()),
        K::Address => Err(fail(format!("Couldn't resolve {value:?}"))),
        K::PoolVolume if value.split('/').count() == 2 && !value.starts_with('/') => {
            Ok(value.to_string())
        }
        K::PoolVolume => Err(fail(
            "Invalid syntax for volume, must be <pool>/<volume>".into(),
        )),
    }
}

/// `[::]:8443`, `:8443`, `127.0.0.1`, `host:port`: something that can be listened on.
fn is_listen_address(value: &str) -> bool {
    let (host, port) = match value.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') || h.starts_with('[') => (h, Some(p)),
        _ => (value, None),
    };
    if let Some(p) = port {
        if p.parse::<u16>().is_err() {
            return false;
        }
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.is_empty()
        || host.parse::<std::net::IpAddr>().is_ok()
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_server_value_unknown_key_refused_with_lxd_text() {
        let err = check_server_value("core.nonsense", "1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot set 'core.nonsense' to '1': unknown key"
        );
    }

    #[test]
    fn check_server_value_types_checked() {
        assert_eq!(
            check_server_value("images.auto_update_interval", "abc")
                .unwrap_err()
                .to_string(),
            "cannot set 'images.auto_update_interval' to 'abc': invalid integer"
        );
        assert_eq!(
            check_server_value("images.auto_update_cached", "yes").unwrap(),
            "true"
        );
        assert!(check_server_value("user.anything", "x").is_ok());
        assert!(check_server_value("core.https_address", "[::]:8443").is_ok());
        assert!(check_server_value("core.https_address", ":8443").is_ok());
        assert!(check_server_value("core.https_address", "127.0.0.1:18443").is_ok());
        assert!(check_server_value("core.https_address", "nonsense:::").is_err());
        assert!(check_server_value("storage.images_volume", "foo").is_err());
    }
}
