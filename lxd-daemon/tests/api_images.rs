//! API tier: image records and aliases (uploads are covered with the image store).

mod common;

use axum::http::StatusCode;
use common::{call, state};
use lxd_api::image::Image;
use serde_json::json;

const FP: &str = "1b8f6cf8b96baf00d526086660bb5e1add23a0e67125bb90e39cf66ab22567e7";

async fn insert(s: &lxd_daemon::state::AppState, fp: &str) {
    let image = Image {
        fingerprint: fp.to_string(),
        filename: "bb.tar.gz".into(),
        size: 1036706,
        architecture: "x86_64".into(),
        kind: "container".into(),
        created_at: "2026-11-28T00:15:16Z".into(),
        expires_at: lxd_api::image::unix_epoch(),
        uploaded_at: "2026-11-28T00:15:17.182223534Z".into(),
        last_used_at: lxd_api::image::ZERO_TIME.into(),
        profiles: Some(vec!["default".into()]),
        properties: [("os".to_string(), "BusyBox".to_string())].into(),
        ..Default::default()
    };
    s.db.write(move |c| lxd_db::images::create(c, "default", &image))
        .await
        .unwrap();
}

#[tokio::test]
async fn images_list_show_by_prefix_and_edit() {
    let (_d, s) = state();
    insert(&s, FP).await;
    assert_eq!(
        call(&s, "GET", "/1.0/images", None).await.metadata(),
        json!([format!("/1.0/images/{FP}")])
    );
    let r = call(&s, "GET", "/1.0/images/1b8f6c", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let m = r.metadata();
    assert_eq!(m["fingerprint"], FP);
    assert_eq!(m["last_used_at"], "0001-01-01T00:00:00Z");
    assert_eq!(m["expires_at"], "1970-01-01T00:00:00Z");
    let r = call(
        &s,
        "PATCH",
        &format!("/1.0/images/{FP}"),
        Some(r#"{"public":true,"properties":{"description":"bb"}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let m = call(&s, "GET", &format!("/1.0/images/{FP}"), None)
        .await
        .metadata();
    assert_eq!(m["public"], true);
    assert_eq!(m["properties"], json!({"description":"bb","os":"BusyBox"}));
    let r = call(
        &s,
        "PUT",
        &format!("/1.0/images/{FP}"),
        Some(r#"{"profiles":["nope"]}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        call(&s, "GET", "/1.0/images/ffff", None).await.error(),
        "Image not found"
    );
}

#[tokio::test]
async fn image_aliases_create_rename_point_and_delete() {
    let (_d, s) = state();
    insert(&s, FP).await;
    let r = call(
        &s,
        "POST",
        "/1.0/images/aliases",
        Some(r#"{"name":"bb","target":"1b8f"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.headers["location"], "/1.0/images/aliases/bb");
    let r = call(
        &s,
        "POST",
        "/1.0/images/aliases",
        Some(r#"{"name":"bb","target":"1b8f"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error(), "Alias \"bb\" already exists");
    let m = call(&s, "GET", "/1.0/images/aliases?recursion=1", None)
        .await
        .metadata();
    assert_eq!(
        m,
        json!([{"description":"","target":FP,"name":"bb","type":"container"}])
    );
    let image = call(&s, "GET", &format!("/1.0/images/{FP}"), None)
        .await
        .metadata();
    assert_eq!(image["aliases"], json!([{"name":"bb","description":""}]));
    let r = call(
        &s,
        "PATCH",
        "/1.0/images/aliases/bb",
        Some(r#"{"description":"busybox"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &s,
        "POST",
        "/1.0/images/aliases/bb",
        Some(r#"{"name":"bb2"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let m = call(&s, "GET", "/1.0/images/aliases/bb2", None)
        .await
        .metadata();
    assert_eq!(m["description"], "busybox");
    let r = call(
        &s,
        "POST",
        "/1.0/images/aliases",
        Some(r#"{"name":"x","target":"ffff"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&s, "DELETE", "/1.0/images/aliases/bb2", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(&s, "GET", "/1.0/images/aliases/bb2", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn image_delete_is_an_operation_that_removes_record_aliases_and_files() {
    let (dir, s) = state();
    insert(&s, FP).await;
    std::fs::write(dir.path().join("images").join(FP), b"data").unwrap();
    call(
        &s,
        "POST",
        "/1.0/images/aliases",
        Some(r#"{"name":"bb","target":"1b8f"}"#),
    )
    .await;
    let r = call(&s, "DELETE", &format!("/1.0/images/{FP}"), None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let op = r.headers["location"].to_str().unwrap().to_string();
    let m = call(&s, "GET", &format!("{op}/wait?timeout=5"), None)
        .await
        .metadata();
    assert_eq!(m["status"], "Success", "{m}");
    assert_eq!(m["description"], "Deleting image");
    assert_eq!(
        call(&s, "GET", "/1.0/images", None).await.metadata(),
        json!([])
    );
    assert_eq!(
        call(&s, "GET", "/1.0/images/aliases", None)
            .await
            .metadata(),
        json!([])
    );
    assert!(!dir.path().join("images").join(FP).exists());
}
