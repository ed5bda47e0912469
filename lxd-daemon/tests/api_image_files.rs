//! API tier: image uploads (raw unified, multipart split), their fingerprints, refusals that
//! leave nothing behind, and exports that give back the uploaded bytes.

mod common;

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use common::{call_bytes, state};
use sha2::{Digest, Sha256};

fn sha(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// A tiny image tree: metadata.yaml and a rootfs with one file.
fn tree(dir: &Path, with_metadata: bool) {
    std::fs::create_dir_all(dir.join("rootfs/etc")).unwrap();
    std::fs::write(dir.join("rootfs/etc/hostname"), "img\n").unwrap();
    if with_metadata {
        std::fs::write(
            dir.join("metadata.yaml"),
            "architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: test image\n  os: BusyBox\n",
        )
        .unwrap();
    }
}

fn tar(dir: &Path, out: &str, flags: &str, entries: &[&str]) -> Vec<u8> {
    let status = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg(flags)
        .arg(dir.join(out))
        .args(entries)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(dir.join(out)).unwrap()
}

fn leftovers(images: &Path) -> Vec<String> {
    std::fs::read_dir(images)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("lxd_post_"))
        .collect()
}

async fn wait(s: &lxd_daemon::state::AppState, r: &common::Reply) -> serde_json::Value {
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let op = r.headers["location"].to_str().unwrap().to_string();
    common::call(s, "GET", &format!("{op}/wait?timeout=10"), None)
        .await
        .metadata()
}

