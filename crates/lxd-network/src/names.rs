//! Names and addresses LXD generates for NICs: host-side veth names (`veth` and 8 hex
//! digits), MAC addresses under LXD's `00:16:3e` prefix, and MAC parsing.

use rand::Rng;

/// A random interface name: `prefix` followed by 8 hex digits (`veth1a2b3c4d`).
pub fn random_dev_name(prefix: &str) -> String {
    let bytes: [u8; 4] = rand::rng().random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// A random MAC address with LXD's prefix: `00:16:3e:xx:xx:xx`.
pub fn random_hwaddr() -> String {
    let bytes: [u8; 3] = rand::rng().random();
    format!(
        "00:16:3e:{:02x}:{:02x}:{:02x}",
        bytes[0], bytes[1], bytes[2]
    )
}

/// Six colon-separated hex bytes (`00:16:3e:00:00:01`), or `None`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for byte in &mut out {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// A MAC address as LXD shows it (lower-case, colons).
pub fn format_mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_names_and_macs_follow_lxd_shapes() {
        let name = random_dev_name("veth");
        assert_eq!(name.len(), 12);
        assert!(name[4..].chars().all(|c| c.is_ascii_hexdigit()));
        let mac = random_hwaddr();
        assert!(mac.starts_with("00:16:3e:"), "{mac}");
        assert_eq!(format_mac(&parse_mac(&mac).unwrap()), mac);
    }

    #[test]
    fn parse_mac_refuses_malformed_addresses() {
        assert_eq!(
            parse_mac("00:16:3E:0a:00:ff"),
            Some([0, 0x16, 0x3e, 0x0a, 0, 0xff])
        );
        for bad in [
            "zz",
            "00:16:3e:00:00",
            "00:16:3e:00:00:00:01",
            "0:16:3e:00:00:01",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
    }
}
