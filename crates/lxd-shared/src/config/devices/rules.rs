//! Value checkers of device options, with the texts LXD's `shared/validate` and device
//! helpers give. Each takes a non-empty value (optional options skip empty ones).

use std::net::IpAddr;

use crate::config::values::parse_bool;

/// A checker: `Err` carries LXD's reason. Optional options are only checked when set.
pub type Rule = fn(&str) -> Result<(), String>;

pub fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// A required value (LXD's `IsNotEmpty`).
pub fn not_empty(value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err("Required value".into())
    } else {
        Ok(())
    }
}

pub fn is_bool(value: &str) -> Result<(), String> {
    let known = ["true", "false", "yes", "no", "1", "0", "on", "off"];
    if known.contains(&value.to_ascii_lowercase().as_str()) && parse_bool(value).is_some() {
        Ok(())
    } else {
        Err(format!("Invalid value for a boolean {value:?}"))
    }
}

pub fn is_uint32(value: &str) -> Result<(), String> {
    value.parse::<u32>().map(|_| ()).map_err(|_| {
        format!("Invalid value for uint32 {value:?}: strconv.ParseUint: parsing {value:?}: invalid syntax")
    })
}

/// A network interface name (2-15 characters of `[-_a-zA-Z0-9.]`).
pub fn is_interface_name(value: &str) -> Result<(), String> {
    if value.len() < 2 {
        return Err("Network interface is too short (minimum 2 characters)".into());
    }
    if value.len() > 15 {
        return Err("Network interface is too long (maximum 15 characters)".into());
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("Network interface contains invalid characters".into());
    }
    Ok(())
}

pub fn is_network_mtu(value: &str) -> Result<(), String> {
    let mtu: u32 = value
        .parse()
        .map_err(|_| format!("Invalid MTU {value:?}"))?;
    if !(1280..=16384).contains(&mtu) {
        return Err(format!("Out of MTU range (1280-16384) {value:?}"));
    }
    Ok(())
}

/// A MAC address: six colon-separated hex bytes.
pub fn is_network_mac(value: &str) -> Result<(), String> {
    let ok = value.len() == 17
        && value
            .split(':')
            .map(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
            .filter(|ok| *ok)
            .count()
            == 6;
    if ok {
        Ok(())
    } else {
        Err("Invalid MAC address, must be 6 bytes of hex separated by colons".into())
    }
}

pub fn is_network_vlan(value: &str) -> Result<(), String> {
    let id: i64 = value
        .parse()
        .map_err(|_| format!("Invalid VLAN ID {value:?}"))?;
    if !(0..=4094).contains(&id) {
        return Err(format!("Out of VLAN ID range (0-4094) {value:?}"));
    }
    Ok(())
}

pub fn is_address(value: &str) -> Result<(), String> {
    value
        .parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| format!("Not an IP address {value:?}"))
}

pub fn is_address_v4(value: &str) -> Result<(), String> {
    match value.parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => Ok(()),
        _ => Err(format!("Not an IPv4 address {value:?}")),
    }
}

pub fn is_address_v6(value: &str) -> Result<(), String> {
    match value.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => Ok(()),
        _ => Err(format!("Not an IPv6 address {value:?}")),
    }
}

/// `none` or an IPv4 address (bridged NICs).
pub fn is_address_v4_or_none(value: &str) -> Result<(), String> {
    if value == "none" {
        return Ok(());
    }
    is_address_v4(value)
}

/// `none` or an IPv6 address (bridged NICs).
pub fn is_address_v6_or_none(value: &str) -> Result<(), String> {
    if value == "none" {
        return Ok(());
    }
    is_address_v6(value)
}

