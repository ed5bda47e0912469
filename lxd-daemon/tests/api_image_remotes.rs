//! API tier: the request side of images from remote servers: image copies (`POST /1.0/images`
//! with an `image` source) and refresh, their validation and how their operations fail. The
//! downloads themselves are covered by the system test `image_remotes`.

mod common;

use axum::http::StatusCode;
use common::{call_with, state};
use lxd_api::image::Image;
use serde_json::{json, Value};

const FP: &str = "1b8f6cf8b96baf00d526086660bb5e1add23a0e67125bb90e39cf66ab22567e7";
const JSON: &[(&str, &str)] = &[("Content-Type", "application/json")];

async fn post(s: &lxd_daemon::state::AppState, uri: &str, body: Value) -> common::Reply {
    call_with(s, "POST", uri, Some(&body.to_string()), JSON).await
}

/// Wait for the operation a reply started; returns the finished operation.
async fn finished(s: &lxd_daemon::state::AppState, reply: &common::Reply) -> Value {
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let url = reply.json()["operation"].as_str().unwrap().to_string();
    call_with(s, "GET", &format!("{url}/wait?timeout=30"), None, &[])
        .await
        .metadata()
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn image_copy_checks_mode_server_and_alias_before_starting() {
    let (_d, s) = state();
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"type": "image", "mode": "push", "server": "https://127.0.0.1:1", "alias": "x"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.error(), "Missing source fingerprint");
    let fp = "a".repeat(64);
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"mode": "push", "fingerprint": fp}, "public": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let token: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(token["metadata"]["class"], "token", "{token}");
    assert_eq!(token["metadata"]["metadata"]["public"], true, "{token}");
    assert_eq!(
        token["metadata"]["resources"]["images"][0],
        format!("/1.0/images/{fp}")
    );
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"type": "image", "mode": "sideways", "server": "https://127.0.0.1:1", "alias": "x"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"type": "image", "mode": "pull", "alias": "x"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "Missing source server");
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"type": "image", "server": "https://127.0.0.1:1"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.error(),
        "must specify one of alias or fingerprint for init from image"
    );
}

#[tokio::test]
async fn image_copy_with_unknown_protocol_or_unreachable_server_fails_and_records_nothing() {
    let (_d, s) = state();
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"type": "image", "server": "https://127.0.0.1:1", "protocol": "ftp", "alias": "x"}}),
    )
    .await;
    let op = finished(&s, &r).await;
    assert_eq!(op["status"], "Failure");
    assert_eq!(op["err"], "Unsupported protocol: ftp");
    assert_eq!(op["description"], "Downloading image");

    let server = format!("https://127.0.0.1:{}", closed_port());
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"type": "image", "server": server, "protocol": "simplestreams", "alias": "x"}}),
    )
    .await;
    let op = finished(&s, &r).await;
    assert_eq!(op["status"], "Failure");
    let err = op["err"].as_str().unwrap();
    assert!(
        err.starts_with(&format!(
            "Failed to connect to simple streams server {server:?}: Failed parsing stream: Failed to connect to "
        )),
        "{err}"
    );
    let r = post(
        &s,
        "/1.0/images",
        json!({"source": {"type": "image", "server": server, "protocol": "lxd", "alias": "x"}}),
    )
    .await;
    let op = finished(&s, &r).await;
    assert_eq!(op["status"], "Failure");
    assert!(
        op["err"]
            .as_str()
            .unwrap()
            .starts_with("Failed getting remote image info: Failed to connect to "),
        "{op}"
    );
    let images = call_with(&s, "GET", "/1.0/images", None, &[])
        .await
        .metadata();
    assert_eq!(images, json!([]));
}

#[tokio::test]
async fn refresh_of_an_image_without_source_fails_and_keeps_it() {
    let (_d, s) = state();
    let image = Image {
        fingerprint: FP.to_string(),
        size: 10,
        architecture: "x86_64".into(),
        kind: "container".into(),
        created_at: "2026-11-28T00:15:16Z".into(),
        expires_at: lxd_api::image::unix_epoch(),
        uploaded_at: "2026-11-28T00:15:17Z".into(),
        last_used_at: lxd_api::image::ZERO_TIME.into(),
        ..Default::default()
    };
    s.db.write(move |c| lxd_db::images::create(c, "default", &image))
        .await
        .unwrap();
    let r = post(&s, &format!("/1.0/images/{}/refresh", &FP[..12]), json!({})).await;
    let op = finished(&s, &r).await;
    assert_eq!(op["status"], "Failure");
    assert_eq!(op["description"], "Refreshing image");
    assert_eq!(
        op["err"],
        format!("Failed to update image \"{FP}\" in project \"default\": Image source not found")
    );
    let r = call_with(&s, "GET", &format!("/1.0/images/{FP}"), None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = post(&s, "/1.0/images/ffff/refresh", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
