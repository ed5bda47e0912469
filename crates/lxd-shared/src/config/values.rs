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

/// An expiry expression such as `1d 2w 3M` (units: M minutes, H hours, d, w, m months, y).
pub fn is_expiry(value: &str) -> bool {
    value.split_whitespace().all(|part| {
        let (num, unit) = part.split_at(part.len().saturating_sub(1));
        !num.is_empty()
            && num.parse::<u64>().is_ok()
            && matches!(unit, "S" | "M" | "H" | "d" | "w" | "m" | "y")
    })
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
    }
}
