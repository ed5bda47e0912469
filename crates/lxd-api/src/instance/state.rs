//! Runtime state of an instance (`shared/api/instance_state.go`): `GET` and `PUT
//! /1.0/instances/<name>/state`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Body of `PUT /1.0/instances/<name>/state`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatePut {
    /// `start`, `stop`, `restart`, `freeze` or `unfreeze`.
    #[serde(default)]
    pub action: String,
    /// Seconds to wait for a clean stop; `-1` waits forever, `0` kills at once.
    #[serde(default)]
    pub timeout: i64,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub stateful: bool,
}

/// Live state as served by `GET /1.0/instances/<name>/state`.
///
/// A stopped instance has a `null` network (LXD only probes it while running); `disk` is
/// probed either way. `None` marshals as `null`, `Some` of an empty map as `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    #[serde(default)]
    pub status: String,
    /// A [`crate::StatusCode`] number.
    #[serde(default)]
    pub status_code: u16,
    #[serde(default)]
    pub disk: Option<BTreeMap<String, InstanceStateDisk>>,
    #[serde(default)]
    pub memory: InstanceStateMemory,
    #[serde(default)]
    pub network: Option<BTreeMap<String, InstanceStateNetwork>>,
    #[serde(default)]
    pub pid: i64,
    #[serde(default)]
    pub processes: i64,
    #[serde(default)]
    pub cpu: InstanceStateCpu,
}

/// Disk usage of one disk device, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStateDisk {
    #[serde(default)]
    pub usage: i64,
}

/// CPU time used, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStateCpu {
    #[serde(default)]
    pub usage: i64,
}

/// Memory and swap use, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStateMemory {
    #[serde(default)]
    pub usage: i64,
    #[serde(default)]
    pub usage_peak: i64,
    #[serde(default)]
    pub swap_usage: i64,
    #[serde(default)]
    pub swap_usage_peak: i64,
}

/// One network interface inside the instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStateNetwork {
    #[serde(default, deserialize_with = "crate::null_default::deserialize")]
    pub addresses: Vec<InstanceStateNetworkAddress>,
    #[serde(default)]
    pub counters: InstanceStateNetworkCounters,
    #[serde(default)]
    pub hwaddr: String,
    /// The host-side veth name.
    #[serde(default)]
    pub host_name: String,
    #[serde(default)]
    pub mtu: i64,
    /// `up` or `down`.
    #[serde(default)]
    pub state: String,
    /// `broadcast`, `loopback`, `point-to-point` ...
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// One address of an interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStateNetworkAddress {
    /// `inet` or `inet6`.
    #[serde(default)]
    pub family: String,
    #[serde(default)]
    pub address: String,
    /// Prefix length, as a decimal string.
    #[serde(default)]
    pub netmask: String,
    /// `global`, `link` or `local`.
    #[serde(default)]
    pub scope: String,
}

/// Traffic counters of an interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceStateNetworkCounters {
    #[serde(default)]
    pub bytes_received: i64,
    #[serde(default)]
    pub bytes_sent: i64,
    #[serde(default)]
    pub packets_received: i64,
    #[serde(default)]
    pub packets_sent: i64,
    #[serde(default)]
    pub errors_received: i64,
    #[serde(default)]
    pub errors_sent: i64,
    #[serde(default)]
    pub packets_dropped_outbound: i64,
    #[serde(default)]
    pub packets_dropped_inbound: i64,
}
