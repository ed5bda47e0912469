//! Status codes of operations and resources (`shared/api/status_code.go`).

use serde::{Deserialize, Serialize};

/// An LXD status code; codes of 200 and above are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u16", try_from = "u16")]
pub enum StatusCode {
    OperationCreated,
    Started,
    Stopped,
    Running,
    Cancelling,
    Pending,
    Starting,
    Stopping,
    Aborting,
    Freezing,
    Frozen,
    Thawed,
    Error,
    Ready,
    Success,
    Failure,
    Cancelled,
}

impl StatusCode {
    const ALL: [StatusCode; 17] = [
        Self::OperationCreated,
        Self::Started,
        Self::Stopped,
        Self::Running,
        Self::Cancelling,
        Self::Pending,
        Self::Starting,
        Self::Stopping,
        Self::Aborting,
        Self::Freezing,
        Self::Frozen,
        Self::Thawed,
        Self::Error,
        Self::Ready,
        Self::Success,
        Self::Failure,
        Self::Cancelled,
    ];

    /// The numeric code on the wire.
    pub fn code(self) -> u16 {
        match self {
            Self::OperationCreated => 100,
            Self::Started => 101,
            Self::Stopped => 102,
            Self::Running => 103,
            Self::Cancelling => 104,
            Self::Pending => 105,
            Self::Starting => 106,
            Self::Stopping => 107,
            Self::Aborting => 108,
            Self::Freezing => 109,
            Self::Frozen => 110,
            Self::Thawed => 111,
            Self::Error => 112,
            Self::Ready => 113,
            Self::Success => 200,
            Self::Failure => 400,
            Self::Cancelled => 401,
        }
    }

    /// The text LXD pairs with the code.
    pub fn text(self) -> &'static str {
        match self {
            Self::OperationCreated => "Operation created",
            Self::Started => "Started",
            Self::Stopped => "Stopped",
            Self::Running => "Running",
            Self::Cancelling => "Cancelling",
            Self::Pending => "Pending",
            Self::Starting => "Starting",
            Self::Stopping => "Stopping",
            Self::Aborting => "Aborting",
            Self::Freezing => "Freezing",
            Self::Frozen => "Frozen",
            Self::Thawed => "Thawed",
            Self::Error => "Error",
            Self::Ready => "Ready",
            Self::Success => "Success",
            Self::Failure => "Failure",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Whether the state is final (nothing more will happen).
    pub fn is_final(self) -> bool {
        self.code() >= 200
    }
}

impl From<StatusCode> for u16 {
    fn from(s: StatusCode) -> u16 {
        s.code()
    }
}

impl TryFrom<u16> for StatusCode {
    type Error = String;

    fn try_from(code: u16) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or_else(|| format!("Unknown status code {code}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_code_round_trip_every_code() {
        for s in StatusCode::ALL {
            assert_eq!(StatusCode::try_from(s.code()).unwrap(), s);
        }
        assert!(StatusCode::try_from(999).is_err());
    }

    #[test]
    fn status_code_final_only_from_200() {
        assert!(!StatusCode::Running.is_final());
        assert!(StatusCode::Success.is_final());
        assert!(StatusCode::Cancelled.is_final());
    }
}
