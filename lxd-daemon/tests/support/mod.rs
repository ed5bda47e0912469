//! Helpers for the root system tests of the daemon: the real `lxd` binary on a temporary
//! `LXD_DIR`, a busybox image built from the host's static busybox, and a small synchronous
//! API client over the UNIX socket.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

use lxd_daemon::cmd::local::request;
use serde_json::{json, Value};

pub const LXD: &str = env!("CARGO_BIN_EXE_lxd");

/// A daemon started by a test, killed when dropped, so a test that fails half-way leaves no
/// daemon running behind it.
pub struct DaemonProcess(Child);

impl std::ops::Deref for DaemonProcess {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for DaemonProcess {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub fn start_daemon(dir: &Path) -> DaemonProcess {
    start_daemon_with_env(dir, &[])
}

/// Start the daemon with extra environment variables (e.g. `LXD_IDMAPPED_MOUNTS_DISABLE`).
pub fn start_daemon_with_env(dir: &Path, env: &[(&str, &str)]) -> DaemonProcess {
    let child = Command::new(LXD)
        .args(["--group", "root", "--logfile"])
        .arg(dir.join("lxd.log"))
        .env("LXD_DIR", dir)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ok = Command::new(LXD)
        .args(["waitready", "--timeout", "30"])
        .env("LXD_DIR", dir)
        .status()
        .unwrap();
    let daemon = DaemonProcess(child);
    assert!(ok.success());
    daemon
}

pub fn busybox_image(dir: &Path) -> Vec<u8> {
    let root = dir.join("img/rootfs");
    for d in ["bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "sleep", "id", "hostname", "cat", "echo", "mount", "reboot", "poweroff", "tty",
        "stat", "touch",
    ] {
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

pub struct Api {
    pub rt: tokio::runtime::Runtime,
    pub socket: std::path::PathBuf,
}

impl Api {
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.rt
            .block_on(request(&self.socket, method, path, body.as_ref()))
            .map_err(|e| e.to_string())
    }

    /// Call and wait for the operation it starts; returns the finished operation.
    pub fn op(&self, method: &str, path: &str, body: Option<Value>) -> Value {
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

    /// A raw request: status, headers and body.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (u16, hyper::HeaderMap, Vec<u8>) {
        self.rt.block_on(async {
            use http_body_util::{BodyExt, Full};
            let stream = tokio::net::UnixStream::connect(&self.socket).await.unwrap();
            let (mut tx, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut req = hyper::Request::builder()
                .method(method)
                .uri(format!("http://unix.socket{path}"))
                .header("Host", "unix.socket");
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let resp = tx
                .send_request(req.body(Full::new(hyper::body::Bytes::from(body))).unwrap())
                .await
                .unwrap();
            let (parts, body) = resp.into_parts();
            (
                parts.status.as_u16(),
                parts.headers,
                body.collect().await.unwrap().to_bytes().to_vec(),
            )
        })
    }

    pub fn upload(&self, bytes: Vec<u8>) -> String {
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

/// A running daemon with a `dir` pool named `default` in the default profile and the busybox
/// image uploaded; killed when dropped.
pub struct BusyboxDaemon {
    pub tmp: tempfile::TempDir,
    pub dir: std::path::PathBuf,
    pub api: Api,
    pub fingerprint: String,
    daemon: DaemonProcess,
}

impl BusyboxDaemon {
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// [`BusyboxDaemon::start`] with extra environment variables for the daemon.
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lxd");
        std::fs::create_dir_all(&dir).unwrap();
        let daemon = start_daemon_with_env(&dir, env);
        let api = Api {
            rt: tokio::runtime::Runtime::new().unwrap(),
            socket: dir.join("unix.socket"),
        };
        api.call(
            "POST",
            "/1.0/storage-pools",
            Some(json!({"name": "default", "driver": "dir"})),
        )
        .unwrap();
        api.call(
            "PATCH",
            "/1.0/profiles/default",
            Some(json!({"devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}})),
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
        let fingerprint = done["metadata"]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string();
        Self {
            tmp,
            dir,
            api,
            fingerprint,
            daemon,
        }
    }

    /// Create and start `name` from the busybox image.
    pub fn launch(&self, name: &str) {
        self.launch_with(name, json!({}));
    }

    /// Create `name` from the busybox image with `config`, without starting it.
    pub fn create_with(&self, name: &str, config: Value) {
        let create = json!({
            "name": name,
            "config": config,
            "source": {"type": "image", "fingerprint": self.fingerprint},
        });
        self.api.op("POST", "/1.0/instances", Some(create));
    }

    /// Start `name`.
    pub fn start_instance(&self, name: &str) {
        self.api.op(
            "PUT",
            &format!("/1.0/instances/{name}/state"),
            Some(json!({"action": "start", "timeout": -1})),
        );
    }

    /// Create `name` from the busybox image with `config` and start it.
    pub fn launch_with(&self, name: &str, config: Value) {
        self.create_with(name, config);
        self.start_instance(name);
    }

    /// The instance's init pid (it must be running).
    pub fn init_pid(&self, name: &str) -> i64 {
        let state = self
            .api
            .call("GET", &format!("/1.0/instances/{name}/state"), None)
            .unwrap();
        state["pid"].as_i64().unwrap()
    }

    /// The instance's local config.
    pub fn config(&self, name: &str) -> Value {
        let inst = self
            .api
            .call("GET", &format!("/1.0/instances/{name}"), None)
            .unwrap();
        inst["config"].clone()
    }

    /// Run `argv` detached with its output recorded; returns (exit status, stdout, stderr).
    pub fn exec_output(&self, name: &str, argv: &[&str]) -> (i64, String, String) {
        let exec = json!({"command": argv, "record-output": true, "wait-for-websocket": false});
        let done = self
            .api
            .op("POST", &format!("/1.0/instances/{name}/exec"), Some(exec));
        let id = done["id"].as_str().unwrap();
        let log = |stream: &str| {
            let file = self
                .dir
                .join("logs")
                .join(name)
                .join(format!("exec_{id}.{stream}"));
            std::fs::read_to_string(file).unwrap_or_default()
        };
        let code = done["metadata"]["return"].as_i64().unwrap_or(-1);
        (code, log("stdout"), log("stderr"))
    }

    /// Run `argv` detached with its output recorded; returns (exit status, stdout).
    pub fn exec(&self, name: &str, argv: &[&str]) -> (i64, String) {
        let exec = json!({"command": argv, "record-output": true, "wait-for-websocket": false});
        let done = self
            .api
            .op("POST", &format!("/1.0/instances/{name}/exec"), Some(exec));
        let log = self
            .dir
            .join("logs")
            .join(name)
            .join(format!("exec_{}.stdout", done["id"].as_str().unwrap()));
        let out = std::fs::read_to_string(log).unwrap_or_default();
        (done["metadata"]["return"].as_i64().unwrap_or(-1), out)
    }

    /// Stop (forced) and delete `name`.
    pub fn remove(&self, name: &str) {
        let base = format!("/1.0/instances/{name}");
        self.api.op(
            "PUT",
            &format!("{base}/state"),
            Some(json!({"action": "stop", "force": true})),
        );
        self.api.op("DELETE", &base, None);
    }
}

impl BusyboxDaemon {
    /// Kill the daemon with SIGKILL (containers keep running).
    pub fn kill_daemon(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }

    /// Start a new daemon on the same directory.
    pub fn restart_daemon(&mut self) {
        self.daemon = start_daemon(&self.dir);
    }
}

impl Drop for BusyboxDaemon {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}
