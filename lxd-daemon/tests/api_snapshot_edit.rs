//! API tier: snapshot rename, expiry (PUT/PATCH with ETags, `expires_at` on create,
//! `snapshots.expiry`, the prune task) on an empty instance in a `dir` pool; rejected
//! requests must leave records and storage untouched.

mod common;

use axum::http::StatusCode;
use lxd_daemon::state::AppState;
use serde_json::{json, Value};

async fn wait(s: &AppState, r: &common::Reply) -> Value {
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let op = r.headers["location"].to_str().unwrap().to_string();
    common::call(s, "GET", &format!("{op}/wait?timeout=30"), None)
        .await
        .metadata()
}

/// A `dir` pool and an empty instance `name` whose root disk is on it.
pub async fn setup(s: &AppState, name: &str) {
    let r = common::call(
        s,
        "POST",
        "/1.0/storage-pools",
        Some(r#"{"name":"p1","driver":"dir"}"#),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text);
    let body = json!({"name": name, "source": {"type": "none"},
        "devices": {"root": {"type": "disk", "path": "/", "pool": "p1"}}});
    let r = common::call(s, "POST", "/1.0/instances", Some(&body.to_string())).await;
    assert_eq!(wait(s, &r).await["status"], "Success");
}

async fn snapshot(s: &AppState, inst: &str, body: Value) -> Value {
    let url = format!("/1.0/instances/{inst}/snapshots");
    let r = common::call(s, "POST", &url, Some(&body.to_string())).await;
    wait(s, &r).await
}

async fn names(s: &AppState, inst: &str) -> Value {
    common::call(s, "GET", &format!("/1.0/instances/{inst}/snapshots"), None)
        .await
        .metadata()
}

fn snap_dir(s: &AppState, inst: &str, snap: &str) -> std::path::PathBuf {
    s.paths
        .storage_pool("p1")
        .join("containers-snapshots")
        .join(inst)
        .join(snap)
}

#[tokio::test]
async fn snapshot_rename_refusals_change_nothing_and_rename_moves_storage() {
    let (_d, s) = common::state();
    setup(&s, "re1").await;
    snapshot(&s, "re1", json!({"name": "s1"})).await;
    snapshot(&s, "re1", json!({"name": "s2"})).await;
    let url = "/1.0/instances/re1/snapshots/s1";
    let cases = [
        (r#"{"name":"s2"}"#, 409, "Name 're1/s2' already in use"),
        (
            r#"{"name":"a/b"}"#,
            400,
            r#"Invalid snapshot name: Cannot contain "/""#,
        ),
        (
            r#"{"name":"a?b"}"#,
            400,
            r#"Invalid snapshot name: Cannot contain "?""#,
        ),
        ("{}", 400, "Response was missing `name`"),
    ];
    for (body, status, error) in cases {
        let r = common::call(&s, "POST", url, Some(body)).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.text);
        assert_eq!(r.error(), error, "{body}");
    }
    let r = common::call(
        &s,
        "POST",
        "/1.0/instances/re1/snapshots/nope",
        Some(r#"{"name":"x"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.error(),
        r#"Failed to fetch snapshot "nope" of instance "re1" in project "default": InstanceSnapshot not found"#
    );
    // A space is refused by the operation, as in LXD.
    let r = common::call(&s, "POST", url, Some(r#"{"name":"a b"}"#)).await;
    let op = wait(&s, &r).await;
    assert_eq!(op["status"], "Failure");
    assert_eq!(
        op["err"],
        "Invalid instance snapshot name: Cannot contain space or / characters"
    );
    assert_eq!(
        names(&s, "re1").await,
        json!([
            "/1.0/instances/re1/snapshots/s1",
            "/1.0/instances/re1/snapshots/s2"
        ])
    );
    assert!(snap_dir(&s, "re1", "s1").is_dir());

    let r = common::call(&s, "POST", url, Some(r#"{"name":"r1"}"#)).await;
    assert_eq!(wait(&s, &r).await["status"], "Success");
    assert_eq!(
        names(&s, "re1").await,
        json!([
            "/1.0/instances/re1/snapshots/r1",
            "/1.0/instances/re1/snapshots/s2"
        ])
    );
    assert!(snap_dir(&s, "re1", "r1").is_dir());
    assert!(!snap_dir(&s, "re1", "s1").exists());
    let r = common::call(&s, "GET", "/1.0/containers/re1/snapshots/r1", None).await;
    assert_eq!(r.metadata()["name"], "r1");
}

#[tokio::test]
async fn snapshot_put_changes_only_expiry_with_etag_checks() {
    let (_d, s) = common::state();
    setup(&s, "ex1").await;
    snapshot(&s, "ex1", json!({"name": "s1"})).await;
    let url = "/1.0/instances/ex1/snapshots/s1";
    let r = common::call(&s, "GET", url, None).await;
    assert_eq!(r.metadata()["expires_at"], "0001-01-01T00:00:00Z");
    let etag = r.headers["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .to_string();
    assert_eq!(etag, lxd_shared::etag::etag_hash(&["0001-01-01T00:00:00Z"]));

    let body = r#"{"expires_at":"2030-01-02T03:04:05Z"}"#;
    let r = common::call_with(&s, "PUT", url, Some(body), &[("If-Match", "\"bogus\"")]).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.error(), format!("ETag doesn't match: {etag} vs bogus"));
    let r = common::call(&s, "PUT", url, Some(r#"{"expires_at":"garbage"}"#)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("parsing time"), "{}", r.text);
    let r = common::call(&s, "GET", url, None).await;
    assert_eq!(r.metadata()["expires_at"], "0001-01-01T00:00:00Z");

    let r = common::call_with(&s, "PUT", url, Some(body), &[("If-Match", &etag)]).await;
    assert_eq!(wait(&s, &r).await["status"], "Success");
    let r = common::call(&s, "GET", url, None).await;
    assert_eq!(r.metadata()["expires_at"], "2030-01-02T03:04:05Z");
    assert_eq!(r.metadata()["name"], "s1");
    // PATCH without expires_at changes nothing; with it, the same as PUT.
    let r = common::call(&s, "PATCH", url, Some("{}")).await;
    assert_eq!(wait(&s, &r).await["status"], "Success");
    let r = common::call(
        &s,
        "PATCH",
        url,
        Some(r#"{"expires_at":"2031-05-06T07:08:09+02:00"}"#),
    )
    .await;
    assert_eq!(wait(&s, &r).await["status"], "Success");
    let r = common::call(&s, "GET", url, None).await;
    assert_eq!(r.metadata()["expires_at"], "2031-05-06T05:08:09Z");
}

#[tokio::test]
async fn snapshot_expiry_from_config_and_expired_ones_pruned() {
    let (_d, s) = common::state();
    setup(&s, "pr1").await;
    let r = common::call(
        &s,
        "PATCH",
        "/1.0/instances/pr1",
        Some(r#"{"config":{"snapshots.expiry":"2H"}}"#),
    )
    .await;
    assert_eq!(wait(&s, &r).await["status"], "Success");
    let before = chrono::Utc::now();
    snapshot(&s, "pr1", json!({"name": "auto"})).await;
    snapshot(
        &s,
        "pr1",
        json!({"name": "never", "expires_at": "0001-01-01T00:00:00Z"}),
    )
    .await;
    snapshot(
        &s,
        "pr1",
        json!({"name": "old", "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    let r = common::call(
        &s,
        "POST",
        "/1.0/instances/pr1/snapshots",
        Some(r#"{"name":"x","expires_at":"bad"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let get = |n: &'static str| {
        let s = s.clone();
        async move {
            common::call(
                &s,
                "GET",
                &format!("/1.0/instances/pr1/snapshots/{n}"),
                None,
            )
            .await
            .metadata()["expires_at"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let auto = chrono::DateTime::parse_from_rfc3339(&get("auto").await).unwrap();
    let delta = auto.signed_duration_since(before).num_seconds();
    assert!(
        (7190..=7210).contains(&delta),
        "auto expiry {auto} is {delta}s away"
    );
    assert_eq!(get("never").await, "0001-01-01T00:00:00Z");

    assert_eq!(
        lxd_daemon::tasks::snapshot_expiry::prune_expired(&s).await,
        1
    );
    assert_eq!(
        names(&s, "pr1").await,
        json!([
            "/1.0/instances/pr1/snapshots/auto",
            "/1.0/instances/pr1/snapshots/never"
        ])
    );
    assert!(!snap_dir(&s, "pr1", "old").exists());
    assert!(snap_dir(&s, "pr1", "auto").is_dir());
    assert_eq!(
        lxd_daemon::tasks::snapshot_expiry::prune_expired(&s).await,
        0
    );
}
