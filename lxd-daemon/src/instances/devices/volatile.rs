//! The volatile keys devices own (`volatile.<device>.*`): a NIC without `hwaddr` or `name`
//! gets a generated MAC (`00:16:3e:xx:xx:xx`) and the first free `ethN`, kept across starts;
//! a removed device loses all its keys, a changed one those its new config now sets
//! (LXD's `FillNetworkDevice` and `deviceVolatileReset`).

use lxd_api::{ConfigMap, DevicesMap};

fn get<'a>(map: &'a ConfigMap, key: &str) -> &'a str {
    map.get(key).map(String::as_str).unwrap_or("")
}

fn is_nic(dev: &ConfigMap) -> bool {
    get(dev, "type") == "nic" && !["physical", "ipvlan", "sriov"].contains(&get(dev, "nictype"))
}

/// Keys to add so every NIC among `devices` has a MAC and an interface name; `config` holds
/// the instance's current (local) keys.
pub fn fill_nic_keys(devices: &DevicesMap, config: &ConfigMap) -> ConfigMap {
    let mut added = ConfigMap::new();
    let mut taken: Vec<String> = devices
        .values()
        .filter(|d| !get(d, "name").is_empty())
        .map(|d| get(d, "name").to_string())
        .collect();
    taken.extend(
        config
            .iter()
            .filter(|(k, _)| k.starts_with("volatile.") && k.ends_with(".name"))
            .map(|(_, v)| v.clone()),
    );
    for (name, dev) in devices.iter().filter(|(_, d)| is_nic(d)) {
        let hwaddr_key = format!("volatile.{name}.hwaddr");
        if get(dev, "hwaddr").is_empty() && get(config, &hwaddr_key).is_empty() {
            added.insert(hwaddr_key, lxd_network::names::random_hwaddr());
        }
        let name_key = format!("volatile.{name}.name");
        if get(dev, "name").is_empty() && get(config, &name_key).is_empty() {
            let next = (0..)
                .map(|i| format!("eth{i}"))
                .find(|n| !taken.contains(n))
                .unwrap_or_default();
            taken.push(next.clone());
            added.insert(name_key, next);
        }
    }
    added
}

/// Keys to drop when devices go from `old` to `new`: all of a removed device's (or one whose
/// type or NIC type changed), and those of a changed device that its new config now sets.
pub fn reset_keys(old: &DevicesMap, new: &DevicesMap, config: &ConfigMap) -> Vec<String> {
    let mut out = Vec::new();
    for (name, old_dev) in old {
        let prefix = format!("volatile.{name}.");
        let owned = config.keys().filter(|k| k.starts_with(&prefix));
        match new.get(name) {
            None => out.extend(owned.cloned()),
            Some(new_dev) if new_dev == old_dev => {}
            Some(new_dev) => {
                let retyped = get(new_dev, "type") != get(old_dev, "type")
                    || get(new_dev, "nictype") != get(old_dev, "nictype");
                out.extend(
                    owned
                        .filter(|k| retyped || new_dev.contains_key(&k[prefix.len()..]))
                        .cloned(),
                );
            }
        }
    }
    out
}

/// Read a device's volatile key.
pub fn key<'a>(config: &'a ConfigMap, device: &str, what: &str) -> Option<&'a str> {
    config
        .get(&format!("volatile.{device}.{what}"))
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fill_nic_keys_generates_mac_and_first_free_eth_name() {
        let devices: DevicesMap = [
            ("a".to_string(), map(&[("type", "nic"), ("nictype", "p2p")])),
            (
                "b".to_string(),
                map(&[("type", "nic"), ("nictype", "p2p"), ("name", "eth0")]),
            ),
            (
                "c".to_string(),
                map(&[
                    ("type", "nic"),
                    ("nictype", "p2p"),
                    ("hwaddr", "00:16:3e:00:00:01"),
                ]),
            ),
            ("d".to_string(), map(&[("type", "disk"), ("path", "/mnt")])),
        ]
        .into();
        let config = map(&[("volatile.c.name", "eth1")]);
        let added = fill_nic_keys(&devices, &config);
        assert!(added["volatile.a.hwaddr"].starts_with("00:16:3e:"));
        assert_eq!(added["volatile.a.name"], "eth2");
        assert!(added.contains_key("volatile.b.hwaddr"));
        assert!(!added.contains_key("volatile.b.name"));
        assert!(!added.contains_key("volatile.c.hwaddr"));
        assert!(!added.contains_key("volatile.c.name"));
        assert!(!added.keys().any(|k| k.starts_with("volatile.d.")));
        let mut full = config.clone();
        full.extend(added);
        assert!(fill_nic_keys(&devices, &full).is_empty(), "kept once set");
    }

    #[test]
    fn reset_keys_drops_removed_and_overridden_keys() {
        let nic = map(&[("type", "nic"), ("nictype", "p2p")]);
        let old: DevicesMap = [
            ("a".to_string(), nic.clone()),
            ("b".to_string(), nic.clone()),
        ]
        .into();
        let mut with_mac = nic.clone();
        with_mac.insert("hwaddr".into(), "00:16:3e:00:00:09".into());
        let new: DevicesMap = [("b".to_string(), with_mac)].into();
        let config = map(&[
            ("volatile.a.hwaddr", "x"),
            ("volatile.a.name", "eth0"),
            ("volatile.b.hwaddr", "y"),
            ("volatile.b.name", "eth1"),
            ("volatile.base_image", "z"),
        ]);
        let mut dropped = reset_keys(&old, &new, &config);
        dropped.sort();
        assert_eq!(
            dropped,
            ["volatile.a.hwaddr", "volatile.a.name", "volatile.b.hwaddr"]
        );
    }
}
