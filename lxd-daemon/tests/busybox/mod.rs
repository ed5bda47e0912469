//! Helpers for the system tier (root): the real `lxd` binary on a temporary `LXD_DIR` with a
//! `dir` pool, a busybox image with every applet, and API calls, operations and recorded
//! exec over the daemon's socket.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use lxd_daemon::cmd::local::request;
use serde_json::{json, Value};

const LXD: &str = env!("CARGO_BIN_EXE_lxd");

/// A daemon on its own directory, killed on drop.
pub struct Daemon {
    pub dir: PathBuf,
    child: Child,
    pub rt: tokio::runtime::Runtime,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn busybox_image(dir: &Path) -> Vec<u8> {
    let root = dir.join("img/rootfs");
    for d in [
        "bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root", "mnt",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(applet));
        }
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

impl Daemon {
    /// Start a daemon under `tmp`, with a `dir` pool as the default profile's root and the
    /// busybox image under the alias `bb`.
    pub fn start(tmp: &Path) -> Daemon {
        let dir = tmp.join("lxd");
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(LXD)
            .args(["--group", "root", "--logfile"])
            .arg(dir.join("lxd.log"))
            .env("LXD_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ok = Command::new(LXD)
            .args(["waitready", "--timeout", "30"])
            .env("LXD_DIR", &dir)
            .status()
            .unwrap();
        assert!(ok.success());
        let daemon = Daemon {
            dir,
            child,
            rt: tokio::runtime::Runtime::new().unwrap(),
        };
        daemon
            .call(
                "POST",
                "/1.0/storage-pools",
                Some(json!({"name": "default", "driver": "dir"})),
            )
            .unwrap();
        daemon
            .call(
                "PATCH",
                "/1.0/profiles/default",
                Some(
                    json!({"devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}}),
                ),
            )
            .unwrap();
        let op = daemon.upload(busybox_image(tmp));
        let done = daemon
            .call(
                "GET",
                &format!("/1.0/operations/{op}/wait?timeout=30"),
                None,
            )
            .unwrap();
        let fp = done["metadata"]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string();
        daemon
            .call(
                "POST",
                "/1.0/images/aliases",
                Some(json!({"name": "bb", "target": fp})),
            )
            .unwrap();
        daemon
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.rt
            .block_on(request(
                &self.dir.join("unix.socket"),
                method,
                path,
                body.as_ref(),
            ))
            .map_err(|e| e.to_string())
    }

    /// Start an operation and wait for it; `Err` carries its error.
    pub fn try_op(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let op = self.call(method, path, body)?;
        let id = op["id"].as_str().unwrap().to_string();
        let done = self.call(
            "GET",
            &format!("/1.0/operations/{id}/wait?timeout=60"),
            None,
        )?;
        if done["status"] == "Success" {
            Ok(done)
        } else {
            Err(done["err"].as_str().unwrap_or_default().to_string())
        }
    }

    pub fn op(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_op(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Run a command in `name` and return its exit status and output.
    pub fn exec(&self, name: &str, command: &[&str]) -> (i64, String) {
        let body = json!({"command": command, "record-output": true, "wait-for-websocket": false});
        let done = self.op("POST", &format!("/1.0/instances/{name}/exec"), Some(body));
        let id = done["id"].as_str().unwrap();
        let out = std::fs::read_to_string(self.dir.join(format!("logs/{name}/exec_{id}.stdout")))
            .unwrap_or_default();
        (done["metadata"]["return"].as_i64().unwrap_or(-1), out)
    }

    /// Start a command in `name` without waiting; returns the operation's id.
    pub fn exec_background(&self, name: &str, command: &[&str]) -> String {
        let body = json!({"command": command, "wait-for-websocket": false});
        let op = self
            .call("POST", &format!("/1.0/instances/{name}/exec"), Some(body))
            .unwrap();
        op["id"].as_str().unwrap().to_string()
    }

    pub fn wait(&self, op: &str) -> Value {
        self.call(
            "GET",
            &format!("/1.0/operations/{op}/wait?timeout=30"),
            None,
        )
        .unwrap()
    }

    fn upload(&self, bytes: Vec<u8>) -> String {
        let socket = self.dir.join("unix.socket");
        self.rt.block_on(async {
            use http_body_util::{BodyExt, Full};
            let stream = tokio::net::UnixStream::connect(socket).await.unwrap();
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

    /// Create and start a busybox container with `devices`.
    pub fn launch(&self, name: &str, devices: Value) {
        self.op(
            "POST",
            "/1.0/instances",
            Some(json!({"name": name, "source": {"type": "image", "alias": "bb"}, "devices": devices})),
        );
        self.op(
            "PUT",
            &format!("/1.0/instances/{name}/state"),
            Some(json!({"action": "start"})),
        );
    }

    /// Pids of this daemon's helpers whose command line mentions `word`.
    pub fn helpers(&self, word: &str) -> Vec<i32> {
        let dir = self.dir.to_string_lossy().into_owned();
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmd = String::from_utf8_lossy(&cmd);
                cmd.contains(word) && cmd.contains(&dir)
            })
            .collect()
    }
}

/// Whether the host has a network interface called `name`.
pub fn host_link(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Whether the tests can run (root).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}
