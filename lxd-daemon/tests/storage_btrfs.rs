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

/// Wait for the operation a call started (its metadata is the operation).
fn wait_op(rt: &tokio::runtime::Runtime, socket: &Path, op: &serde_json::Value) {
    let id = op["id"].as_str().expect("an operation");
    let path = format!("/1.0/operations/{id}/wait?timeout=60");
    let done = rt.block_on(request(socket, "GET", &path, None)).unwrap();
    assert_eq!(done["status"], "Success", "{done}");
}

#[test]
fn image_delete_removes_its_btrfs_image_volume_and_keeps_instances() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let socket = dir.join("unix.socket");
    let pool_path = dir.join("storage-pools/bti");
    let _guard = Guard(pool_path.clone());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut daemon = start(dir);
    let body = serde_json::json!({"name": "bti", "driver": "btrfs", "config": {"size": "300MiB"}});
    rt.block_on(request(&socket, "POST", "/1.0/storage-pools", Some(&body)))
        .unwrap();

    // A tiny image: nothing needs to run, the instance is only created.
    let img = dir.join("img");
    std::fs::create_dir_all(img.join("rootfs/etc")).unwrap();
    std::fs::write(img.join("rootfs/etc/hello"), "hi\n").unwrap();
    std::fs::write(
        img.join("metadata.yaml"),
        "architecture: x86_64\ncreation_date: 1700000000\n",
    )
    .unwrap();
    let tarball = dir.join("img.tar.gz");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&img)
        .arg("-czf")
        .arg(&tarball)
        .args(["metadata.yaml", "rootfs"])
        .status()
        .unwrap();
    assert!(ok.success());
    let out = Command::new("curl")
        .args(["-sf", "--unix-socket"])
        .arg(&socket)
        .args(["-X", "POST", "-H", "Content-Type: application/octet-stream"])
        .arg("--data-binary")
        .arg(format!("@{}", tarball.display()))
        .arg("http://lxd/1.0/images")
        .output()
        .unwrap();
    assert!(out.status.success(), "upload failed");
    let op: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    wait_op(&rt, &socket, &op["metadata"]);
    let fp = sha256_hex(&std::fs::read(&tarball).unwrap());

    let create = serde_json::json!({
        "name": "imgvol-c1",
        "source": {"type": "image", "fingerprint": fp},
        "devices": {"root": {"type": "disk", "path": "/", "pool": "bti"}},
    });
    let op = rt
        .block_on(request(&socket, "POST", "/1.0/instances", Some(&create)))
        .unwrap();
    wait_op(&rt, &socket, &op);
    let image_volume = pool_path.join("images").join(&fp);
    assert!(image_volume.is_dir(), "no image volume on the btrfs pool");

    let op = rt
        .block_on(request(
            &socket,
            "DELETE",
            &format!("/1.0/images/{fp}"),
            None,
        ))
        .unwrap();
    wait_op(&rt, &socket, &op);
    assert!(!image_volume.exists(), "image volume left on the pool");
    let hello = pool_path.join("containers/imgvol-c1/rootfs/etc/hello");
    assert_eq!(std::fs::read_to_string(hello).unwrap(), "hi\n");

    let op = rt
        .block_on(request(&socket, "DELETE", "/1.0/instances/imgvol-c1", None))
        .unwrap();
    wait_op(&rt, &socket, &op);
    rt.block_on(request(&socket, "DELETE", "/1.0/storage-pools/bti", None))
        .unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
