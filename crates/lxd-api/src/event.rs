//! Events sent on `/1.0/events` (`shared/api/event.go`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One event frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: String,
    pub metadata: Value,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project: String,
}

/// Metadata of a `logging` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLogging {
    pub message: String,
    pub level: String,
    pub context: std::collections::BTreeMap<String, String>,
}

/// Who caused a lifecycle event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLifecycleRequestor {
    pub username: String,
    pub protocol: String,
    pub address: String,
}

/// Metadata of a `lifecycle` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLifecycle {
    pub action: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requestor: Option<EventLifecycleRequestor>,
}
