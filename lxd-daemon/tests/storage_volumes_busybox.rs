//! System tier (root): a custom volume on a dir and on a btrfs pool, attached to two busybox
//! containers: a file written by the first (unprivileged, through the idmapped volume mount)
//! survives its restart, is visible in the second, and keeps its on-disk owner; the volume
//! cannot be deleted while attached and goes away cleanly afterwards.

use std::path::Path;
use std::process::Command;

use serde_json::json;

mod support;

use support::{busybox_image, start_daemon, Api};

/// Run `script` in `name` and return its recorded stdout (`dir` is the daemon's `LXD_DIR`).
fn sh(api: &Api, dir: &Path, name: &str, script: &str) -> String {
    let exec = json!({"command": ["sh", "-c", script], "record-output": true, "wait-for-websocket": false});
    let done = api.op("POST", &format!("/1.0/instances/{name}/exec"), Some(exec));
    assert_eq!(done["metadata"]["return"], 0, "{script}: {done}");
    let log = dir
        .join("logs")
        .join(name)
        .join(format!("exec_{}.stdout", done["id"].as_str().unwrap()));
    std::fs::read_to_string(log).unwrap()
}

fn state(api: &Api, name: &str, action: &str) {
    let body = json!({"action": action, "timeout": -1, "force": true});
    api.op("PUT", &format!("/1.0/instances/{name}/state"), Some(body));
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
    state(&api, a, "start");
    assert_eq!(
        sh(
            &api,
            &dir,
            a,
            "echo hello > /mnt/data/f && stat -c '%u:%g' /mnt/data/f"
        ),
        "0:0\n"
    );
    let on_disk = dir.join("storage-pools/p/custom/default_data/f");
    assert_eq!(std::fs::read_to_string(&on_disk).unwrap(), "hello\n");
    state(&api, a, "stop");
    state(&api, a, "start");
    assert_eq!(sh(&api, &dir, a, "cat /mnt/data/f"), "hello\n");
    state(&api, b, "start");
    assert_eq!(
        sh(
            &api,
            &dir,
            b,
            "cat /mnt/data/f && stat -c '%u:%g' /mnt/data/f"
        ),
        "hello\n0:0\n"
    );
    let err = api
        .call("DELETE", "/1.0/storage-pools/p/volumes/custom/data", None)
        .unwrap_err();
    assert_eq!(err, "The storage volume is still in use");

    for name in &names {
        state(&api, name, "stop");
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