/// A network in CIDR form whose address is the network's own (`10.0.0.0/24`).
fn is_network(value: &str, v6: bool) -> Result<(), String> {
    let family = if v6 { "IPv6" } else { "IPv4" };
    let (addr, len) = value
        .split_once('/')
        .ok_or_else(|| format!("invalid CIDR address: {value}"))?;
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("invalid CIDR address: {value}"))?;
    let len: u32 = len
        .parse()
        .map_err(|_| format!("invalid CIDR address: {value}"))?;
    let bits = match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    };
    if len > bits {
        return Err(format!("invalid CIDR address: {value}"));
    }
    if ip.is_ipv6() != v6 {
        return Err(format!("Not an {family} network {value:?}"));
    }
    let masked = match ip {
        IpAddr::V4(a) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(a) & !mask != 0
        }
        IpAddr::V6(a) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(a) & !mask != 0
        }
    };
    if masked {
        return Err(format!("Not an {family} network address {value:?}"));
    }
    Ok(())
}

fn list_of(value: &str, each: impl Fn(&str) -> Result<(), String>) -> Result<(), String> {
    for item in value.split(',').map(str::trim) {
        each(item).map_err(|e| format!("Item {item:?}: {e}"))?;
    }
    Ok(())
}

pub fn is_network_v4_list(value: &str) -> Result<(), String> {
    list_of(value, |v| is_network(v, false))
}

pub fn is_network_v6_list(value: &str) -> Result<(), String> {
    list_of(value, |v| is_network(v, true))
}

/// A major or minor device number.
pub fn is_device_number(value: &str) -> Result<(), String> {
    value
        .parse::<u32>()
        .map(|_| ())
        .map_err(|_| "Invalid value for a UNIX device number".into())
}

/// A uid or gid.
pub fn is_unix_id(value: &str) -> Result<(), String> {
    value
        .parse::<u32>()
        .map(|_| ())
        .map_err(|_| "Invalid value for a UNIX ID".into())
}

/// An octal file mode.
pub fn is_octal_mode(value: &str) -> Result<(), String> {
    u32::from_str_radix(value, 8)
        .map(|_| ())
        .map_err(|_| "Invalid value for an octal file mode".into())
}

/// A device's name (LXD's `IsDeviceName`).
pub fn is_device_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err("Name must be 1-63 characters long".into());
    }
    if name.starts_with('.') {
        return Err("Name must not start with \".\" character".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | ':' | '_'))
    {
        return Err("Name can only contain alphanumeric, forward slash, hyphen, colon, underscore and full stop characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nic_value_checks_use_lxd_texts() {
        assert_eq!(is_network_mtu("abc").unwrap_err(), "Invalid MTU \"abc\"");
        assert_eq!(
            is_network_mtu("10").unwrap_err(),
            "Out of MTU range (1280-16384) \"10\""
        );
        assert!(is_network_mtu("1500").is_ok());
        assert_eq!(
            is_network_mac("zz").unwrap_err(),
            "Invalid MAC address, must be 6 bytes of hex separated by colons"
        );
        assert!(is_network_mac("00:16:3e:00:00:11").is_ok());
        assert!(is_network_mac("00-16-3e-00-00-11").is_err());
        assert_eq!(
            is_interface_name("a b").unwrap_err(),
            "Network interface contains invalid characters"
        );
        assert!(is_interface_name("eth0").is_ok());
        assert_eq!(
            is_network_vlan("abc").unwrap_err(),
            "Invalid VLAN ID \"abc\""
        );
    }

    #[test]
    fn network_lists_need_network_addresses() {
        assert!(is_network_v4_list("10.0.0.0/24, 192.168.0.0/16").is_ok());
        assert_eq!(
            is_network_v4_list("10.0.0.1/24").unwrap_err(),
            "Item \"10.0.0.1/24\": Not an IPv4 network address \"10.0.0.1/24\""
        );
        assert!(is_network_v6_list("2001:db8::/64").is_ok());
        assert!(is_network_v6_list("10.0.0.0/8").is_err());
    }

    #[test]
    fn unix_value_checks_use_lxd_texts() {
        assert_eq!(
            is_device_number("abc").unwrap_err(),
            "Invalid value for a UNIX device number"
        );
        assert_eq!(is_unix_id("-1").unwrap_err(), "Invalid value for a UNIX ID");
        assert_eq!(
            is_octal_mode("999").unwrap_err(),
            "Invalid value for an octal file mode"
        );
        assert!(is_octal_mode("0660").is_ok());
        assert!(is_device_name("eth0").is_ok());
        assert!(is_device_name(".x").is_err());
    }
}
