//! API tier: nic, proxy and unix devices refused with LXD 5.0.2's texts (400), devices this
//! server cannot run refused as not implemented (501), and nothing created or changed.

mod common;

use common::{call, state};
use serde_json::json;

#[tokio::test]
async fn bad_devices_refused_with_lxd_texts_and_nothing_created() {
    let (_d, s) = state();
    let cases = [
        (json!({"x": {"type": "nic", "nictype": "foo"}}), 400, "Invalid devices: Device validation failed for \"x\": Failed loading device \"x\": Unsupported device type"),
        (json!({"x": {"type": "nic", "nictype": "bridged"}}), 400, "Invalid devices: Device validation failed for \"x\": Invalid value for device option \"parent\": Required value"),
        (json!({"x": {"type": "nic", "network": "nonet"}}), 400, "Invalid devices: Device validation failed for \"x\": Failed loading device \"x\": Failed to load network \"nonet\" for project \"default\": Network not found"),
        (json!({"x": {"type": "nic", "nictype": "p2p", "hwaddr": "zz"}}), 400, "Invalid devices: Device validation failed for \"x\": Invalid value for device option \"hwaddr\": Invalid MAC address, must be 6 bytes of hex separated by colons"),
        (json!({"a": {"type": "nic", "nictype": "p2p", "name": "eth0"}, "b": {"type": "nic", "nictype": "p2p", "name": "eth0"}}), 400, "Invalid devices: Device validation failed for \"b\": Invalid value for device option \"name\": Duplicate NIC name detected \"eth0\""),
        (json!({"x": {"type": "proxy", "listen": "tcp:1.2.3:5", "connect": "tcp:127.0.0.1:1"}}), 400, "Invalid devices: Device validation failed for \"x\": Invalid value for device option \"listen\": Not an IP address \"1.2.3\""),
        (json!({"x": {"type": "unix-char"}}), 400, "Invalid devices: Device validation failed for \"x\": Unix device entry is missing the required \"source\" or \"path\" property"),
        (json!({"x": {"type": "nic", "nictype": "macvlan", "parent": "eth0"}}), 501, "Invalid devices: Device validation failed for \"x\": NIC type \"macvlan\" is not implemented"),
        (json!({"x": {"type": "nic", "nictype": "p2p", "limits.ingress": "10Mbit"}}), 501, "Invalid devices: Device validation failed for \"x\": NIC option \"limits.ingress\" is not implemented"),
    ];
    for (devices, code, msg) in cases {
        let body =
            json!({"name": "c1", "source": {"type": "none"}, "devices": devices}).to_string();
        let r = call(&s, "POST", "/1.0/instances", Some(&body)).await;
        assert_eq!(r.status.as_u16(), code, "{devices}: {}", r.text);
        assert_eq!(r.error(), msg, "{devices}");
    }
    let r = call(&s, "GET", "/1.0/instances", None).await;
    assert_eq!(r.metadata(), json!([]));
    // Profiles: the same checks, without the instance prefix.
    let body = json!({"name": "p", "devices": {"x": {"type": "proxy", "listen": "tcp:127.0.0.1:5", "connect": "tcp:127.0.0.1:1", "nat": "true"}}}).to_string();
    let r = call(&s, "POST", "/1.0/profiles", Some(&body)).await;
    assert_eq!(r.status.as_u16(), 501, "{}", r.text);
    assert_eq!(
        r.error(),
        "Device validation failed for \"x\": Proxy NAT mode is not implemented"
    );
    let body = json!({"name": "p", "devices": {"x": {"type": "unix-block", "path": "/dev/x", "mode": "999"}}}).to_string();
    let r = call(&s, "POST", "/1.0/profiles", Some(&body)).await;
    assert_eq!(r.status.as_u16(), 400);
    assert_eq!(r.error(), "Device validation failed for \"x\": Invalid value for device option \"mode\": Invalid value for an octal file mode");
    let r = call(&s, "GET", "/1.0/profiles", None).await;
    assert_eq!(r.metadata(), json!(["/1.0/profiles/default"]));
}