#[tokio::test]
async fn unified_upload_fingerprint_properties_duplicate_and_export() {
    let (dir, s) = state();
    let work = tempfile::tempdir().unwrap();
    tree(work.path(), true);
    let bytes = tar(
        work.path(),
        "img.tar.gz",
        "-czf",
        &["metadata.yaml", "rootfs"],
    );
    let headers = [
        ("Content-Type", "application/octet-stream"),
        ("X-LXD-filename", "img.tar.gz"),
        ("X-LXD-properties", "os=Other&extra=a%20b"),
        ("X-LXD-public", "true"),
    ];
    let r = call_bytes(&s, "POST", "/1.0/images", bytes.clone(), &headers).await;
    let op = wait(&s, &r).await;
    let fp = sha(&[&bytes]);
    assert_eq!(op["status"], "Success", "{op}");
    assert_eq!(op["description"], "Downloading image");
    assert_eq!(op["metadata"]["fingerprint"], fp.as_str());
    assert_eq!(op["metadata"]["size"], bytes.len().to_string());
    let image = common::call(&s, "GET", &format!("/1.0/images/{fp}"), None)
        .await
        .metadata();
    assert_eq!(
        image["properties"],
        serde_json::json!({"description":"test image","extra":"a b","os":"Other"})
    );
    assert_eq!(
        (image["public"].as_bool(), image["filename"].as_str()),
        (Some(true), Some("img.tar.gz"))
    );
    assert_eq!(image["created_at"], "2023-11-14T22:13:20Z");
    assert_eq!(image["size"], bytes.len());
    assert!(dir.path().join("images").join(&fp).is_file());

    let again = call_bytes(&s, "POST", "/1.0/images", bytes.clone(), &headers[..1]).await;
    let op = wait(&s, &again).await;
    assert_eq!(op["status"], "Failure");
    assert_eq!(op["err"], "Image with same fingerprint already exists");
    assert!(leftovers(&dir.path().join("images")).is_empty());

    let export = call_bytes(
        &s,
        "GET",
        &format!("/1.0/images/{fp}/export"),
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(
        export.headers["content-disposition"],
        format!("inline;filename={fp}.tar.gz").as_str()
    );
    assert_eq!(export.bytes, bytes);
}

#[tokio::test]
async fn split_upload_fingerprint_is_metadata_then_rootfs_and_export_is_multipart() {
    let (dir, s) = state();
    let work = tempfile::tempdir().unwrap();
    tree(work.path(), true);
    let meta = tar(work.path(), "meta.tar.xz", "-cJf", &["metadata.yaml"]);
    let rootfs = tar(work.path(), "rootfs.tar.gz", "-czf", &["-C", "rootfs", "."]);
    let boundary = "XyZbOuNdArY";
    let mut body = Vec::new();
    for (name, file, data) in [
        ("metadata", "meta.tar.xz", &meta),
        ("rootfs", "rootfs.tar.gz", &rootfs),
    ] {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend(data.iter());
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = call_bytes(
        &s,
        "POST",
        "/1.0/images",
        body,
        &[("Content-Type", ct.as_str())],
    )
    .await;
    let op = wait(&s, &r).await;
    let fp = sha(&[&meta, &rootfs]);
    assert_eq!(op["status"], "Success", "{op}");
    assert_eq!(op["metadata"]["fingerprint"], fp.as_str());
    let image = common::call(&s, "GET", &format!("/1.0/images/{fp}"), None)
        .await
        .metadata();
    assert_eq!(image["filename"], "rootfs.tar.gz");
    assert_eq!(image["size"], meta.len() + rootfs.len());
    assert!(dir
        .path()
        .join("images")
        .join(format!("{fp}.rootfs"))
        .is_file());

    let export = call_bytes(
        &s,
        "GET",
        &format!("/1.0/images/{fp}/export"),
        Vec::new(),
        &[],
    )
    .await;
    let ct = export.headers["content-type"].to_str().unwrap().to_string();
    let b = ct
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart");
    let text = export.bytes.clone();
    let find = |needle: &[u8]| text.windows(needle.len()).position(|w| w == needle);
    let meta_head = format!("name=\"metadata\"; filename=\"meta-{fp}.tar.xz\"");
    let root_head = format!("name=\"rootfs\"; filename=\"{fp}.tar.gz\"");
    assert!(find(meta_head.as_bytes()).is_some(), "no metadata part");
    assert!(find(root_head.as_bytes()).is_some(), "no rootfs part");
    assert!(
        find(&meta).is_some() && find(&rootfs).is_some(),
        "part bytes differ"
    );
    assert!(text.ends_with(format!("--{b}--\r\n").as_bytes()));
}

#[tokio::test]
async fn broken_uploads_fail_and_leave_nothing() {
    let (dir, s) = state();
    let work = tempfile::tempdir().unwrap();
    tree(work.path(), false);
    let no_meta = tar(work.path(), "nometa.tar.gz", "-czf", &["rootfs"]);
    let headers = [("Content-Type", "application/octet-stream")];
    let op = wait(
        &s,
        &call_bytes(&s, "POST", "/1.0/images", no_meta, &headers).await,
    )
    .await;
    assert_eq!(op["status"], "Failure");
    assert!(
        op["err"].as_str().unwrap().contains("metadata.yaml"),
        "{op}"
    );

    tree(work.path(), true);
    let good = tar(
        work.path(),
        "good.tar.gz",
        "-czf",
        &["metadata.yaml", "rootfs"],
    );
    let wrong = [
        ("Content-Type", "application/octet-stream"),
        ("X-LXD-fingerprint", "abcd"),
    ];
    let op = wait(
        &s,
        &call_bytes(&s, "POST", "/1.0/images", good.clone(), &wrong).await,
    )
    .await;
    assert_eq!(
        op["err"],
        format!(
            "fingerprints don't match, got {} expected abcd",
            sha(&[&good])
        )
    );

    let truncated = good[..good.len() / 2].to_vec();
    let op = wait(
        &s,
        &call_bytes(&s, "POST", "/1.0/images", truncated, &headers).await,
    )
    .await;
    assert_eq!(op["status"], "Failure", "{op}");

    let meta_only = tar(work.path(), "meta.tar.gz", "-czf", &["metadata.yaml"]);
    let op = wait(
        &s,
        &call_bytes(&s, "POST", "/1.0/images", meta_only, &headers).await,
    )
    .await;
    assert_eq!(op["err"], "Missing rootfs in the image tarball");

    let images: Vec<_> = std::fs::read_dir(dir.path().join("images"))
        .unwrap()
        .collect();
    assert!(images.is_empty(), "leftovers: {images:?}");
    assert_eq!(
        common::call(&s, "GET", "/1.0/images", None)
            .await
            .metadata(),
        serde_json::json!([])
    );
}
