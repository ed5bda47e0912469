//! System tier (root): image remotes end to end. A simplestreams tree written by
//! `lxd-simplestreams` is served over HTTPS on 127.0.0.1 with a self-signed certificate
//! trusted through `SSL_CERT_FILE`; our daemon creates instances and copies images from it
//! (cached records, LXD's fingerprints, one download for concurrent requests, a download cut
//! at half resumed with `Range`, a corrupted file refused with nothing left, refresh). The
//! real LXD 5.0.2 serves as LXD-protocol source, and the real `lxc` and `lxd` 5.0.2 list and
//! launch from the written tree (which proves its format).

mod remote_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use remote_support::*;
use serde_json::{json, Value};

fn simplestreams(url: &str, alias: &str) -> Value {
    json!({"type": "image", "mode": "pull", "server": url, "protocol": "simplestreams", "alias": alias})
}

#[test]
fn simplestreams_remote_caches_resumes_refuses_corruption_and_refreshes() {
    if Command::new("mksquashfs").arg("-version").output().is_err() {
        eprintln!("SKIP: mksquashfs (squashfs-tools) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let mut server = ImageServer::new(work);

    // A split image (metadata + squashfs) for instances, as a cloud-images tree holds them.
    let split = image_dir(work, "split", 1_700_000_000, 0);
    let meta = work.join("meta.tar.xz");
    run(Command::new("tar")
        .arg("-C")
        .arg(&split)
        .arg("-cJf")
        .arg(&meta)
        .arg("metadata.yaml"));
    let squash = work.join("root.squashfs");
    run(Command::new("mksquashfs")
        .arg(split.join("rootfs"))
        .arg(&squash)
        .args(["-noappend", "-quiet"]));
    let split_fp = add_to_tree(
        &server.tree,
        &[&meta, &squash],
        &["--alias", "xenial", "--alias", "busybox"],
    );
    assert_eq!(
        split_fp,
        lxd_image::fingerprint_split(&meta, &squash).unwrap()
    );
    // Unified images: shared by two concurrent copies, cut at half, corrupted, refreshed.
    let shared = unified(work, "shared", 1_700_000_100, 0);
    let shared_fp = add_to_tree(
        &server.tree,
        &[&shared],
        &["--alias", "bb-shared", "--product-name", "bb:shared"],
    );
    let big = unified(work, "big", 1_700_000_200, 6 << 20);
    let big_fp = add_to_tree(
        &server.tree,
        &[&big],
        &["--alias", "bb-big", "--product-name", "bb:big"],
    );
    let bad = unified(work, "bad", 1_700_000_300, 0);
    let bad_fp = add_to_tree(
        &server.tree,
        &[&bad],
        &["--alias", "bb-bad", "--product-name", "bb:bad"],
    );
    let old = unified(work, "refresh-old", 1_700_000_400, 0);
    let old_fp = add_to_tree(
        &server.tree,
        &[&old],
        &["--alias", "bb-refresh", "--product-name", "bb:refresh"],
    );
    let big_path = served_file(&server.tree, &big_fp, lxd_simplestreams::FileRole::Meta);
    let bad_path = served_file(&server.tree, &bad_fp, lxd_simplestreams::FileRole::Meta);
    // Corrupt the served copy (same size, different bytes).
    let mut bytes = std::fs::read(server.tree.join(&bad_path)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(server.tree.join(&bad_path), bytes).unwrap();
    server.start(&[&big_path]);

    let daemon = Daemon::start(LXD, &work.join("lxd"), &server.ca);

    // An instance from the simplestreams remote: downloaded, cached, started.
    let done = daemon.op(
        "POST",
        "/1.0/instances",
        Some(json!({"name": "c1", "source": simplestreams(&server.url, "xenial")})),
    );
    assert_eq!(done["status"], "Success", "{done}");
    let progress = done["metadata"]["download_progress"]
        .as_str()
        .unwrap_or_default();
    assert!(progress.starts_with("rootfs: 100% ("), "{done}");
    let image = daemon
        .call("GET", &format!("/1.0/images/{split_fp}"), None)
        .unwrap();
    assert_eq!(image["fingerprint"], split_fp.as_str());
    assert_eq!(image["cached"], true);
    assert_eq!(image["auto_update"], true);
    assert_eq!(image["public"], false);
    assert_eq!(
        image["update_source"],
        json!({"alias": "xenial", "certificate": "", "protocol": "simplestreams", "server": server.url, "image_type": ""})
    );
    assert_eq!(image["properties"]["type"], "squashfs");
    let done = daemon.op(
        "PUT",
        "/1.0/instances/c1/state",
        Some(json!({"action": "start"})),
    );
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(
        daemon.call("GET", "/1.0/instances/c1", None).unwrap()["status"],
        "Running"
    );
    // A second instance by another alias of the same image downloads nothing.
    let before = server.requests().len();
    let done = daemon.op(
        "POST",
        "/1.0/instances",
        Some(json!({"name": "c2", "source": simplestreams(&server.url, "busybox")})),
    );
    assert_eq!(done["status"], "Success", "{done}");
    assert!(
        server.requests()[before..]
            .iter()
            .all(|r| !r.contains("/images/")),
        "{:?}",
        &server.requests()[before..]
    );

    // Two concurrent copies of one image share a single download.
    let copies: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = ["s1", "s2"]
            .iter()
            .map(|alias| {
                let (daemon, url) = (&daemon, server.url.clone());
                s.spawn(move || {
                    daemon.copy_image(
                        simplestreams(&url, "bb-shared"),
                        json!({"aliases": [{"name": alias}]}),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for done in &copies {
        assert_eq!(done["status"], "Success", "{done}");
        assert_eq!(done["metadata"]["fingerprint"], shared_fp.as_str());
    }
    let shared_path = served_file(&server.tree, &shared_fp, lxd_simplestreams::FileRole::Meta);
    let fetches = server
        .requests()
        .iter()
        .filter(|r| r.contains(&shared_path))
        .count();
    assert_eq!(fetches, 1, "{:?}", server.requests());
    for alias in ["s1", "s2"] {
        let entry = daemon
            .call("GET", &format!("/1.0/images/aliases/{alias}"), None)
            .unwrap();
        assert_eq!(entry["target"], shared_fp.as_str());
    }

    // A download cut at half resumes with a Range request instead of starting over.
    let done = daemon.copy_image(simplestreams(&server.url, "bb-big"), json!({}));
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["metadata"]["fingerprint"], big_fp.as_str());
    let big_requests: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.contains(&big_path))
        .collect();
    assert_eq!(big_requests.len(), 2, "{big_requests:?}");
    assert!(big_requests[0].ends_with(" -"), "{big_requests:?}");
    let resumed_from: u64 = big_requests[1]
        .rsplit("bytes=")
        .next()
        .and_then(|r| r.trim_end_matches('-').parse().ok())
        .unwrap_or_else(|| panic!("no Range request: {big_requests:?}"));
    let size = std::fs::metadata(&big).unwrap().len();
    assert!(
        resumed_from >= size / 4 && resumed_from <= size / 2,
        "{resumed_from} of {size}"
    );
    assert_eq!(
        lxd_image::fingerprint_file(&work.join("lxd/images").join(&big_fp)).unwrap(),
        big_fp
    );

    // A corrupted file fails on its hash and leaves nothing behind.
    let done = daemon.copy_image(simplestreams(&server.url, "bb-bad"), json!({}));
    assert_eq!(done["status"], "Failure", "{done}");
    let err = done["err"].as_str().unwrap();
    assert!(
        err.starts_with(&format!("Hash mismatch for {}/{bad_path}: ", server.url)),
        "{err}"
    );
    assert!(daemon
        .call("GET", &format!("/1.0/images/{bad_fp}"), None)
        .is_err());
    let leftovers: Vec<String> = walk(&work.join("lxd/images"))
        .into_iter()
        .filter(|p| p.contains(&bad_fp))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let partials = std::fs::read_dir(work.join("lxd/images/partial"))
        .unwrap()
        .count();
    assert_eq!(partials, 0);

    // An unknown alias is LXD's error.
    let done = daemon.copy_image(simplestreams(&server.url, "nope"), json!({}));
    assert_eq!(
        done["err"],
        "Failed getting remote image info: Failed getting image: The requested image couldn't be found"
    );

    // Refresh: a newer image under the same alias replaces the old one and takes its alias.
    let done = daemon.copy_image(
        simplestreams(&server.url, "bb-refresh"),
        json!({"aliases": [{"name": "mine"}], "auto_update": true}),
    );
    assert_eq!(done["metadata"]["fingerprint"], old_fp.as_str(), "{done}");
    let done = daemon.op("POST", &format!("/1.0/images/{old_fp}/refresh"), None);
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["metadata"]["refreshed"], false, "{done}");
    let new = unified(work, "refresh-new", 1_700_090_000, 0);
    let new_fp = add_to_tree(
        &server.tree,
        &[&new],
        &["--alias", "bb-refresh", "--product-name", "bb:refresh"],
    );
    let done = daemon.op("POST", &format!("/1.0/images/{old_fp}/refresh"), None);
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["metadata"]["refreshed"], true, "{done}");
    assert_eq!(
        daemon
            .call("GET", "/1.0/images/aliases/mine", None)
            .unwrap()["target"],
        new_fp.as_str()
    );
    assert!(daemon
        .call("GET", &format!("/1.0/images/{old_fp}"), None)
        .is_err());
    assert!(!work.join("lxd/images").join(&old_fp).exists());
    let refreshed = daemon
        .call("GET", &format!("/1.0/images/{new_fp}"), None)
        .unwrap();
    assert_eq!(refreshed["auto_update"], true);
    assert_eq!(refreshed["update_source"]["alias"], "bb-refresh");

    daemon.delete_instance("c1");
    daemon.delete_instance("c2");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

/// The real `lxc` with its own config directory, talking to `lxd_dir`.
fn real_lxc(conf: &Path, lxd_dir: &Path, ca: &Path, args: &[&str]) -> std::process::Output {
    Command::new("/usr/bin/lxc")
        .args(args)
        .env("LXD_CONF", conf)
        .env("LXD_DIR", lxd_dir)
        .env("SSL_CERT_FILE", ca)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn real_lxd_reads_the_written_tree_and_serves_as_lxd_protocol_source() {
    if !Path::new("/usr/bin/lxd").exists() || !Path::new("/usr/bin/lxc").exists() {
        eprintln!("SKIP: the real LXD 5.0.2 (/usr/bin/lxd, /usr/bin/lxc) is not installed");
        return;
    }
    if Command::new("mksquashfs").arg("-version").output().is_err() {
        eprintln!("SKIP: mksquashfs (squashfs-tools) is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path();
    let mut server = ImageServer::new(work);
    let split = image_dir(work, "split", 1_700_000_000, 0);
    let meta = work.join("meta.tar.xz");
    run(Command::new("tar")
        .arg("-C")
        .arg(&split)
        .arg("-cJf")
        .arg(&meta)
        .arg("metadata.yaml"));
    let squash = work.join("root.squashfs");
    run(Command::new("mksquashfs")
        .arg(split.join("rootfs"))
        .arg(&squash)
        .args(["-noappend", "-quiet"]));
    let split_fp = add_to_tree(&server.tree, &[&meta, &squash], &["--alias", "xenial"]);
    let combined = unified(work, "combined", 1_700_000_100, 0);
    let combined_fp = add_to_tree(
        &server.tree,
        &[&combined],
        &["--alias", "bb-combined", "--product-name", "bb:combined"],
    );
    server.start(&[]);

    let real_dir = work.join("real");
    let real = Daemon::start("/usr/bin/lxd", &real_dir, &server.ca);
    let conf = work.join("lxc-conf");
    let out = real_lxc(
        &conf,
        &real_dir,
        &server.ca,
        &[
            "remote",
            "add",
            "ss",
            &server.url,
            "--protocol",
            "simplestreams",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let out = real_lxc(
        &conf,
        &real_dir,
        &server.ca,
        &["image", "list", "ss:", "--format", "csv", "-c", "lfd"],
    );
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listed.contains(&split_fp[..12]) && listed.contains(&combined_fp[..12]),
        "{listed}"
    );
    assert!(listed.contains("xenial (1 more)"), "{listed}");
    // The real daemon launches from the tree (split and unified), fingerprints as ours.
    for (alias, name) in [
        ("xenial", "imgremote-real1"),
        ("bb-combined", "imgremote-real2"),
    ] {
        let out = real_lxc(
            &conf,
            &real_dir,
            &server.ca,
            &["launch", &format!("ss:{alias}"), name],
        );
        assert!(out.status.success(), "real lxc launch ss:{alias}: {out:?}");
    }
    let images = real.call("GET", "/1.0/images", None).unwrap();
    for fp in [&split_fp, &combined_fp] {
        assert!(images.to_string().contains(fp.as_str()), "{images}");
    }
    for name in ["imgremote-real1", "imgremote-real2"] {
        let out = real_lxc(&conf, &real_dir, &server.ca, &["delete", "-f", name]);
        assert!(out.status.success(), "{out:?}");
    }

    // The real LXD as LXD-protocol source: public by alias, private by secret.
    let port = free_port();
    let out = real_lxc(
        &conf,
        &real_dir,
        &server.ca,
        &[
            "config",
            "set",
            "core.https_address",
            &format!("127.0.0.1:{port}"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let public = unified(work, "public", 1_700_000_200, 0);
    let out = real_lxc(
        &conf,
        &real_dir,
        &server.ca,
        &[
            "image",
            "import",
            public.to_str().unwrap(),
            "--alias",
            "pub1",
            "--public",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let public_fp = lxd_image::fingerprint_file(&public).unwrap();
    let private = unified(work, "private", 1_700_000_300, 0);
    let out = real_lxc(
        &conf,
        &real_dir,
        &server.ca,
        &["image", "import", private.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let private_fp = lxd_image::fingerprint_file(&private).unwrap();
    let certificate = std::fs::read_to_string(real_dir.join("server.crt")).unwrap();
    let lxd_url = format!("https://127.0.0.1:{port}");
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let ours = Daemon::start(LXD, &work.join("ours"), &server.ca);
    let lxd_source = |extra: Value| {
        let mut source =
            json!({"type": "image", "mode": "pull", "server": lxd_url, "protocol": "lxd"});
        source
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        source
    };
    // Without the server's certificate its self-signed TLS is refused.
    let done = ours.op(
        "POST",
        "/1.0/instances",
        Some(json!({"name": "l0", "source": lxd_source(json!({"alias": "pub1"}))})),
    );
    assert_eq!(done["status"], "Failure", "{done}");
    assert!(
        done["err"].as_str().unwrap().contains("Failed to connect"),
        "{done}"
    );
    let done = ours.op(
        "POST",
        "/1.0/instances",
        Some(json!({"name": "l1", "source": lxd_source(json!({"alias": "pub1", "certificate": certificate}))})),
    );
    assert_eq!(done["status"], "Success", "{done}");
    let done = ours.op(
        "PUT",
        "/1.0/instances/l1/state",
        Some(json!({"action": "start"})),
    );
    assert_eq!(done["status"], "Success", "{done}");
    let image = ours
        .call("GET", &format!("/1.0/images/{public_fp}"), None)
        .unwrap();
    assert_eq!(image["cached"], true);
    assert_eq!(image["update_source"]["protocol"], "lxd");
    assert_eq!(image["update_source"]["alias"], "pub1");
    // A private image is refused without its secret, and copied with one.
    let done = ours.copy_image(
        lxd_source(json!({"fingerprint": private_fp, "certificate": certificate})),
        json!({}),
    );
    assert_eq!(done["status"], "Failure", "{done}");
    let secret_op = real
        .call(
            "POST",
            &format!("/1.0/images/{private_fp}/secret"),
            Some(json!({})),
        )
        .unwrap();
    let secret = secret_op["metadata"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let done = ours.copy_image(
        lxd_source(
            json!({"fingerprint": private_fp, "secret": secret, "certificate": certificate}),
        ),
        json!({"aliases": [{"name": "priv"}]}),
    );
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["metadata"]["fingerprint"], private_fp.as_str());
    assert_eq!(
        lxd_image::fingerprint_file(&work.join("ours/images").join(&private_fp)).unwrap(),
        private_fp
    );
    // A split image (metadata + squashfs) comes as a multipart export.
    real.call(
        "PATCH",
        &format!("/1.0/images/{split_fp}"),
        Some(json!({"public": true})),
    )
    .unwrap();
    real.call(
        "POST",
        "/1.0/images/aliases",
        Some(json!({"name": "split1", "target": split_fp})),
    )
    .unwrap();
    let done = ours.copy_image(
        lxd_source(json!({"alias": "split1", "certificate": certificate})),
        json!({}),
    );
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["metadata"]["fingerprint"], split_fp.as_str());
    let images = work.join("ours/images");
    assert_eq!(
        lxd_image::fingerprint_split(
            &images.join(&split_fp),
            &images.join(format!("{split_fp}.rootfs"))
        )
        .unwrap(),
        split_fp
    );
    ours.delete_instance("l1");
}
