//! API tier: cached image expiry (`images.remote_cache_expiry`) and the sweep of leftover
//! files in `images/`. Cached images normally come from remotes; here their records are
//! written straight into the database, as LXD's own test rewrites `last_use_date`.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{call, state};
use lxd_api::image::{Image, ZERO_TIME};
use lxd_daemon::state::AppState;
use lxd_daemon::tasks::image_expiry;

fn days_ago(n: i64) -> String {
    (Utc::now() - chrono::Duration::days(n)).to_rfc3339()
}

/// Record an image (with a file in `images/`) uploaded 30 days ago and last used `used`.
async fn insert(s: &AppState, fp: &str, cached: bool, used: String) {
    let image = Image {
        fingerprint: fp.to_string(),
        size: 6,
        architecture: "x86_64".into(),
        kind: "container".into(),
        created_at: days_ago(30),
        expires_at: lxd_api::image::unix_epoch(),
        uploaded_at: days_ago(30),
        last_used_at: used,
        cached,
        ..Default::default()
    };
    std::fs::write(s.paths.var.join("images").join(fp), b"image\n").unwrap();
    s.db.write(move |c| lxd_db::images::create(c, "default", &image))
        .await
        .unwrap();
}

fn fp(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

async fn listed(s: &AppState) -> Vec<String> {
    let m = call(s, "GET", "/1.0/images", None).await.metadata();
    m.as_array()
        .unwrap()
        .iter()
        .map(|u| {
            u.as_str()
                .unwrap()
                .trim_start_matches("/1.0/images/")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn prune_deletes_only_cached_images_unused_past_the_expiry() {
    let (_d, s) = state();
    let (old_cached, never_used, recent, local) = (fp('a'), fp('b'), fp('c'), fp('d'));
    insert(&s, &old_cached, true, days_ago(11)).await;
    insert(&s, &never_used, true, ZERO_TIME.to_string()).await;
    insert(&s, &recent, true, days_ago(2)).await;
    insert(&s, &local, false, days_ago(100)).await;

    assert_eq!(image_expiry::prune(&s).await.unwrap(), 2);
    let left = listed(&s).await;
    assert_eq!(left, vec![recent.clone(), local.clone()]);
    let images = s.paths.var.join("images");
    assert!(!images.join(&old_cached).exists());
    assert!(!images.join(&never_used).exists());
    assert!(images.join(&recent).exists() && images.join(&local).exists());
}

#[tokio::test]
async fn setting_the_expiry_prunes_at_once_and_zero_keeps_everything() {
    let (_d, s) = state();
    let recent = fp('c');
    insert(&s, &recent, true, days_ago(2)).await;

    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config":{"images.remote_cache_expiry":"0"}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(listed(&s).await, vec![recent.clone()], "0 must keep images");

    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config":{"images.remote_cache_expiry":"1"}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut gone = false;
    for _ in 0..50 {
        if listed(&s).await.is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        gone,
        "the image used 2 days ago survived an expiry of 1 day"
    );
}

#[tokio::test]
async fn project_expiry_overrides_the_server_value() {
    let (_d, s) = state();
    let recent = fp('e');
    insert(&s, &recent, true, days_ago(3)).await;
    let r = call(
        &s,
        "PATCH",
        "/1.0/projects/default",
        Some(r#"{"config":{"images.remote_cache_expiry":"2"}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(image_expiry::prune(&s).await.unwrap(), 1);
    assert!(listed(&s).await.is_empty());
}

#[tokio::test]
async fn leftover_files_without_a_record_are_swept() {
    let (_d, s) = state();
    let kept = fp('f');
    insert(&s, &kept, false, ZERO_TIME.to_string()).await;
    let images = s.paths.var.join("images");
    std::fs::write(images.join(format!("{kept}.rootfs")), b"r").unwrap();
    std::fs::write(images.join(fp('9')), b"orphan").unwrap();
    std::fs::write(images.join(format!("{}.rootfs", fp('9'))), b"orphan").unwrap();
    image_expiry::prune_leftover_files(&s).await;
    let mut names: Vec<String> = std::fs::read_dir(&images)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec![kept.clone(), format!("{kept}.rootfs")]);
}
