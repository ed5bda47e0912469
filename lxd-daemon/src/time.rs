//! Timestamps formatted as LXD's Go code prints them, and parsed as Go parses them.

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Timelike, Utc};

/// Go's zero `time.Time` as RFC 3339.
pub const ZERO: &str = "0001-01-01T00:00:00Z";

/// Now, as RFC 3339 with nanoseconds and a `Z` suffix (Go's `time.RFC3339Nano` in UTC).
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `t` as Go's `time.RFC3339Nano` prints a UTC time: fractional seconds without trailing zeros.
pub fn go_rfc3339(t: DateTime<Utc>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos == 0 {
        return format!("{base}Z");
    }
    let frac = format!("{nanos:09}");
    format!("{base}.{}Z", frac.trim_end_matches('0'))
}

/// Parse an RFC 3339 time as Go's `time.Time` JSON decoder does; the error is Go's text.
pub fn parse_go_time(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "parsing time {:?} as \"\\\"2006-01-02T15:04:05Z07:00\\\"\": cannot parse {:?} as \"2006\"",
                format!("\"{value}\""),
                format!("{value}\"")
            )
        })
}

/// Normalise an RFC 3339 value to how LXD echoes it back (UTC, Go's format); Go's zero time
/// stays as it is.
pub fn normalise(value: &str) -> Result<String, String> {
    if value == ZERO {
        return Ok(ZERO.to_string());
    }
    parse_go_time(value).map(go_rfc3339)
}

/// Go's `Time.AddDate(years, months, days)`: out-of-range days roll over into the next
/// month (31 January + 1 month = 3 March), unlike chrono's clamping.
fn add_date(t: DateTime<Utc>, years: i64, months: i64, days: i64) -> Option<DateTime<Utc>> {
    let total = i64::from(t.year()) * 12 + i64::from(t.month0()) + years * 12 + months;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let first = NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month0).ok()? + 1,
        1,
    )?;
    let date = first.checked_add_signed(Duration::days(i64::from(t.day()) - 1 + days))?;
    Some(date.and_time(t.time()).and_utc())
}

/// LXD's `GetExpiry`: `now` plus an expiry expression (`1d 3H`); `Ok(None)` for an empty one.
pub fn expiry_after(now: DateTime<Utc>, expr: &str) -> Result<Option<DateTime<Utc>>, String> {
    let e = lxd_shared::config::values::parse_expiry(expr)
        .ok_or_else(|| "Invalid expiry expression".to_string())?;
    if expr.trim().is_empty() {
        return Ok(None);
    }
    let invalid = || "Invalid expiry expression".to_string();
    let t = add_date(now, e.years, e.months, e.days + e.weeks * 7).ok_or_else(invalid)?;
    let extra = Duration::try_hours(e.hours)
        .zip(Duration::try_minutes(e.minutes))
        .zip(Duration::try_seconds(e.seconds))
        .map(|((h, m), s)| h + m + s)
        .ok_or_else(invalid)?;
    t.checked_add_signed(extra).map(Some).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn expiry_after_minutes_and_hours() {
        let t = expiry_after(at("2026-12-02T17:54:25.5Z"), "1M 2H").unwrap();
        assert_eq!(go_rfc3339(t.unwrap()), "2026-12-02T19:55:25.5Z");
    }

    #[test]
    fn expiry_after_month_rolls_over_as_go_does() {
        let t = expiry_after(at("2027-01-31T00:00:00Z"), "1m").unwrap();
        assert_eq!(go_rfc3339(t.unwrap()), "2027-03-03T00:00:00Z");
        let t = expiry_after(at("2027-01-01T00:00:00Z"), "2w 1y").unwrap();
        assert_eq!(go_rfc3339(t.unwrap()), "2028-01-15T00:00:00Z");
    }

    #[test]
    fn expiry_after_empty_and_invalid() {
        assert_eq!(expiry_after(Utc::now(), " ").unwrap(), None);
        assert_eq!(
            expiry_after(Utc::now(), "1d 1d").unwrap_err(),
            "Invalid expiry expression"
        );
    }

    #[test]
    fn parse_go_time_error_text_matches_go() {
        assert_eq!(
            parse_go_time("bad").unwrap_err(),
            r#"parsing time "\"bad\"" as "\"2006-01-02T15:04:05Z07:00\"": cannot parse "bad\"" as "2006""#
        );
        assert_eq!(
            normalise("2030-01-02T05:04:05+02:00").unwrap(),
            "2030-01-02T03:04:05Z"
        );
    }
}
