//! The server object of `GET /1.0` (`shared/api/server.go`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The writable part of the server: its configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerPut {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: serde_json::Map<String, Value>,
}

/// What an untrusted caller may see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerUntrusted {
    pub api_extensions: Vec<String>,
    pub api_status: String,
    pub api_version: String,
    pub auth: String,
    pub public: bool,
    pub auth_methods: Vec<String>,
}

/// One storage driver the server supports. LXD 5.0.2 has no json tags here, so the keys
/// are capitalised on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerStorageDriverInfo {
    pub name: String,
    pub version: String,
    pub remote: bool,
}

/// The server's environment, shown to trusted callers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerEnvironment {
    pub addresses: Vec<String>,
    pub architectures: Vec<String>,
    pub certificate: String,
    pub certificate_fingerprint: String,
    pub driver: String,
    pub driver_version: String,
    pub firewall: String,
    pub kernel: String,
    pub kernel_architecture: String,
    pub kernel_features: BTreeMap<String, String>,
    pub kernel_version: String,
    pub lxc_features: BTreeMap<String, String>,
    pub os_name: String,
    pub os_version: String,
    pub project: String,
    pub server: String,
    pub server_clustered: bool,
    pub server_event_mode: String,
    pub server_name: String,
    pub server_pid: i64,
    pub server_version: String,
    pub storage: String,
    pub storage_version: String,
    pub storage_supported_drivers: Vec<ServerStorageDriverInfo>,
}

/// The full server object for trusted callers (Go flattens the embedded structs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Server {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub config: serde_json::Map<String, Value>,
    #[serde(flatten)]
    pub untrusted: ServerUntrusted,
    #[serde(default)]
    pub environment: ServerEnvironment,
}
