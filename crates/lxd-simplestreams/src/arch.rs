//! Architecture names as LXD's `osarch` package knows them: the canonical kernel names and
//! the distribution aliases simplestreams products use (`amd64`, `arm64`, `ppc64el` ...).

/// Canonical names and their aliases, as in LXD 5.0.2's `shared/osarch`.
const ARCHITECTURES: &[(&str, &[&str])] = &[
    ("i686", &["i386", "i586", "386", "x86", "generic_32"]),
    ("x86_64", &["amd64", "generic_64"]),
    ("armv6l", &["armel", "arm"]),
    (
        "armv7l",
        &[
            "armhf",
            "armhfp",
            "armv7a_hardfp",
            "armv7",
            "armv7a_vfpv3_hardfp",
        ],
    ),
    ("armv8l", &[]),
    ("aarch64", &["arm64", "arm64_generic"]),
    ("ppc", &["powerpc"]),
    ("ppc64", &["powerpc64", "ppc64"]),
    ("ppc64le", &["ppc64el"]),
    ("s390x", &[]),
    ("mips", &["mipsel"]),
    ("mips64", &["mips64el"]),
    ("riscv32", &[]),
    ("riscv64", &[]),
];

/// 32-bit personalities a 64-bit host also runs (`ArchitecturePersonalities`).
const PERSONALITIES: &[(&str, &[&str])] = &[
    ("x86_64", &["i686"]),
    ("armv7l", &["armv6l"]),
    ("armv8l", &["armv6l", "armv7l"]),
    ("aarch64", &["armv6l", "armv7l", "armv8l"]),
    ("ppc64", &["ppc"]),
    ("mips64", &["mips"]),
];

/// The canonical name of an architecture or alias (`amd64` → `x86_64`); `None` when LXD does
/// not know it (such products are skipped).
pub fn canonical_name(name: &str) -> Option<&'static str> {
    ARCHITECTURES
        .iter()
        .find(|(canonical, aliases)| *canonical == name || aliases.contains(&name))
        .map(|(canonical, _)| *canonical)
}

/// The distribution name simplestreams uses for a canonical name (`x86_64` → `amd64`): the
/// first alias, or the name itself when it has none.
pub fn distribution_name(canonical: &str) -> &str {
    ARCHITECTURES
        .iter()
        .find(|(c, _)| *c == canonical)
        .and_then(|(_, aliases)| aliases.first().copied())
        .unwrap_or(canonical)
}

/// Whether a host of architecture `host` also runs `arch` as a personality.
pub fn is_personality(host: &str, arch: &str) -> bool {
    PERSONALITIES
        .iter()
        .any(|(h, personalities)| *h == host && personalities.contains(&arch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_name_maps_distribution_aliases() {
        assert_eq!(canonical_name("amd64"), Some("x86_64"));
        assert_eq!(canonical_name("x86_64"), Some("x86_64"));
        assert_eq!(canonical_name("arm64"), Some("aarch64"));
        assert_eq!(canonical_name("ppc64el"), Some("ppc64le"));
        assert_eq!(canonical_name("s390x"), Some("s390x"));
        assert_eq!(canonical_name("sparc"), None);
    }

    #[test]
    fn distribution_name_is_first_alias() {
        assert_eq!(distribution_name("x86_64"), "amd64");
        assert_eq!(distribution_name("aarch64"), "arm64");
        assert_eq!(distribution_name("s390x"), "s390x");
    }

    #[test]
    fn personality_of_64_bit_hosts() {
        assert!(is_personality("x86_64", "i686"));
        assert!(!is_personality("x86_64", "aarch64"));
    }
}
