//! Process tier (root): a btrfs pool on a loop file through the API, mounted again when the
//! daemon starts after a "reboot" (pool unmounted behind its back), and removed without a
//! trace.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use lxd_daemon::cmd::local::request;

const LXD: &str = env!("CARGO_BIN_EXE_lxd");

fn start(dir: &Path) -> Child {
    let child = Command::new(LXD)
        .args(["--group", "root"])
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

fn mounted(path: &Path) -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let p = path.display().to_string();
    mountinfo
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(p.as_str()))
}

/// Loop devices still backed by `file` (also when the file was deleted under them).
fn loop_devices_for(file: &Path) -> String {
    let out = Command::new("losetup").arg("-a").output().unwrap();
    let name = file.display().to_string();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&name))
        .collect()
}

/// Unmounts the pool if a step fails, so no mount outlives the test.
struct Guard(std::path::PathBuf);

impl Drop for Guard {
    fn drop(&mut self) {
        if mounted(&self.0) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

#[test]
fn btrfs_loop_pool_remounted_at_start_and_deleted_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let socket = dir.join("unix.socket");
    let pool_path = dir.join("storage-pools/bt");
    let image = dir.join("disks/bt.img");
    let _guard = Guard(pool_path.clone());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut daemon = start(dir);
    let body = serde_json::json!({"name": "bt", "driver": "btrfs", "config": {"size": "300MiB"}});
    rt.block_on(request(&socket, "POST", "/1.0/storage-pools", Some(&body)))
        .unwrap();
    assert!(mounted(&pool_path), "pool not mounted after create");
    assert!(image.is_file());
    let pool = rt
        .block_on(request(&socket, "GET", "/1.0/storage-pools/bt", None))
        .unwrap();
    assert_eq!(pool["driver"], "btrfs");
    assert_eq!(pool["config"]["source"], image.display().to_string());
    let server = rt.block_on(request(&socket, "GET", "/1.0", None)).unwrap();
    assert_eq!(server["environment"]["storage"], "btrfs");

    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(Command::new("umount")
        .arg(&pool_path)
        .status()
        .unwrap()
        .success());
    assert!(!mounted(&pool_path));
    let mut daemon = start(dir);
    assert!(mounted(&pool_path), "pool not mounted again at start");

    rt.block_on(request(&socket, "DELETE", "/1.0/storage-pools/bt", None))
        .unwrap();
    assert!(!mounted(&pool_path), "pool still mounted after delete");
    assert!(!image.exists(), "loop file left behind");
    assert_eq!(loop_devices_for(&image), "", "loop device left behind");
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}
