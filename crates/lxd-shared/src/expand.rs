//! Profile expansion as LXD does it (`lxd/db/profiles.go` `ExpandInstanceConfig` and
//! `ExpandInstanceDevices`): layers apply in order, later ones win. Config merges key by key;
//! devices are replaced whole by name, so a later `type: none` device masks an inherited one
//! and stays in the result as `{type: none}`. Pure functions over maps; no validation.

use std::collections::BTreeMap;

/// A config map (key to value).
pub type Config = BTreeMap<String, String>;
/// Devices (name to its keys).
pub type Devices = BTreeMap<String, Config>;

/// Merge config layers (profiles in order, then the instance's own keys).
pub fn expand_config<'a>(layers: impl IntoIterator<Item = &'a Config>) -> Config {
    let mut out = Config::new();
    for layer in layers {
        out.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

/// Merge device layers: a device of a later layer replaces the whole device of that name.
pub fn expand_devices<'a>(layers: impl IntoIterator<Item = &'a Devices>) -> Devices {
    let mut out = Devices::new();
    for layer in layers {
        out.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn expand_config_later_layer_wins_key_by_key() {
        let a = map(&[("limits.cpu", "1"), ("user.a", "a")]);
        let b = map(&[("limits.cpu", "2")]);
        let out = expand_config([&a, &b]);
        assert_eq!(out, map(&[("limits.cpu", "2"), ("user.a", "a")]));
    }

    #[test]
    fn expand_devices_replaces_whole_device_and_keeps_none_mask() {
        let mut a = Devices::new();
        a.insert(
            "eth0".into(),
            map(&[("type", "nic"), ("network", "lxdbr0")]),
        );
        a.insert(
            "root".into(),
            map(&[("type", "disk"), ("path", "/"), ("pool", "p1")]),
        );
        let mut b = Devices::new();
        b.insert("root".into(), map(&[("type", "disk"), ("path", "/")]));
        let mut local = Devices::new();
        local.insert("eth0".into(), map(&[("type", "none")]));
        let out = expand_devices([&a, &b, &local]);
        assert_eq!(out["root"], map(&[("type", "disk"), ("path", "/")]));
        assert_eq!(out["eth0"], map(&[("type", "none")]));
    }

    #[test]
    fn expand_no_layers_is_empty() {
        assert!(expand_config([]).is_empty());
        assert!(expand_devices([]).is_empty());
    }
}
