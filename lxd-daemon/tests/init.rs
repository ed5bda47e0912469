//! Process tier: `lxd init` in its four modes against a running daemon.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use lxd_daemon::cmd::local::request;
use serde_json::Value;

const LXD: &str = env!("CARGO_BIN_EXE_lxd");

struct Daemon {
    dir: tempfile::TempDir,
    child: Child,
}

impl Daemon {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(LXD)
            .args(["--group", "root"])
            .env("LXD_DIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ok = Command::new(LXD)
            .args(["waitready", "--timeout", "20"])
            .env("LXD_DIR", dir.path())
            .status()
            .unwrap();
        assert!(ok.success());
        Self { dir, child }
    }

    fn init(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(LXD)
            .arg("init")
            .args(args)
            .env("LXD_DIR", self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn get(&self, path: &str) -> Value {
        let socket = self.dir.path().join("unix.socket");
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(request(&socket, "GET", path, None))
            .unwrap()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn init_auto_creates_dir_pool_and_root_disk() {
    let d = Daemon::start();
    let out = d.init(&["--auto"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pool = d.get("/1.0/storage-pools/default");
    assert_eq!(pool["driver"], "dir");
    assert!(d.path().join("storage-pools/default/containers").is_dir());
    let profile = d.get("/1.0/profiles/default");
    assert_eq!(
        profile["devices"]["root"],
        serde_json::json!({"path": "/", "pool": "default", "type": "disk"})
    );
    // Running it again changes nothing and does not fail.
    assert!(d.init(&["--auto"], "").status.success());
}

#[test]
fn init_auto_refuses_unknown_backend() {
    let d = Daemon::start();
    let out = d.init(&["--auto", "--storage-backend", "nope"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
    assert_eq!(d.get("/1.0/storage-pools"), serde_json::json!([]));
}

#[test]
fn init_preseed_applies_config_pools_and_profiles_then_dump_shows_them() {
    let d = Daemon::start();
    let preseed = "config:\n  images.auto_update_interval: 12\nstorage_pools:\n- name: pool1\n  driver: dir\nprofiles:\n- name: default\n  devices:\n    root: {path: /, pool: pool1, type: disk}\n- name: extra\n  config:\n    limits.cpu: \"2\"\n";
    let out = d.init(&["--preseed"], preseed);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.get("/1.0")["config"]["images.auto_update_interval"], "12");
    assert_eq!(d.get("/1.0/profiles/extra")["config"]["limits.cpu"], "2");
    assert_eq!(
        d.get("/1.0/profiles/default")["devices"]["root"]["pool"],
        "pool1"
    );
    let dump = d.init(&["--dump"], "");
    let dumped: Value = yaml_serde::from_slice(&dump.stdout).unwrap();
    assert_eq!(dumped["storage_pools"][0]["name"], "pool1");
    assert!(dumped["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "extra"));
}

#[test]
fn init_preseed_failure_rolls_back_everything() {
    let d = Daemon::start();
    let preseed = "storage_pools:\n- name: pool1\n  driver: dir\nprofiles:\n- name: good\n- name: bad\n  config:\n    nope.key: 1\n";
    let out = d.init(&["--preseed"], preseed);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.get("/1.0/storage-pools"), serde_json::json!([]));
    assert_eq!(
        d.get("/1.0/profiles"),
        serde_json::json!(["/1.0/profiles/default"])
    );
    assert!(!d.path().join("storage-pools/pool1").exists());
}

#[test]
fn init_preseed_with_networks_refused_before_any_change() {
    let d = Daemon::start();
    let out = d.init(
        &["--preseed"],
        "config:\n  user.x: y\nnetworks:\n- name: lxdbr0\n  type: bridge\n",
    );
    assert!(!out.status.success());
    assert_eq!(d.get("/1.0")["config"], serde_json::json!({}));
}

#[test]
fn init_interactive_answers_create_pool_and_address() {
    let d = Daemon::start();
    // clustering, new pool, name, backend, MAAS, bridge, network access, address, port,
    // password twice, auto-update, print preseed.
    let answers = "no\nyes\nmypool\ndir\nno\nno\nyes\n127.0.0.1\n18443\nsekret\nsekret\nyes\nno\n";
    let out = d.init(&[], answers);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Would you like to use LXD clustering? (yes/no) [default=no]:"),
        "{stdout}"
    );
    assert_eq!(d.get("/1.0/storage-pools/mypool")["driver"], "dir");
    let config = d.get("/1.0")["config"].clone();
    assert_eq!(config["core.https_address"], "127.0.0.1:18443");
    assert_eq!(config["core.trust_password"], true);
}
