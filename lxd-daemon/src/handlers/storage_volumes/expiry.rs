//! Snapshot expiry dates from `snapshots.expiry` expressions (`1d`, `2w 3H`: `S`econds,
//! `M`inutes, `H`ours, `d`ays, `w`eeks, `m`onths, `y`ears), as LXD's `GetExpiry` computes them.

use chrono::{DateTime, Duration, Months, SecondsFormat, Utc};

/// The expiry of a snapshot taken at `now` under `expression`; `None` for an empty or
/// invalid expression (no expiry).
pub fn expiry_from(now: DateTime<Utc>, expression: &str) -> Option<String> {
    if expression.trim().is_empty() {
        return None;
    }
    let mut at = now;
    for part in expression.split_whitespace() {
        let (num, unit) = part.split_at(part.len().saturating_sub(1));
        let n: i64 = num.parse().ok()?;
        at = match unit {
            "S" => at + Duration::seconds(n),
            "M" => at + Duration::minutes(n),
            "H" => at + Duration::hours(n),
            "d" => at + Duration::days(n),
            "w" => at + Duration::weeks(n),
            "m" => at.checked_add_months(Months::new(u32::try_from(n).ok()?))?,
            "y" => at.checked_add_months(Months::new(u32::try_from(n * 12).ok()?))?,
            _ => return None,
        };
    }
    Some(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Whether an API expiry (`None`, LXD's zero time) means "never".
pub fn is_never(expires_at: Option<&str>) -> bool {
    match expires_at {
        None => true,
        Some(t) => t.is_empty() || t.starts_with("0001-01-01"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_from_adds_units() {
        let now = DateTime::parse_from_rfc3339("2026-01-31T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            expiry_from(now, "1d 2H").as_deref(),
            Some("2026-02-01T12:00:00Z")
        );
        assert_eq!(
            expiry_from(now, "1y").as_deref(),
            Some("2027-01-31T10:00:00Z")
        );
        assert_eq!(expiry_from(now, ""), None);
        assert_eq!(expiry_from(now, "x"), None);
        assert!(is_never(Some("0001-01-01T00:00:00Z")) && !is_never(Some("2026-01-01T00:00:00Z")));
    }
}
