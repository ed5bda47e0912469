//! Byte sizes as LXD parses them: `MB` is 10^6 and `MiB` is 2^20 (`shared/units`).

use thiserror::Error;

/// A size string that is not a size.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Invalid value: {0}")]
pub struct SizeError(pub String);

const SUFFIXES: &[(&str, u64)] = &[
    ("EiB", 1 << 60),
    ("PiB", 1 << 50),
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("EB", 1_000_000_000_000_000_000),
    ("PB", 1_000_000_000_000_000),
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("kB", 1_000),
    ("KB", 1_000),
    ("B", 1),
];

/// Parse `256MB`, `1GiB`, `1024` (bytes) into a byte count.
pub fn parse_byte_size(input: &str) -> Result<u64, SizeError> {
    let bad = || SizeError(input.to_string());
    let s = input.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let (number, multiplier) = SUFFIXES
        .iter()
        .find_map(|(suffix, m)| s.strip_suffix(suffix).map(|n| (n, *m)))
        .unwrap_or((s, 1));
    let value: u64 = number.trim().parse().map_err(|_| bad())?;
    value.checked_mul(multiplier).ok_or_else(bad)
}

/// Render a byte count the way LXD's CLI does (`GetByteSizeString`): 1000-based units with
/// two decimals, e.g. `1.23GB`.
pub fn byte_size_string(bytes: u64, precision: usize) -> String {
    if bytes < 1000 {
        return format!("{bytes}B");
    }
    let units = ["kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in units {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.precision$}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_byte_size_decimal_and_binary_units() {
        assert_eq!(parse_byte_size("256MB").unwrap(), 256_000_000);
        assert_eq!(parse_byte_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_byte_size("1024").unwrap(), 1024);
        assert_eq!(parse_byte_size("2kB").unwrap(), 2000);
    }

    #[test]
    fn parse_byte_size_garbage_refused() {
        assert_eq!(
            parse_byte_size("abc").unwrap_err().to_string(),
            "Invalid value: abc"
        );
        assert!(parse_byte_size("").is_err());
        assert!(parse_byte_size("-1MB").is_err());
        assert!(parse_byte_size("99999999999EiB").is_err());
    }

    #[test]
    fn byte_size_string_uses_decimal_units() {
        assert_eq!(byte_size_string(999, 2), "999B");
        assert_eq!(byte_size_string(1_230_000_000, 2), "1.23GB");
    }
}
