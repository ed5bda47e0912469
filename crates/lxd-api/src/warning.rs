//! Warnings (`shared/api/warning.go`).

use serde::{Deserialize, Serialize};

/// A recorded warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub status: String,
    pub uuid: String,
    pub location: String,
    pub project: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub count: u64,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub last_message: String,
    pub severity: String,
    pub entity_url: String,
}

/// The writable part of a warning (its status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningPut {
    pub status: String,
}
