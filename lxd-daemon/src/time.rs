//! Timestamps formatted as LXD's Go code prints them.

use chrono::{SecondsFormat, Utc};

/// Now, as RFC 3339 with nanoseconds and a `Z` suffix (Go's `time.RFC3339Nano` in UTC).
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
