//! System tier (root): on a `dir` pool the daemon unpacks the next instance volume of an image
//! ahead of time; the next create takes it, and the image's deletion removes it.

use std::time::Duration;

use serde_json::json;

mod support;

/// Poll `done` for up to 10 s.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// On a dir pool the next instance volume of an image is unpacked ahead of time at
/// `images/<fp>`: the next instance takes that very directory (and runs, apart from the
/// first), another is prepared after it, and deleting the image removes it.
#[test]
fn dir_pool_prepares_the_next_instance_volume() {
    use std::os::unix::fs::MetadataExt;
    let bb = support::BusyboxDaemon::start();
    let pool = bb.dir.join("storage-pools/default");
    let ready = pool.join("images").join(&bb.fingerprint);
    let inode = |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().ino();
    bb.create_with("rv-a", json!({}));
    wait_until("the first ready volume", || ready.exists());
    assert!(ready.join("rootfs/bin/busybox").is_file());
    assert!(ready.join("metadata.yaml").is_file());
    let prepared = inode(&ready);

    bb.launch("rv-b");
    assert_eq!(inode(&pool.join("containers/rv-b")), prepared);
    let (code, out) = bb.exec("rv-b", &["sh", "-c", "echo b > /root/mark; cat /root/mark"]);
    assert_eq!((code, out.as_str()), (0, "b\n"));
    assert!(!pool.join("containers/rv-a/rootfs/root/mark").exists());
    wait_until("the next ready volume", || ready.exists());
    assert_ne!(inode(&ready), prepared);

    bb.remove("rv-b");
    bb.api.op("DELETE", "/1.0/instances/rv-a", None);
    bb.api
        .op("DELETE", &format!("/1.0/images/{}", bb.fingerprint), None);
    let left: Vec<_> = std::fs::read_dir(pool.join("images"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
