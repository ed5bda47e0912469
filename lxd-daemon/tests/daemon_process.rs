//! Process tier: the real `lxd` binary on a temporary `LXD_DIR`, driven over its UNIX socket:
//! readiness, socket mode, SIGTERM, `lxd shutdown`, systemd socket activation, and that no
//! acknowledged write is lost when the daemon is killed with SIGKILL.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lxd_daemon::cmd::local::request;

const LXD: &str = env!("CARGO_BIN_EXE_lxd");

fn spawn(dir: &Path) -> Child {
    Command::new(LXD)
        .args(["--group", "root", "--logfile"])
        .arg(dir.join("lxd.log"))
        .env("LXD_DIR", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lxd")
}

fn wait_ready(dir: &Path) {
    let status = Command::new(LXD)
        .args(["waitready", "--timeout", "20"])
        .env("LXD_DIR", dir)
        .status()
        .unwrap();
    assert!(status.success(), "lxd waitready failed");
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn daemon_serves_socket_0660_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn(tmp.path());
    wait_ready(tmp.path());
    let socket = tmp.path().join("unix.socket");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let meta = rt().block_on(request(&socket, "GET", "/", None)).unwrap();
    assert_eq!(meta, serde_json::json!(["/1.0"]));
    for dir in [
        "containers",
        "images",
        "storage-pools",
        "database",
        "security",
    ] {
        assert!(tmp.path().join(dir).is_dir(), "{dir} missing");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    assert!(!socket.exists(), "socket left behind");
}

#[test]
fn lxd_shutdown_stops_the_daemon_and_state_survives_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn(tmp.path());
    wait_ready(tmp.path());
    let socket = tmp.path().join("unix.socket");
    let body = serde_json::json!({"config": {"user.keep": "me"}});
    rt().block_on(request(&socket, "PATCH", "/1.0", Some(&body)))
        .unwrap();
    let status = Command::new(LXD)
        .args(["shutdown", "--timeout", "20"])
        .env("LXD_DIR", tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let mut child = spawn(tmp.path());
    wait_ready(tmp.path());
    let meta = rt()
        .block_on(request(&socket, "GET", "/1.0", None))
        .unwrap();
    assert_eq!(meta["config"]["user.keep"], "me");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn daemon_uses_socket_from_systemd_socket_activate() {
    let tmp = tempfile::tempdir().unwrap();
    let socket = tmp.path().join("unix.socket");
    let mut child = Command::new("systemd-socket-activate")
        .arg("-l")
        .arg(&socket)
        .arg(format!("--setenv=LXD_DIR={}", tmp.path().display()))
        .arg(LXD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("systemd-socket-activate (Debian package systemd) is needed");
    let start = Instant::now();
    while !socket.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The first connection makes systemd-socket-activate start lxd with the socket as fd 3.
    let meta = rt()
        .block_on(request(&socket, "GET", "/1.0", None))
        .unwrap();
    assert_eq!(meta["api_version"], "1.0");
    let pid = meta["environment"]["server_pid"].as_i64().unwrap();
    assert_eq!(
        pid,
        child.id() as i64,
        "lxd should replace systemd-socket-activate via exec"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
}

/// Writers keep creating profiles; the daemon is killed with SIGKILL mid-stream. Every
/// profile whose creation was acknowledged must exist after a restart, and the database
/// must pass `PRAGMA integrity_check`.
#[test]
fn sigkill_during_concurrent_writes_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn(tmp.path());
    wait_ready(tmp.path());
    let socket: PathBuf = tmp.path().join("unix.socket");
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let runtime = rt();
    let writers: Vec<_> = (0..50)
        .map(|w| {
            let socket = socket.clone();
            let acked = acked.clone();
            runtime.spawn(async move {
                let mut errors = Vec::new();
                for i in 0..10_000 {
                    let name = format!("w{w}-{i}");
                    let body = serde_json::json!({ "name": name });
                    match request(&socket, "POST", "/1.0/profiles", Some(&body)).await {
                        Ok(_) => acked.lock().unwrap().push(name),
                        Err(e) => {
                            errors.push(e.to_string());
                            return errors;
                        }
                    }
                }
                errors
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    let errors: Vec<String> = runtime.block_on(async {
        let mut all = Vec::new();
        for w in writers {
            all.extend(w.await.unwrap());
        }
        all
    });
    assert!(
        errors.iter().all(|e| !e.contains("locked")),
        "saw a locked database: {errors:?}"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "too few writes acknowledged to mean anything: {}",
        acked.len()
    );

    let mut child = spawn(tmp.path());
    wait_ready(tmp.path());
    let names = runtime
        .block_on(request(&socket, "GET", "/1.0/profiles", None))
        .unwrap();
    let names: Vec<String> = serde_json::from_value(names).unwrap();
    for name in &acked {
        assert!(
            names.contains(&format!("/1.0/profiles/{name}")),
            "acknowledged profile {name} lost"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let db = lxd_db::Database::open(&tmp.path().join("database/local.db")).unwrap();
    assert_eq!(db.integrity_check().unwrap(), "ok");
}
