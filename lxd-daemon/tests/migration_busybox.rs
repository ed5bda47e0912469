//! System tier (root): two of our daemons on their own directories migrate a busybox
//! container with two snapshots, driven by our `lxc` (built next to `lxd`) through unix-socket
//! remotes: relay, push and pull copies with contents, owners, modes and snapshots identical;
//! refresh; move (source gone); a taken target name, a running source without `--stateless`
//! and a target whose source never connects fail and leave nothing behind; btrfs pools on
//! both sides use send/receive (the received subvolumes carry a received UUID).

mod busybox;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use busybox::{is_root, Daemon};
use serde_json::json;

/// Our `lxc`, which `cargo build --release --bins` puts next to `lxd`.
fn lxc_binary() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_lxd")).with_file_name("lxc");
    assert!(
        path.is_file(),
        "{} missing: build the workspace's binaries first",
        path.display()
    );
    path
}

/// Our `lxc` with its own config directory holding remotes `a` and `b`.
struct Cli {
    conf: PathBuf,
}

impl Cli {
    fn new(tmp: &Path, a: &Daemon, b: &Daemon) -> Cli {
        let cli = Cli {
            conf: tmp.join("lxc-conf"),
        };
        for (name, d) in [("a", a), ("b", b)] {
            let url = format!("unix://{}", d.dir.join("unix.socket").display());
            cli.ok(&["remote", "add", name, &url]);
        }
        cli
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(lxc_binary())
            .args(args)
            .env("LXD_CONF", &self.conf)
            .env_remove("LXD_DIR")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "lxc {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(!o.status.success(), "lxc {args:?} unexpectedly succeeded");
        String::from_utf8_lossy(&o.stderr).into_owned()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Listen on HTTPS on a free loopback port (needed by push targets and pull sources).
fn listen_https(d: &Daemon) {
    let address = format!("127.0.0.1:{}", free_port());
    d.call(
        "PATCH",
        "/1.0",
        Some(json!({"config": {"core.https_address": address}})),
    )
    .unwrap();
}

/// The rootfs of instance `name` (or `name/snap`) on pool `pool` of `d`.
fn rootfs(d: &Daemon, pool: &str, name: &str) -> PathBuf {
    let rel = match name.split_once('/') {
        Some((inst, snap)) => format!("containers-snapshots/{inst}/{snap}"),
        None => format!("containers/{name}"),
    };
    d.dir
        .join("storage-pools")
        .join(pool)
        .join(rel)
        .join("rootfs")
}

/// Write `/root/data` with `text`, owned 1000:1001, mode 0640, and a dir mode 0711. Texts
/// differ in length: rsync skips a file of the same size and second of modification.
fn write_data(d: &Daemon, pool: &str, name: &str, text: &str) {
    let root = rootfs(d, pool, name);
    let file = root.join("root/data");
    std::fs::write(&file, text).unwrap();
    std::os::unix::fs::chown(&file, Some(1000), Some(1001)).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let dir = root.join("root/private");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o711)).unwrap();
}

/// `/root/data`'s text, owner and mode, and `/root/private`'s mode.
fn data(d: &Daemon, pool: &str, name: &str) -> (String, u32, u32, u32, u32) {
    let root = rootfs(d, pool, name);
    let file = root.join("root/data");
    let meta = std::fs::metadata(&file).unwrap();
    let dir = std::fs::metadata(root.join("root/private")).unwrap();
    (
        std::fs::read_to_string(&file).unwrap(),
        meta.uid(),
        meta.gid(),
        meta.mode() & 0o7777,
        dir.mode() & 0o7777,
    )
}

fn snapshot(d: &Daemon, name: &str, snap: &str) {
    d.op(
        "POST",
        &format!("/1.0/instances/{name}/snapshots"),
        Some(json!({"name": snap})),
    );
}

