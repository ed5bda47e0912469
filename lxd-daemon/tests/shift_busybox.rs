//! System tier (root): the shifting fallback, forced with `LXD_IDMAPPED_MOUNTS_DISABLE=true`
//! (LXD's own switch) so it runs on a kernel that has idmapped mounts. The first start chowns
//! the rootfs to the container's host ids (set-user-ID bits and file capabilities kept) and
//! records the map in `volatile.last_state.idmap`; the second start shifts nothing; a new map
//! (`security.idmap.isolated`) shifts back and again; files written to the stopped container
//! get the container's owners; publishing shifts back to the container's own ids.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use serde_json::{json, Value};

fn owner(path: &Path) -> (u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

/// The host ids of the container's root from its `volatile.idmap.current`.
fn host_root(config: &Value) -> (u32, u32) {
    let map: Value =
        serde_json::from_str(config["volatile.idmap.current"].as_str().unwrap()).unwrap();
    let first = |is: &str| {
        map.as_array()
            .unwrap()
            .iter()
            .find(|e| e[is] == true && e["Nsid"] == 0)
            .map(|e| e["Hostid"].as_u64().unwrap() as u32)
            .unwrap()
    };
    (first("Isuid"), first("Isgid"))
}

/// A version 2 capability xattr: cap_net_raw permitted, effective.
fn net_raw_v2() -> Vec<u8> {
    let mut v = 0x0200_0001u32.to_le_bytes().to_vec();
    v.extend_from_slice(&(1u32 << 13).to_le_bytes());
    v.extend_from_slice(&[0; 12]);
    v
}

fn ctime(path: &Path) -> (i64, i64) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.ctime(), meta.ctime_nsec())
}

fn set_state(d: &support::BusyboxDaemon, name: &str, action: &str) {
    d.api.op(
        "PUT",
        &format!("/1.0/instances/{name}/state"),
        Some(json!({"action": action, "force": true, "timeout": -1})),
    );
}

#[test]
fn shifting_fallback_shifts_once_keeps_bits_and_follows_map_changes() {
    let d = support::BusyboxDaemon::start_with_env(&[("LXD_IDMAPPED_MOUNTS_DISABLE", "true")]);
    let name = "shift-c1";
    d.create_with(name, json!({}));
    assert_eq!(d.config(name)["volatile.last_state.idmap"], "[]");
    let rootfs = d
        .dir
        .join("storage-pools/default/containers")
        .join(name)
        .join("rootfs");
    // A set-user-ID binary and one with file capabilities, as images carry them.
    let su = rootfs.join("bin/su-like");
    std::fs::write(&su, "x").unwrap();
    std::fs::set_permissions(&su, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let ping = rootfs.join("bin/ping-like");
    std::fs::write(&ping, "x").unwrap();
    let caps = xattr::set(&ping, "security.capability", &net_raw_v2()).is_ok();

    d.start_instance(name);
    let config = d.config(name);
    let root = host_root(&config);
    assert_ne!(root.0, 0);
    assert_eq!(
        config["volatile.last_state.idmap"], config["volatile.idmap.current"],
        "the map the rootfs is stored with is recorded"
    );
    assert_eq!(owner(&rootfs), root);
    assert_eq!(owner(&rootfs.join("bin/busybox")), root);
    assert_eq!(owner(&su), root);
    assert_eq!(std::fs::metadata(&su).unwrap().mode() & 0o7777, 0o4755);
    if caps {
        let got = xattr::get(&ping, "security.capability").unwrap().unwrap();
        assert_eq!(got.len(), 24, "a version 3 capability: {got:?}");
        assert_eq!(
            &got[20..24],
            &root.0.to_le_bytes(),
            "for the container's root"
        );
        assert_eq!(&got[4..8], &(1u32 << 13).to_le_bytes());
    } else {
        eprintln!("file capabilities not checked: the filesystem refused them");
    }
    // Inside, the files are root's and writable by it.
    let script = "busybox touch /root/new && busybox stat -c %u:%g /root/new /bin/busybox";
    let (code, out) = d.exec(name, &["/bin/sh", "-c", script]);
    assert_eq!((code, out.as_str()), (0, "0:0\n0:0\n"));
    assert_eq!(owner(&rootfs.join("root/new")), root);

    // A second start shifts nothing (no chown touched the files).
    let before = ctime(&rootfs.join("bin/busybox"));
    set_state(&d, name, "restart");
    assert_eq!(ctime(&rootfs.join("bin/busybox")), before);
    assert_eq!(
        d.config(name)["volatile.last_state.idmap"],
        config["volatile.idmap.current"]
    );

    // Files written to the stopped container get its owners on disk, and read back as its ids.
    set_state(&d, name, "stop");
    let (status, _, _) = d.api.raw(
        "POST",
        &format!("/1.0/instances/{name}/files?path=/root/pushed"),
        b"hi".to_vec(),
        &[("X-LXD-uid", "1000"), ("X-LXD-gid", "1000")],
    );
    assert_eq!(status, 200);
    assert_eq!(
        owner(&rootfs.join("root/pushed")),
        (root.0 + 1000, root.1 + 1000)
    );
    let (status, headers, _) = d.api.raw(
        "GET",
        &format!("/1.0/instances/{name}/files?path=/root/pushed"),
        Vec::new(),
        &[],
    );
    assert_eq!(status, 200);
    assert_eq!(headers["X-LXD-uid"], "1000");

    // A new map (isolated): shifted back, then to the new block.
    d.api.op(
        "PATCH",
        &format!("/1.0/instances/{name}"),
        Some(json!({"config": {"security.idmap.isolated": "true"}})),
    );
    d.start_instance(name);
    let config = d.config(name);
    let new_root = host_root(&config);
    assert_eq!(new_root.0, root.0 + 65_536);
    assert_eq!(
        config["volatile.last_state.idmap"],
        config["volatile.idmap.current"]
    );
    assert_eq!(owner(&rootfs.join("bin/busybox")), new_root);
    assert_eq!(
        owner(&rootfs.join("root/pushed")),
        (new_root.0 + 1000, new_root.1 + 1000)
    );
    assert_eq!(std::fs::metadata(&su).unwrap().mode() & 0o7777, 0o4755);

    // Publishing packs the container's own ids.
    set_state(&d, name, "stop");
    let done = d.api.op(
        "POST",
        "/1.0/images",
        Some(json!({"source": {"type": "instance", "name": name}})),
    );
    let fp = done["metadata"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let image = d.dir.join("images").join(&fp);
    let listing = std::process::Command::new("tar")
        .args(["-tvzf"])
        .arg(&image)
        .arg("--numeric-owner")
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    let line = listing
        .lines()
        .find(|l| l.ends_with("rootfs/root/pushed"))
        .unwrap_or_else(|| panic!("{listing}"));
    assert!(line.contains(" 1000/1000 "), "{line}");
    d.api.op("DELETE", &format!("/1.0/images/{fp}"), None);
    d.api.op("DELETE", &format!("/1.0/instances/{name}"), None);
}
