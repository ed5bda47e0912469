//! System tier (root): devices of busybox containers through the API. NICs: a p2p NIC seen
//! inside with its generated MAC, its host end gone after stop; a bridged NIC hot-plugged on
//! a bridge this test makes, pinging the bridge's address (only addresses the test creates);
//! a NIC that cannot be plugged refused with nothing changed. Proxies (tcp, udp both ways,
//! unix) carry data both ways; device nodes and disks come and go live; nothing (veth,
//! helper process, device file) is left after stop.

mod busybox;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use busybox::{host_link, is_root, Daemon};
use rand::Rng;
use serde_json::json;

fn config(d: &Daemon, name: &str) -> serde_json::Value {
    d.call("GET", &format!("/1.0/instances/{name}"), None)
        .unwrap()["config"]
        .clone()
}

fn patch_devices(d: &Daemon, name: &str, devices: serde_json::Value) -> Result<(), String> {
    d.try_op(
        "PATCH",
        &format!("/1.0/instances/{name}"),
        Some(json!({ "devices": devices })),
    )
    .map(drop)
}

/// Start `name`, which must fail; returns the failure.
fn failed_start(d: &Daemon, name: &str) -> String {
    d.try_op(
        "PUT",
        &format!("/1.0/instances/{name}/state"),
        Some(json!({"action": "start"})),
    )
    .unwrap_err()
}

/// Remove one device (PUT of the instance without it, as `lxc config device remove` does).
fn remove_device(d: &Daemon, name: &str, device: &str) {
    let mut inst = d
        .call("GET", &format!("/1.0/instances/{name}"), None)
        .unwrap();
    inst["devices"].as_object_mut().unwrap().remove(device);
    d.op("PUT", &format!("/1.0/instances/{name}"), Some(inst));
}

/// A test bridge with a free /24 from the benchmarking range 198.18.0.0/15; removed on drop.
struct Bridge {
    name: String,
    prefix: String,
}

