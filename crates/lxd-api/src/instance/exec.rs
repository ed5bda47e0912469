//! Exec and console requests (`shared/api/instance_exec.go`, `instance_console.go`) and the
//! JSON messages of their control websockets.

use serde::{Deserialize, Serialize};

use crate::ConfigMap;

/// Body of `POST /1.0/instances/<name>/exec`. Note the hyphenated JSON names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceExecPost {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub command: Vec<String>,
    #[serde(rename = "wait-for-websocket", default)]
    pub wait_for_websocket: bool,
    #[serde(default)]
    pub interactive: bool,
    /// Overrides the instance's `environment.*` and LXD's defaults.
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub environment: ConfigMap,
    #[serde(default)]
    pub width: i64,
    #[serde(default)]
    pub height: i64,
    /// Without websockets: keep stdout and stderr as instance log files.
    #[serde(rename = "record-output", default)]
    pub record_output: bool,
    /// Uid to run as (0 by default).
    #[serde(default)]
    pub user: u32,
    /// Gid to run as (0 by default).
    #[serde(default)]
    pub group: u32,
    /// Working directory; empty means `/root`.
    #[serde(default)]
    pub cwd: String,
}

/// A message on the exec control websocket: `window-resize` (args `width`, `height`) or
/// `signal` (with `signal`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceExecControl {
    #[serde(default)]
    pub command: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub args: ConfigMap,
    #[serde(default)]
    pub signal: i32,
}

/// Body of `POST /1.0/instances/<name>/console`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceConsolePost {
    #[serde(default)]
    pub width: i64,
    #[serde(default)]
    pub height: i64,
    /// `console` (default when empty) or `vga`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// A message on the console control websocket (`window-resize`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceConsoleControl {
    #[serde(default)]
    pub command: String,
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub args: ConfigMap,
}
