//! Background operations (`shared/api/operation.go`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an operation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationClass {
    Task,
    Websocket,
    Token,
}

impl OperationClass {
    /// The class as LXD writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Websocket => "websocket",
            Self::Token => "token",
        }
    }
}

/// An operation as served by `/1.0/operations/<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub id: String,
    pub class: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
    pub status: String,
    pub status_code: u16,
    pub resources: Option<BTreeMap<String, Vec<String>>>,
    pub metadata: Option<serde_json::Map<String, Value>>,
    pub may_cancel: bool,
    pub err: String,
    pub location: String,
}
