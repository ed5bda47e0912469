//! `lxc list` filters as lxc 5.0.2's `shouldShow` applies them: name prefix or regex,
//! `key=value` on the expanded config (dotted keys may be abbreviated, values are anchored
//! regexes), and the `type|status|architecture|location|ipv4|ipv6` shorthands.

use serde_json::Value;

use crate::mini_regex::Regex;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn anchored(v: &str) -> String {
    if v.contains('^') || v.contains('$') {
        v.to_string()
    } else {
        format!("^{v}$")
    }
}

fn dot_prefix_match(short: &str, full: &str) -> bool {
    let f: Vec<&str> = full.split('.').collect();
    let s: Vec<&str> = short.split('.').collect();
    f.len() == s.len() && f.iter().zip(&s).all(|(a, b)| a.starts_with(b))
}

fn net_match(state: &Value, query: &str, family: &str) -> bool {
    let Some(nets) = state["network"].as_object() else {
        return false;
    };
    let subnet = parse_cidr(query);
    nets.values()
        .flat_map(|n| n["addresses"].as_array().cloned().unwrap_or_default())
        .filter(|a| s(&a["family"]) == family)
        .any(|a| {
            let addr = s(&a["address"]);
            addr == query
                || subnet.as_ref().is_some_and(|(net, bits)| {
                    addr.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| in_subnet(&ip, net, *bits))
                })
        })
}

fn parse_cidr(q: &str) -> Option<(std::net::IpAddr, u32)> {
    let (a, b) = q.split_once('/')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn in_subnet(ip: &std::net::IpAddr, net: &std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(a), V4(b)) if bits <= 32 => {
            let m = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(*a) & m == u32::from(*b) & m
        }
        (V6(a), V6(b)) if bits <= 128 => {
            let m = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(*a) & m == u128::from(*b) & m
        }
        _ => false,
    }
}

fn shorthand(key: &str, value: &str, inst: &Value) -> Option<bool> {
    let one = |v: &str| -> bool {
        match key.to_lowercase().as_str() {
            "type" => s(&inst["type"]).eq_ignore_ascii_case(v),
            "status" => s(&inst["status"]).eq_ignore_ascii_case(v),
            "architecture" => s(&inst["architecture"]).eq_ignore_ascii_case(v),
            "location" => s(&inst["location"]).eq_ignore_ascii_case(v),
            "ipv4" => net_match(&inst["state"], v, "inet"),
            "ipv6" => net_match(&inst["state"], v, "inet6"),
            _ => false,
        }
    };
    if !matches!(
        key.to_lowercase().as_str(),
        "type" | "status" | "architecture" | "location" | "ipv4" | "ipv6"
    ) {
        return None;
    }
    Some(value.split(',').any(one))
}

/// lxc's `shouldShow`; `initial` skips the `key=value` filters (state not fetched yet).
pub fn should_show(filters: &[String], inst: &Value, initial: bool) -> bool {
    for filter in filters {
        if let Some((key, value)) = filter.split_once('=') {
            if initial || shorthand(key, value, inst) == Some(true) {
                continue;
            }
            let mut found = false;
            if let Some(cfg) = inst["expanded_config"].as_object() {
                for (ck, cv) in cfg {
                    if !dot_prefix_match(key, ck) {
                        continue;
                    }
                    match Regex::new(&anchored(value)) {
                        None if value == s(cv) => {
                            found = true;
                            break;
                        }
                        None => return false,
                        Some(r) if r.is_match(s(cv)) => {
                            found = true;
                            break;
                        }
                        Some(_) => {}
                    }
                }
            }
            if s(&inst["expanded_config"][key]) == value {
                continue;
            }
            if !found {
                return false;
            }
        } else {
            let name = s(&inst["name"]);
            if Regex::new(&anchored(filter)).is_some_and(|r| r.is_match(name)) {
                continue;
            }
            if !name.starts_with(filter.as_str()) {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn should_show_name_prefix_matches() {
        let inst = serde_json::json!({"name": "web1", "expanded_config": {}});
        assert!(should_show(&["we".into()], &inst, false));
        assert!(!should_show(&["db".into()], &inst, false));
    }

    #[test]
    fn should_show_abbreviated_config_key_matches() {
        let inst = serde_json::json!({"name": "a", "expanded_config": {"user.blah": "abc"}});
        assert!(should_show(&["u.blah=abc".into()], &inst, false));
        assert!(!should_show(&["u.blah=x".into()], &inst, false));
    }
}
