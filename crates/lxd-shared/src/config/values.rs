//! Value checkers shared by the server and instance schemas.

/// Parse a boolean the way LXD does (`shared.IsTrue`/`IsFalse` plus Go's ParseBool forms).
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "yes" | "on" => Some(true),
        "0" | "f" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Compressors accepted by `images.compression_algorithm` and `backups.compression_algorithm`.
pub const COMPRESSORS: &[&str] = &[
    "none", "gzip", "bzip2", "lzma", "xz", "zstd", "squashfs", "pigz", "lz4",
];

/// Whether `value` names a usable compression algorithm (optionally with arguments).
pub fn is_compression_algorithm(value: &str) -> bool {
    let name = value.split_whitespace().next().unwrap_or("");
    COMPRESSORS.contains(&name)
}

/// Architecture names LXD knows.
pub const ARCHITECTURES: &[&str] = &[
    "i686", "x86_64", "armv6l", "armv7l", "armv8l", "aarch64", "ppc", "ppc64", "ppc64le", "s390x",
    "mips", "mips64", "riscv32", "riscv64",
];

/// The fields of an expiry expression such as `1d 3H` (LXD's `GetExpiry`): units `S` seconds,
/// `M` minutes, `H` hours, `d` days, `w` weeks, `m` months, `y` years, each at most once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expiry {
    pub seconds: i64,
    pub minutes: i64,
    pub hours: i64,
    pub days: i64,
    pub weeks: i64,
    pub months: i64,
    pub years: i64,
}

/// Parse an expiry expression; `Some(Expiry::default())` for an empty one, `None` when LXD
/// answers "Invalid expiry expression" (unknown unit, not a number, a unit given twice).
pub fn parse_expiry(value: &str) -> Option<Expiry> {
    let expr = value.trim();
    let mut out = Expiry::default();
    if expr.is_empty() {
        return Some(out);
    }
    for part in expr.split(' ') {
        let (num, unit) = part.split_at(part.len().saturating_sub(1));
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: i64 = num.parse().ok()?;
        let slot = match unit {
            "S" => &mut out.seconds,
            "M" => &mut out.minutes,
            "H" => &mut out.hours,
            "d" => &mut out.days,
            "w" => &mut out.weeks,
            "m" => &mut out.months,
            "y" => &mut out.years,
            _ => return None,
        };
        if *slot > 0 {
            return None;
        }
        *slot = n;
    }
    Some(out)
}

/// Whether `value` is a valid expiry expression (see [`parse_expiry`]).
pub fn is_expiry(value: &str) -> bool {
    parse_expiry(value).is_some()
}

/// A CPU limit: a count (`2`) or a set of ranges (`0-3,7`).
pub fn is_cpu_limit(value: &str) -> bool {
    if value.parse::<u64>().is_ok() {
        return true;
    }
    !value.is_empty()
        && value.split(',').all(|part| {
            let mut ends = part.splitn(2, '-');
            let a = ends
                .next()
                .map(|s| s.parse::<u64>().is_ok())
                .unwrap_or(false);
            let b = ends
                .next()
                .map(|s| s.parse::<u64>().is_ok())
                .unwrap_or(true);
            a && b
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bool_accepts_lxd_forms() {
        assert_eq!(parse_bool("yes"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn is_cpu_limit_counts_and_ranges() {
        assert!(is_cpu_limit("2"));
        assert!(is_cpu_limit("0-3,7"));
        assert!(!is_cpu_limit("abc"));
        assert!(!is_cpu_limit("1-"));
    }

    #[test]
    fn is_expiry_units() {
        assert!(is_expiry("1d 2w"));
        assert!(!is_expiry("foo"));
        assert!(!is_expiry("1d 1d"));
        assert!(!is_expiry("1x"));
        assert!(is_expiry("1S"));
        assert_eq!(
            parse_expiry("1M 2H"),
            Some(Expiry {
                minutes: 1,
                hours: 2,
                ..Default::default()
            })
        );
        assert_eq!(parse_expiry(""), Some(Expiry::default()));
    }
}
