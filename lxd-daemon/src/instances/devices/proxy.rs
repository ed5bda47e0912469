//! `proxy` devices: the helper's spec from a device's options (`bind=host`, the default,
//! listens on the host and connects in the container; `bind=instance` the other way round).

use lxd_api::ConfigMap;
use lxd_runtime::devices::proxy::ProxySpec;
use lxd_shared::config::values::parse_bool;

fn get<'a>(map: &'a ConfigMap, key: &str) -> &'a str {
    map.get(key).map(String::as_str).unwrap_or("")
}

fn id(dev: &ConfigMap, key: &str) -> Option<u32> {
    get(dev, key).parse().ok()
}

/// The helper's spec for a proxy device of the container whose init is `init_pid`.
pub fn spec(dev: &ConfigMap, init_pid: i32) -> ProxySpec {
    let in_instance = matches!(get(dev, "bind"), "instance" | "guest" | "container");
    ProxySpec {
        listen: get(dev, "listen").to_string(),
        connect: get(dev, "connect").to_string(),
        listen_pid: in_instance.then_some(init_pid),
        connect_pid: (!in_instance).then_some(init_pid),
        listen_uid: id(dev, "uid"),
        listen_gid: id(dev, "gid"),
        listen_mode: u32::from_str_radix(get(dev, "mode"), 8).ok(),
        security_uid: id(dev, "security.uid"),
        security_gid: id(dev, "security.gid"),
        proxy_protocol: parse_bool(get(dev, "proxy_protocol")) == Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_puts_the_listener_on_the_bind_side() {
        let mut dev: ConfigMap = [
            ("type".to_string(), "proxy".to_string()),
            ("listen".to_string(), "unix:/run/s".to_string()),
            ("connect".to_string(), "tcp:127.0.0.1:80".to_string()),
            ("mode".to_string(), "0600".to_string()),
        ]
        .into();
        let host = spec(&dev, 42);
        assert_eq!((host.listen_pid, host.connect_pid), (None, Some(42)));
        assert_eq!(host.listen_mode, Some(0o600));
        dev.insert("bind".into(), "instance".into());
        let inside = spec(&dev, 42);
        assert_eq!((inside.listen_pid, inside.connect_pid), (Some(42), None));
    }
}
