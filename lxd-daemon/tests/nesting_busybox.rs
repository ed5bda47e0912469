//! System tier (root): our own `lxd` and `lxc` inside a busybox container. With
//! `security.nesting=true` the inner daemon creates a dir pool, imports a busybox image and
//! launches a container that runs (its hostname comes back through `lxc exec`), unprivileged
//! inside unprivileged: its map is derived from the outer container's (no `/etc/subuid` there)
//! and, idmapped mounts being out of reach inside, its rootfs is shifted on disk. Without
//! nesting the same launch fails with a clear error.
//!
//! Needs the `lxc` binary built beside `lxd` (`cargo build --release --bins`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap();
    assert!(status.success(), "{cmd:?}");
}

/// The shared libraries `binary` loads, from `ldd`.
fn libraries(binary: &Path) -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(binary).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

fn tar_gz(dir: &Path, out: &Path) {
    run(Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg("-czf")
        .arg(out)
        .args(["metadata.yaml", "rootfs"]));
}

fn metadata(dir: &Path, description: &str) {
    let yaml = format!(
        "architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  os: BusyBox\n  description: {description}\n"
    );
    std::fs::write(dir.join("metadata.yaml"), yaml).unwrap();
}

/// A busybox image holding our `lxd` and `lxc` with their libraries, and an inner busybox
/// image in `/root/inner.tar.gz`.
fn outer_image(work: &Path) -> Vec<u8> {
    let lxd = PathBuf::from(support::LXD);
    let lxc = lxd.with_file_name("lxc");
    assert!(
        lxc.exists(),
        "{} is missing: build it first (cargo build --release --bins)",
        lxc.display()
    );
    let img = work.join("outer");
    let root = img.join("rootfs");
    for d in [
        "bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "root", "run",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    for d in ["var/lib", "var/log", "usr/local/bin"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
    }
    std::os::unix::fs::symlink("../bin/busybox", root.join("sbin/init")).unwrap();
    std::fs::write(root.join("etc/inittab"), "::respawn:/bin/sleep 1000000\n").unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    for binary in [&lxd, &lxc] {
        let name = binary.file_name().unwrap();
        std::fs::copy(binary, root.join("usr/local/bin").join(name)).unwrap();
        for lib in libraries(binary) {
            let target = root.join(lib.strip_prefix("/").unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&lib, &target).unwrap();
        }
    }
    let inner = work.join("inner");
    support::busybox_image(&inner);
    std::fs::copy(inner.join("bb.tar.gz"), root.join("root/inner.tar.gz")).unwrap();
    metadata(&img, "outer");
    let out = work.join("outer.tar.gz");
    tar_gz(&img, &out);
    std::fs::read(out).unwrap()
}

/// Start our daemon inside `outer` and give it a dir pool and the inner image.
fn prepare_inner_daemon(d: &support::BusyboxDaemon, outer: &str) {
    let start = "setsid lxd --group root --logfile /var/log/lxd.log </dev/null \
                 >/var/log/lxd.out 2>&1 & lxd waitready --timeout 30";
    let (code, _, err) = d.exec_output(outer, &["/bin/sh", "-c", start]);
    assert_eq!(code, 0, "inner lxd in {outer}: {err}");
    let setup = "lxc storage create default dir && \
                 lxc profile device add default root disk path=/ pool=default && \
                 lxc image import /root/inner.tar.gz --alias bb";
    let (code, _, err) = d.exec_output(outer, &["/bin/sh", "-c", setup]);
    assert_eq!(code, 0, "inner setup in {outer}: {err}");
}

#[test]
fn nesting_our_lxd_runs_a_container_inside_only_with_security_nesting() {
    let d = support::BusyboxDaemon::start();
    let work = d.tmp.path().join("nesting-images");
    std::fs::create_dir_all(&work).unwrap();
    let op = d.api.upload(outer_image(&work));
    let done = d
        .api
        .call(
            "GET",
            &format!("/1.0/operations/{op}/wait?timeout=120"),
            None,
        )
        .unwrap();
    let fingerprint = done["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let launch = |name: &str, config: serde_json::Value| {
        let create = json!({
            "name": name,
            "config": config,
            "source": {"type": "image", "fingerprint": fingerprint},
        });
        d.api.op("POST", "/1.0/instances", Some(create));
        d.start_instance(name);
    };

    // With nesting: the nested container runs.
    launch("nest-outer", json!({"security.nesting": "true"}));
    prepare_inner_daemon(&d, "nest-outer");
    let (code, _, err) = d.exec_output("nest-outer", &["lxc", "launch", "bb", "inner"]);
    assert_eq!(code, 0, "nested launch: {err}");
    let (code, out, err) = d.exec_output("nest-outer", &["lxc", "exec", "inner", "--", "hostname"]);
    assert_eq!((code, out.as_str()), (0, "inner\n"), "{err}");
    // Unprivileged inside unprivileged: the inner root is id 100000 of the outer container
    // (the outer map seen from inside, above its first 100000 ids, as LXD derives it).
    let (_, map, _) = d.exec_output(
        "nest-outer",
        &["lxc", "exec", "inner", "--", "cat", "/proc/self/uid_map"],
    );
    let first: Vec<&str> = map.split_whitespace().take(2).collect();
    assert_eq!(first, ["0", "100000"], "{map}");
    let (_, shifted, _) = d.exec_output(
        "nest-outer",
        &["lxc", "config", "get", "inner", "volatile.last_state.idmap"],
    );
    assert!(shifted.contains("\"Hostid\":100000"), "{shifted}");
    let (code, out, _) = d.exec_output(
        "nest-outer",
        &[
            "lxc",
            "exec",
            "inner",
            "--",
            "busybox",
            "stat",
            "-c",
            "%u",
            "/bin/busybox",
        ],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "0\n"),
        "the inner rootfs is root's inside"
    );

    // Without nesting: the inner daemon works, its container does not start, and says why.
    launch("plain-outer", json!({}));
    prepare_inner_daemon(&d, "plain-outer");
    let (code, _, err) = d.exec_output("plain-outer", &["lxc", "launch", "bb", "inner"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("Failed to mount proc") && err.contains("security.nesting=true"),
        "{err}"
    );
    for name in ["nest-outer", "plain-outer"] {
        d.remove(name);
    }
}
