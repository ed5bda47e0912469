//! The seven-key response envelope every endpoint answers with (`shared/api/response.go`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::status::StatusCode;

/// Kind of response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseType {
    Sync,
    Async,
    Error,
}

/// The raw envelope. All seven keys are always serialized, none is omitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    #[serde(rename = "type")]
    pub kind: ResponseType,
    pub status: String,
    pub status_code: u16,
    pub operation: String,
    pub error_code: u16,
    pub error: String,
    pub metadata: Value,
}

impl Response {
    /// A synchronous success carrying `metadata`.
    pub fn sync(metadata: Value) -> Self {
        Self {
            kind: ResponseType::Sync,
            status: StatusCode::Success.text().to_string(),
            status_code: StatusCode::Success.code(),
            operation: String::new(),
            error_code: 0,
            error: String::new(),
            metadata,
        }
    }

    /// A background operation was created; `operation` is its URL.
    pub fn asynchronous(operation: String, metadata: Value) -> Self {
        Self {
            kind: ResponseType::Async,
            status: StatusCode::OperationCreated.text().to_string(),
            status_code: StatusCode::OperationCreated.code(),
            operation,
            error_code: 0,
            error: String::new(),
            metadata,
        }
    }

    /// An error with its HTTP code and message.
    pub fn error(http_code: u16, message: impl Into<String>) -> Self {
        Self {
            kind: ResponseType::Error,
            status: String::new(),
            status_code: 0,
            operation: String::new(),
            error_code: http_code,
            error: message.into(),
            metadata: Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_sync_serializes_all_seven_keys_in_order() {
        let s = serde_json::to_string(&Response::sync(serde_json::json!(["/1.0"]))).unwrap();
        assert_eq!(
            s,
            r#"{"type":"sync","status":"Success","status_code":200,"operation":"","error_code":0,"error":"","metadata":["/1.0"]}"#
        );
    }

    #[test]
    fn envelope_error_has_null_metadata() {
        let s = serde_json::to_string(&Response::error(404, "not found")).unwrap();
        assert_eq!(
            s,
            r#"{"type":"error","status":"","status_code":0,"operation":"","error_code":404,"error":"not found","metadata":null}"#
        );
    }
}