fn snapshot_names(d: &Daemon, name: &str) -> Vec<String> {
    let list = d
        .call("GET", &format!("/1.0/instances/{name}/snapshots"), None)
        .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

fn exists(d: &Daemon, name: &str) -> bool {
    d.call("GET", &format!("/1.0/instances/{name}"), None)
        .is_ok()
}

/// The instance's status (`Running`, `Stopped`).
fn status(d: &Daemon, name: &str) -> String {
    let inst = d
        .call("GET", &format!("/1.0/instances/{name}"), None)
        .unwrap();
    inst["status"].as_str().unwrap_or_default().to_string()
}

/// c1 on `a`'s pool `pool`: snap0 ("one"), snap1 ("two-2"), then "three-33" live.
fn source_with_snapshots(a: &Daemon, pool: &str) {
    a.op(
        "POST",
        "/1.0/instances",
        Some(
            json!({"name": "c1", "source": {"type": "image", "alias": "bb"},
            "devices": {"root": {"type": "disk", "path": "/", "pool": pool}}}),
        ),
    );
    write_data(a, pool, "c1", "one");
    snapshot(a, "c1", "snap0");
    write_data(a, pool, "c1", "two-2");
    snapshot(a, "c1", "snap1");
    write_data(a, pool, "c1", "three-33");
}

/// `b`'s `name` equals `a`'s c1: data, owners, modes, snapshot list and each snapshot's data.
fn assert_same(a: &Daemon, a_pool: &str, b: &Daemon, b_pool: &str, name: &str) {
    assert_eq!(data(b, b_pool, name), data(a, a_pool, "c1"), "{name}");
    assert_eq!(snapshot_names(b, name), snapshot_names(a, "c1"), "{name}");
    for snap in snapshot_names(a, "c1") {
        assert_eq!(
            data(b, b_pool, &format!("{name}/{snap}")),
            data(a, a_pool, &format!("c1/{snap}")),
            "{name}/{snap}"
        );
    }
    assert_eq!(data(b, b_pool, name).0, "three-33");
    let busybox = rootfs(b, b_pool, name).join("bin/busybox");
    assert_eq!(std::fs::metadata(busybox).unwrap().mode() & 0o777, 0o755);
}

#[test]
fn copy_and_move_with_snapshots_between_two_daemons() {
    if !is_root() {
        println!("skipping: needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let a = Daemon::start(&tmp.path().join("a"));
    let b = Daemon::start(&tmp.path().join("b"));
    let cli = Cli::new(tmp.path(), &a, &b);
    source_with_snapshots(&a, "default");

    cli.ok(&["copy", "a:c1", "b:relayed", "--mode", "relay"]);
    assert_same(&a, "default", &b, "default", "relayed");

    // A taken name fails and leaves the existing instance as it was.
    let err = cli.fails(&["copy", "a:c1", "b:relayed", "--mode", "relay"]);
    assert!(err.contains("already exists"), "{err}");
    assert_same(&a, "default", &b, "default", "relayed");

    // Refresh: a new snapshot and new data on the source reach the copy.
    snapshot(&a, "c1", "snap2");
    write_data(&a, "default", "c1", "four-4444");
    cli.ok(&["copy", "a:c1", "b:relayed", "--mode", "relay", "--refresh"]);
    assert_eq!(data(&b, "default", "relayed").0, "four-4444");
    assert_eq!(snapshot_names(&b, "relayed"), ["snap0", "snap1", "snap2"]);
    write_data(&a, "default", "c1", "three-33");

    listen_https(&b);
    cli.ok(&["copy", "a:c1", "b:pushed", "--mode", "push"]);
    assert_same(&a, "default", &b, "default", "pushed");

    listen_https(&a);
    cli.ok(&["copy", "a:c1", "b:pulled"]);
    assert_same(&a, "default", &b, "default", "pulled");

    // --instance-only: no snapshots.
    cli.ok(&[
        "copy",
        "a:c1",
        "b:alone",
        "--instance-only",
        "--mode",
        "relay",
    ]);
    assert!(snapshot_names(&b, "alone").is_empty());
    assert_eq!(data(&b, "default", "alone").0, "three-33");

    // A snapshot as the source becomes a plain instance.
    cli.ok(&["copy", "a:c1/snap0", "b:fromsnap", "--mode", "relay"]);
    assert_eq!(data(&b, "default", "fromsnap").0, "one");
    assert!(snapshot_names(&b, "fromsnap").is_empty());

    // A target whose source never connects fails and removes the new instance.
    let op = b
        .call(
            "POST",
            "/1.0/instances",
            Some(json!({"name": "orphan", "source": {"type": "migration", "mode": "push"}})),
        )
        .unwrap();
    assert!(exists(&b, "orphan"), "record written before the transfer");
    let done = b.wait(op["id"].as_str().unwrap());
    assert_eq!(done["status"], "Failure", "{done}");
    assert!(!exists(&b, "orphan"), "half instance left behind");
    assert!(!rootfs(&b, "default", "orphan").exists());

    // A running source moves live (CRIU) unless told --stateless. Where CRIU cannot work (not
    // installed, or a kernel its checks refuse) the copy fails with a clear error, leaving the
    // source running and nothing on the target; where it works the copy arrives running.
    a.op(
        "PUT",
        "/1.0/instances/c1/state",
        Some(json!({"action": "start"})),
    );
    let criu_works = Command::new("criu")
        .arg("check")
        .output()
        .is_ok_and(|o| o.status.success());
    if criu_works {
        cli.ok(&["copy", "a:c1", "b:live", "--mode", "relay"]);
        assert_eq!(status(&b, "live"), "Running");
        b.op(
            "PUT",
            "/1.0/instances/live/state",
            Some(json!({"action": "stop", "force": true})),
        );
        cli.ok(&["delete", "b:live"]);
    } else {
        let err = cli.fails(&["copy", "a:c1", "b:live", "--mode", "relay"]);
        assert!(
            err.contains("live migration") || err.contains("Failed to checkpoint the instance"),
            "{err}"
        );
        assert!(!exists(&b, "live"));
        assert_eq!(
            status(&a, "c1"),
            "Running",
            "a failed live copy stopped the source"
        );
    }
    a.op(
        "PUT",
        "/1.0/instances/c1/state",
        Some(json!({"action": "stop", "force": true})),
    );

    // Move: the copy arrives, the source is gone.
    let expected = data(&a, "default", "c1");
    let snaps = snapshot_names(&a, "c1");
    cli.ok(&["move", "a:c1", "b:moved", "--mode", "relay"]);
    assert!(!exists(&a, "c1"), "source still there after move");
    assert_eq!(data(&b, "default", "moved"), expected);
    assert_eq!(snapshot_names(&b, "moved"), snaps);
    let list = cli.ok(&["list", "b:", "--format", "csv", "-c", "n"]);
    for name in ["alone", "fromsnap", "moved", "pulled", "pushed", "relayed"] {
        assert!(list.lines().any(|l| l == name), "{name} missing in {list}");
    }
}

/// Unmounts a btrfs pool if a step fails, so no mount outlives the test.
struct Unmount(Vec<PathBuf>);

impl Drop for Unmount {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Command::new("umount").arg("-l").arg(p).status();
        }
    }
}

fn received_uuid(path: &Path) -> String {
    let out = Command::new("btrfs")
        .args(["subvolume", "show"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Received UUID:").map(str::trim))
        .unwrap_or("-")
        .to_string()
}

#[test]
fn btrfs_pools_migrate_with_send_receive() {
    if !is_root() || Command::new("btrfs").arg("--version").output().is_err() {
        println!("skipping: needs root and btrfs-progs");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let a = Daemon::start(&tmp.path().join("a"));
    let b = Daemon::start(&tmp.path().join("b"));
    let _unmount = Unmount(vec![
        a.dir.join("storage-pools/bt"),
        b.dir.join("storage-pools/bt"),
    ]);
    for d in [&a, &b] {
        d.call(
            "POST",
            "/1.0/storage-pools",
            Some(json!({"name": "bt", "driver": "btrfs", "config": {"size": "300MiB"}})),
        )
        .unwrap();
    }
    let cli = Cli::new(tmp.path(), &a, &b);
    source_with_snapshots(&a, "bt");

    cli.ok(&["copy", "a:c1", "b:c2", "--mode", "relay", "-s", "bt"]);
    assert_same(&a, "bt", &b, "bt", "c2");
    for name in ["c2", "c2/snap0", "c2/snap1"] {
        let sub = rootfs(&b, "bt", name).parent().unwrap().to_path_buf();
        assert_ne!(
            received_uuid(&sub),
            "-",
            "{name} not received by btrfs receive"
        );
    }
    // The copy is a normal writable volume.
    write_data(&b, "bt", "c2", "changed");

    // Refresh sends only the new snapshot incrementally.
    snapshot(&a, "c1", "snap2");
    write_data(&a, "bt", "c1", "four-4444");
    cli.ok(&[
        "copy",
        "a:c1",
        "b:c2",
        "--mode",
        "relay",
        "--refresh",
        "-s",
        "bt",
    ]);
    assert_eq!(data(&b, "bt", "c2").0, "four-4444");
    assert_eq!(snapshot_names(&b, "c2"), ["snap0", "snap1", "snap2"]);

    // btrfs to dir falls back to rsync.
    cli.ok(&["copy", "a:c1", "b:c3", "--mode", "relay", "-s", "default"]);
    assert_eq!(data(&b, "default", "c3"), data(&a, "bt", "c1"));
    assert_eq!(snapshot_names(&b, "c3"), ["snap0", "snap1", "snap2"]);
    for name in ["c1", "c2", "c3"] {
        let d = if name == "c1" { &a } else { &b };
        d.op("DELETE", &format!("/1.0/instances/{name}"), None);
    }
}
