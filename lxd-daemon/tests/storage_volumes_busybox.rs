//! System tier (root): a custom volume on a dir and on a btrfs pool, attached to two busybox
//! containers: a file written by the first (unprivileged, through the idmapped volume mount)
//! survives its restart, is visible in the second, and keeps its on-disk owner; the volume
//! cannot be deleted while attached and goes away cleanly afterwards.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use lxd_daemon::cmd::local::request;
use serde_json::{json, Value};

const LXD: &str = env!("CARGO_BIN_EXE_lxd");

fn start_daemon(dir: &Path) -> Child {
    let child = Command::new(LXD)
        .args(["--group", "root", "--logfile"])
        .arg(dir.join("lxd.log"))
        .env("LXD_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ok = Command::new(LXD)
        .args(["waitready", "--timeout", "30"])
        .env("LXD_DIR", dir)
        .status()
        .unwrap();
    assert!(ok.success());
    child
}

fn busybox_image(dir: &Path) -> Vec<u8> {
    let root = dir.join("img/rootfs");
    for d in ["bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in ["sh", "sleep", "cat", "echo", "stat", "touch"] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::os::unix::fs::symlink("../bin/busybox", root.join("sbin/init")).unwrap();
    std::fs::write(root.join("etc/inittab"), "::respawn:/bin/sleep 1000000\n").unwrap();
    std::fs::write(
        dir.join("img/metadata.yaml"),
        "architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: BusyBox\n",
    )
    .unwrap();
    let out = dir.join("bb.tar.gz");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(dir.join("img"))
        .arg("-czf")
        .arg(&out)
        .args(["metadata.yaml", "rootfs"])
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::read(out).unwrap()
}

struct Api {
    rt: tokio::runtime::Runtime,
    socket: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Api {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.rt
            .block_on(request(&self.socket, method, path, body.as_ref()))
            .map_err(|e| e.to_string())
    }

    fn op(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let op = self
            .call(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let id = op["id"].as_str().unwrap().to_string();
        let done = self
            .call(
                "GET",
                &format!("/1.0/operations/{id}/wait?timeout=60"),
                None,
            )
            .unwrap();
        assert_eq!(done["status"], "Success", "{method} {path}: {done}");
        done
    }

    /// Run `script` in `name` and return its recorded stdout.
    fn sh(&self, name: &str, script: &str) -> String {
        let exec = json!({"command": ["sh", "-c", script], "record-output": true, "wait-for-websocket": false});
        let done = self.op("POST", &format!("/1.0/instances/{name}/exec"), Some(exec));
        assert_eq!(done["metadata"]["return"], 0, "{script}: {done}");
        let log = self
            .dir
            .join("logs")
            .join(name)
            .join(format!("exec_{}.stdout", done["id"].as_str().unwrap()));
        std::fs::read_to_string(log).unwrap()
    }

    fn state(&self, name: &str, action: &str) {
        let body = json!({"action": action, "timeout": -1, "force": true});
        self.op("PUT", &format!("/1.0/instances/{name}/state"), Some(body));
    }

    fn upload(&self, bytes: Vec<u8>) -> String {
        self.rt.block_on(async {
            use http_body_util::{BodyExt, Full};
            let stream = tokio::net::UnixStream::connect(&self.socket).await.unwrap();
            let (mut tx, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let req = hyper::Request::post("http://unix.socket/1.0/images")
                .header("Host", "unix.socket")
                .header("Content-Type", "application/octet-stream")
                .body(Full::new(hyper::body::Bytes::from(bytes)))
                .unwrap();
            let resp = tx.send_request(req).await.unwrap();
            let body: Value =
                serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes())
                    .unwrap();
            body["metadata"]["id"].as_str().unwrap().to_string()
        })
    }
}

/// Lazily unmounts what the test mounted under its directory if a step fails.
struct Guard(std::path::PathBuf);

impl Drop for Guard {
    fn drop(&mut self) {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let prefix = self.0.display().to_string();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = Command::new("umount").arg("-l").arg(p).status();
        }
    }
}

fn volume_shared_by_two_containers(driver: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lxd");
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = Guard(tmp.path().to_path_buf());
    let mut daemon = start_daemon(&dir);
    let api = Api {
        rt: tokio::runtime::Runtime::new().unwrap(),
        socket: dir.join("unix.socket"),
        dir: dir.clone(),
    };
    let pool = if driver == "btrfs" {
        json!({"name": "p", "driver": "btrfs", "config": {"size": "300MiB"}})
    } else {
        json!({"name": "p", "driver": "dir"})
    };
    api.call("POST", "/1.0/storage-pools", Some(pool)).unwrap();
    api.call(
        "PATCH",
        "/1.0/profiles/default",
        Some(json!({"devices": {"root": {"type": "disk", "path": "/", "pool": "p"}}})),
    )
    .unwrap();
    let op_id = api.upload(busybox_image(tmp.path()));
    let done = api
        .call(
            "GET",
            &format!("/1.0/operations/{op_id}/wait?timeout=30"),
            None,
        )
        .unwrap();
    let fp = done["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    api.call(
        "POST",
        "/1.0/storage-pools/p/volumes/custom",
        Some(json!({"name": "data"})),
    )
    .unwrap();

    // Container names are cgroup names: unique per test run and driver.
    let names: Vec<String> = ["a", "b"]
        .iter()
        .map(|s| format!("svt{}-{driver}-{s}", std::process::id()))
        .collect();
    let disk =
        json!({"data": {"type": "disk", "pool": "p", "source": "data", "path": "/mnt/data"}});
    for name in &names {
        let create =
            json!({"name": name, "source": {"type": "image", "fingerprint": fp}, "devices": disk});
        api.op("POST", "/1.0/instances", Some(create));
    }
    let bad =
        json!({"devices": {"x": {"type": "disk", "pool": "p", "source": "nope", "path": "/x"}}});
    let err = api
        .call("PATCH", &format!("/1.0/instances/{}", names[0]), Some(bad))
        .unwrap_err();
    assert!(
        err.contains("Failed add validation for device \"x\": Failed loading custom volume: Storage volume not found"),
        "{err}"
    );
    let vol = api
        .call("GET", "/1.0/storage-pools/p/volumes/custom/data", None)
        .unwrap();
    assert_eq!(vol["used_by"].as_array().unwrap().len(), 2, "{vol}");

    let (a, b) = (&names[0], &names[1]);
    api.state(a, "start");
    assert_eq!(
        api.sh(a, "echo hello > /mnt/data/f && stat -c '%u:%g' /mnt/data/f"),
        "0:0\n"
    );
    let on_disk = dir.join("storage-pools/p/custom/default_data/f");
    assert_eq!(std::fs::read_to_string(&on_disk).unwrap(), "hello\n");
    api.state(a, "stop");
    api.state(a, "start");
    assert_eq!(api.sh(a, "cat /mnt/data/f"), "hello\n");
    api.state(b, "start");
    assert_eq!(
        api.sh(b, "cat /mnt/data/f && stat -c '%u:%g' /mnt/data/f"),
        "hello\n0:0\n"
    );
    let err = api
        .call("DELETE", "/1.0/storage-pools/p/volumes/custom/data", None)
        .unwrap_err();
    assert_eq!(err, "The storage volume is still in use");

    for name in &names {
        api.state(name, "stop");
        api.op("DELETE", &format!("/1.0/instances/{name}"), None);
    }
    api.call("DELETE", "/1.0/storage-pools/p/volumes/custom/data", None)
        .unwrap();
    assert!(!on_disk.exists(), "volume left behind");
    api.call("DELETE", &format!("/1.0/images/{fp}"), None).ok();
    api.call(
        "PATCH",
        "/1.0/profiles/default",
        Some(json!({"devices": {}})),
    )
    .ok();
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

#[test]
fn custom_volume_on_dir_shared_by_two_containers() {
    volume_shared_by_two_containers("dir");
}

#[test]
fn custom_volume_on_btrfs_shared_by_two_containers() {
    if Command::new("mkfs.btrfs")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: mkfs.btrfs is not installed");
        return;
    }
    volume_shared_by_two_containers("btrfs");
}