impl Bridge {
    fn create() -> Bridge {
        let mut rng = rand::rng();
        let used = String::from_utf8(
            std::process::Command::new("ip")
                .args(["-br", "addr"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let prefix = loop {
            let p = format!("198.18.{}", rng.random_range(1..255));
            if !used.contains(&format!("{p}.")) {
                break p;
            }
        };
        let name = format!("dvbr{:06x}", rng.random_range(0..0xffffff));
        let ip = |args: &[&str]| {
            let ok = std::process::Command::new("ip")
                .args(args)
                .status()
                .unwrap();
            assert!(ok.success(), "ip {args:?}");
        };
        ip(&["link", "add", &name, "type", "bridge"]);
        let bridge = Bridge { name, prefix };
        ip(&[
            "addr",
            "add",
            &format!("{}.1/24", bridge.prefix),
            "dev",
            &bridge.name,
        ]);
        ip(&["link", "set", &bridge.name, "up"]);
        bridge
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &self.name])
            .status();
    }
}

#[test]
fn nic_devices_p2p_and_bridged_plug_and_leave_nothing_behind() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let bridge = Bridge::create();
    d.launch("n1", json!({"eth0": {"type": "nic", "nictype": "p2p"}}));
    let conf = config(&d, "n1");
    let mac = conf["volatile.eth0.hwaddr"].as_str().unwrap().to_string();
    assert!(mac.starts_with("00:16:3e:"), "{conf}");
    assert_eq!(conf["volatile.eth0.name"], "eth0");
    let host = conf["volatile.eth0.host_name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(host.starts_with("veth") && host_link(&host), "{host}");
    let (code, out) = d.exec(
        "n1",
        &[
            "cat",
            "/sys/class/net/eth0/address",
            "/sys/class/net/eth0/operstate",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().next(), Some(mac.as_str()));
    let state = d.call("GET", "/1.0/instances/n1/state", None).unwrap();
    let eth0 = &state["network"]["eth0"];
    assert_eq!(
        (eth0["hwaddr"].as_str(), eth0["host_name"].as_str()),
        (Some(mac.as_str()), Some(host.as_str()))
    );
    assert_eq!(
        (eth0["state"].as_str(), eth0["type"].as_str()),
        (Some("up"), Some("broadcast"))
    );
    assert_eq!(state["network"]["lo"]["type"], "loopback");
    assert_eq!(state["network"]["lo"]["state"], "up");

    // A bridged NIC plugged live joins the bridge; it arrives down, as in LXD.
    patch_devices(
        &d,
        "n1",
        json!({"br": {"type": "nic", "nictype": "bridged", "parent": bridge.name, "name": "eth1"}}),
    )
    .unwrap();
    let br_host = config(&d, "n1")["volatile.br.host_name"]
        .as_str()
        .unwrap()
        .to_string();
    let master = std::fs::read_link(format!("/sys/class/net/{br_host}/master")).unwrap();
    assert!(master.ends_with(&bridge.name), "{master:?}");
    let addr = format!("{}.2", bridge.prefix);
    let gateway = format!("{}.1", bridge.prefix);
    let script =
        format!("ip link set eth1 up && ip addr add {addr}/24 dev eth1 && ping -c1 -W5 {gateway}");
    let (code, out) = d.exec("n1", &["sh", "-c", &script]);
    assert_eq!(code, 0, "ping over the bridge failed: {out}");
    let state = d.call("GET", "/1.0/instances/n1/state", None).unwrap();
    let eth1 = &state["network"]["eth1"]["addresses"];
    assert!(
        eth1.as_array()
            .unwrap()
            .iter()
            .any(|a| a["address"] == addr.as_str() && a["scope"] == "global"),
        "{eth1}"
    );

    // A NIC whose name is taken inside is refused and changes nothing.
    let before = d.call("GET", "/1.0/instances/n1", None).unwrap();
    let err = patch_devices(
        &d,
        "n1",
        json!({"x": {"type": "nic", "nictype": "p2p", "name": "eth0"}}),
    )
    .unwrap_err();
    assert!(
        err.starts_with("Failed to start device \"x\": Failed to attach interface:"),
        "{err}"
    );
    assert!(
        err.ends_with("to eth0: attaching specified netdev to the container failed"),
        "{err}"
    );
    let after = d.call("GET", "/1.0/instances/n1", None).unwrap();
    assert_eq!(before["devices"], after["devices"]);
    assert_eq!(before["config"], after["config"]);
    // Bad values are refused with LXD's texts before anything runs.
    let err = patch_devices(
        &d,
        "n1",
        json!({"x": {"type": "nic", "nictype": "p2p", "mtu": "abc"}}),
    )
    .unwrap_err();
    assert_eq!(err, "Invalid devices: Device validation failed for \"x\": Invalid value for device option \"mtu\": Invalid MTU \"abc\"");

    remove_device(&d, "n1", "br");
    assert!(!host_link(&br_host), "bridged host end left after removal");
    assert!(config(&d, "n1").get("volatile.br.host_name").is_none());
    let (code, _) = d.exec("n1", &["ip", "link", "show", "eth1"]);
    assert_ne!(code, 0, "eth1 still inside");

    d.op(
        "PUT",
        "/1.0/instances/n1/state",
        Some(json!({"action": "stop", "force": true})),
    );
    assert!(!host_link(&host), "p2p host end left after stop");
    let conf = config(&d, "n1");
    assert!(conf.get("volatile.eth0.host_name").is_none(), "{conf}");
    assert_eq!(
        conf["volatile.eth0.hwaddr"],
        mac.as_str(),
        "the MAC is kept"
    );
    // Starting again on a missing parent fails and leaves nothing.
    patch_devices(
        &d,
        "n1",
        json!({"br": {"type": "nic", "nictype": "bridged", "parent": "dvnosuchbr"}}),
    )
    .unwrap();
    let err = failed_start(&d, "n1");
    assert_eq!(
        err,
        "Failed to start device \"br\": Parent device \"dvnosuchbr\" doesn't exist"
    );
    assert_eq!(
        d.call("GET", "/1.0/instances/n1", None).unwrap()["status"],
        "Stopped"
    );
    // A NIC that fails while init is being set up (its host name is taken) is reported as
    // that device's failure, and the start leaves nothing.
    remove_device(&d, "n1", "br");
    patch_devices(
        &d,
        "n1",
        json!({"taken": {"type": "nic", "nictype": "p2p", "name": "eth3", "host_name": "lo"}}),
    )
    .unwrap();
    let err = failed_start(&d, "n1");
    assert!(
        err.contains("Failed to start device \"taken\": Failed to create the veth interfaces")
            && !err.contains("cgroups"),
        "{err}"
    );
    assert_eq!(
        d.call("GET", "/1.0/instances/n1", None).unwrap()["status"],
        "Stopped"
    );
    d.op("DELETE", "/1.0/instances/n1", None);
    assert!(!d.dir.join("devices/n1").exists());
}

/// Connect, send `request`, close the write side and read the reply; retried while the
/// target inside is not listening yet (the proxy then closes at once).
fn tcp_round_trip(port: u16, request: &[u8]) -> Vec<u8> {
    for _ in 0..100 {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(request);
            let _ = s.shutdown(std::net::Shutdown::Write);
            let mut reply = Vec::new();
            let _ = s.read_to_end(&mut reply);
            if !reply.is_empty() {
                return reply;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no reply through the proxy on port {port}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn proxy_unix_and_disk_devices_carry_data_plug_live_and_clean_up() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let tcp_port = free_port();
    d.launch(
        "p1",
        json!({
            "mynull": {"type": "unix-char", "source": "/dev/null", "path": "/dev/mynull", "uid": "1000", "gid": "100", "mode": "0600"},
            "web": {"type": "proxy", "listen": format!("tcp:127.0.0.1:{tcp_port}"), "connect": "tcp:127.0.0.1:5000"},
        }),
    );
    // Without a NIC the loopback stays down until the container's init raises it, as with LXD;
    // busybox has no init scripts, so raise it by hand for the proxies' 127.0.0.1 targets.
    assert_eq!(d.exec("p1", &["ip", "link", "set", "lo", "up"]).0, 0);
    // The node: right owner and mode inside, made on the host with the ids shifted.
    let (code, out) = d.exec("p1", &["stat", "-c", "%u %g %a %F %t,%T", "/dev/mynull"]);
    assert_eq!(
        (code, out.trim()),
        (0, "1000 100 600 character special file 1,3")
    );
    let node = d.dir.join("devices/p1/unix.mynull.dev-mynull");
    let meta = std::fs::metadata(&node).unwrap();
    assert!(meta.uid() > 1000, "owner not shifted: {}", meta.uid());
    assert_eq!(d.exec("p1", &["sh", "-c", "echo x > /dev/mynull"]).0, 0);

    // TCP both ways: host → proxy → nc inside, and its answer back.
    let server = d.exec_background("p1", &["sh", "-c", "echo pong | nc -l -p 5000 > /tmp/got"]);
    assert_eq!(tcp_round_trip(tcp_port, b"ping\n"), b"pong\n");
    d.wait(&server);
    assert_eq!(d.exec("p1", &["cat", "/tmp/got"]).1, "ping\n");

    // UDP both ways and both binds, plugged live: host → (listen on the host) → container
    // 127.0.0.1:5001 → (listen in the container) → an echo server on the host.
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let echo_port = echo.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = echo.recv_from(&mut buf) {
            let _ = echo.send_to(&buf[..n].to_ascii_uppercase(), from);
        }
    });
    let udp_port = free_port();
    patch_devices(
        &d,
        "p1",
        json!({
            "uin": {"type": "proxy", "bind": "instance", "listen": "udp:127.0.0.1:5001", "connect": format!("udp:127.0.0.1:{echo_port}")},
            "uout": {"type": "proxy", "listen": format!("udp:127.0.0.1:{udp_port}"), "connect": "udp:127.0.0.1:5001"},
        }),
    )
    .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client
        .send_to(b"hello udp", ("127.0.0.1", udp_port))
        .unwrap();
    let mut buf = [0u8; 64];
    let n = client
        .recv(&mut buf)
        .expect("no UDP reply through both proxies");
    assert_eq!(&buf[..n], b"HELLO UDP");

    // A UNIX socket on the host with the mode asked for.
    let sock = tmp.path().join("px.sock");
    patch_devices(
        &d,
        "p1",
        json!({"ux": {"type": "proxy", "listen": format!("unix:{}", sock.display()), "connect": "tcp:127.0.0.1:5002", "mode": "0600"}}),
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let server = d.exec_background(
        "p1",
        &["sh", "-c", "echo unix-pong | nc -l -p 5002 > /tmp/gotu"],
    );
    let mut reply = Vec::new();
    for _ in 0..100 {
        // Until nc listens inside, the proxy drops the connection (a reset, or EOF).
        let mut s = UnixStream::connect(&sock).unwrap();
        let _ = s.write_all(b"unix-ping\n");
        let _ = s.shutdown(std::net::Shutdown::Write);
        let _ = s.read_to_end(&mut reply);
        if !reply.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(reply, b"unix-pong\n");
    d.wait(&server);
    assert_eq!(d.exec("p1", &["cat", "/tmp/gotu"]).1, "unix-ping\n");

    // A proxy the helper refuses is refused as a change.
    let err = patch_devices(
        &d,
        "p1",
        json!({"bad": {"type": "proxy", "listen": "udp:127.0.0.1:5003", "connect": "tcp:127.0.0.1:5003"}}),
    )
    .unwrap_err();
    assert_eq!(err, "Failed to start device \"bad\": Error occurred when starting proxy device: Error: Proxying from udp to non-udp protocol is not supported");
    assert!(d.call("GET", "/1.0/instances/p1", None).unwrap()["devices"]
        .get("bad")
        .is_none());

    // A block node and a host directory, plugged and unplugged live.
    let hostdir = tmp.path().join("share");
    std::fs::create_dir_all(&hostdir).unwrap();
    std::fs::write(hostdir.join("h.txt"), "hello\n").unwrap();
    patch_devices(
        &d,
        "p1",
        json!({
            "blk": {"type": "unix-block", "path": "/dev/myblk", "major": "7", "minor": "200"},
            "share": {"type": "disk", "source": hostdir.to_str().unwrap(), "path": "/mnt/share", "readonly": "true"},
        }),
    )
    .unwrap();
    let (code, out) = d.exec("p1", &["stat", "-c", "%F %t,%T %a", "/dev/myblk"]);
    assert_eq!((code, out.trim()), (0, "block special file 7,c8 660"));
    assert_eq!(d.exec("p1", &["cat", "/mnt/share/h.txt"]).1, "hello\n");
    assert_ne!(
        d.exec("p1", &["touch", "/mnt/share/new"]).0,
        0,
        "read-only disk was writable"
    );
    remove_device(&d, "p1", "blk");
    remove_device(&d, "p1", "share");
    assert_ne!(
        d.exec("p1", &["ls", "/dev/myblk"]).0,
        0,
        "node still inside"
    );
    assert_ne!(
        d.exec("p1", &["ls", "/mnt/share"]).0,
        0,
        "mount point still inside"
    );
    assert!(!d.dir.join("devices/p1/unix.blk.dev-myblk").exists());

    // Removing a proxy stops its helper; stopping the container stops the rest.
    let helpers = d.helpers("forkproxy").len();
    assert_eq!(helpers, 4, "tcp, two udp and unix proxies");
    remove_device(&d, "p1", "uout");
    assert_eq!(d.helpers("forkproxy").len(), 3);
    d.op(
        "PUT",
        "/1.0/instances/p1/state",
        Some(json!({"action": "stop", "force": true})),
    );
    assert!(
        d.helpers("forkproxy").is_empty(),
        "proxy helpers left after stop"
    );
    assert!(d.helpers("forkmount").is_empty());
    assert!(!sock.exists(), "host socket left after stop");
    let left: Vec<_> = std::fs::read_dir(d.dir.join("devices/p1"))
        .map(|e| e.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "device files left: {left:?}");
    d.op("DELETE", "/1.0/instances/p1", None);
}
