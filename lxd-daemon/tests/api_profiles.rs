//! API tier: profiles, projects, storage pools and warnings.

mod common;

use axum::http::StatusCode;
use common::{call, call_with, state};
use serde_json::json;

#[tokio::test]
async fn profile_lifecycle_create_show_edit_rename_delete() {
    let (_d, s) = state();
    let r = call(
        &s,
        "POST",
        "/1.0/profiles",
        Some(r#"{"name":"p1","config":{"limits.cpu":"1"}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers["location"], "/1.0/profiles/p1");
    assert_eq!(r.metadata(), serde_json::Value::Null);

    let r = call(&s, "GET", "/1.0/profiles/p1", None).await;
    assert_eq!(
        r.metadata(),
        json!({"config":{"limits.cpu":"1"},"description":"","devices":{},"name":"p1","used_by":[]})
    );
    let tag = r.headers["etag"].to_str().unwrap().to_string();

    let r = call_with(&s, "PATCH", "/1.0/profiles/p1", Some(r#"{"config":{"user.a":"1"},"devices":{"root":{"type":"disk","path":"/","pool":"default"}}}"#), &[("If-Match", &tag)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = call_with(
        &s,
        "PUT",
        "/1.0/profiles/p1",
        Some(r#"{"config":{}}"#),
        &[("If-Match", &tag)],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::PRECONDITION_FAILED,
        "old ETag must be refused"
    );
    let m = call(&s, "GET", "/1.0/profiles/p1", None).await.metadata();
    assert_eq!(m["config"], json!({"limits.cpu":"1","user.a":"1"}));
    assert_eq!(m["devices"]["root"]["pool"], "default");

    let r = call(&s, "POST", "/1.0/profiles/p1", Some(r#"{"name":"p2"}"#)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers["location"], "/1.0/profiles/p2");
    let r = call(&s, "GET", "/1.0/profiles", None).await;
    assert_eq!(
        r.metadata(),
        json!(["/1.0/profiles/default", "/1.0/profiles/p2"])
    );
    let r = call(&s, "DELETE", "/1.0/profiles/p2", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.metadata(), json!({}));
    assert_eq!(
        call(&s, "GET", "/1.0/profiles/p2", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn profile_default_cannot_be_deleted_or_renamed() {
    let (_d, s) = state();
    let r = call(&s, "DELETE", "/1.0/profiles/default", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error(), "The \"default\" profile cannot be deleted");
    let r = call(&s, "POST", "/1.0/profiles/default", Some(r#"{"name":"x"}"#)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error(), "The \"default\" profile cannot be renamed");
}

#[tokio::test]
async fn profile_bad_input_refused_with_lxd_texts() {
    let (_d, s) = state();
    let cases = [
        (r#"{"name":""}"#, 400, "No name provided"),
        (r#"{"name":"a/b"}"#, 400, "Profile names may not contain slashes"),
        (r#"{"name":"x","config":{"limits.memory":"abc"}}"#, 400, "Invalid value: abc"),
        (r#"{"name":"x","config":{"security.privileged":"maybe"}}"#, 400, "Invalid value for a boolean \"maybe\""),
        (r#"{"name":"x","devices":{"d":{"path":"/x"}}}"#, 400, "Device validation failed for \"d\": Failed loading device \"d\": Missing device type in config"),
        (r#"{"name":"x","devices":{"d":{"type":"disk","bogus":"1"}}}"#, 400, "Device validation failed for \"d\": Invalid device option \"bogus\""),
        (r#"{"name":"default"}"#, 500, "Error inserting \"default\" into database: The profile already exists"),
    ];
    for (body, code, msg) in cases {
        let r = call(&s, "POST", "/1.0/profiles", Some(body)).await;
        assert_eq!(r.status.as_u16(), code, "{body}");
        assert_eq!(r.error(), msg, "{body}");
    }
    let r = call(
        &s,
        "PUT",
        "/1.0/profiles/default",
        Some(r#"{"config":{"nope.key":"1"}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.error(), "Unknown configuration key: nope.key");
    // Nothing was created or changed.
    assert_eq!(
        call(&s, "GET", "/1.0/profiles", None).await.metadata(),
        json!(["/1.0/profiles/default"])
    );
    assert_eq!(
        call(&s, "GET", "/1.0/profiles/default", None)
            .await
            .metadata()["config"],
        json!({})
    );
}

#[tokio::test]
async fn storage_pool_dir_create_use_and_delete() {
    let (dir, s) = state();
    let r = call(
        &s,
        "POST",
        "/1.0/storage-pools",
        Some(r#"{"name":"default","driver":"dir"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let root = dir.path().join("storage-pools/default");
    assert!(root.join("containers").is_dir() && root.join("images").is_dir());
    let m = call(&s, "GET", "/1.0/storage-pools/default", None)
        .await
        .metadata();
    assert_eq!(m["config"]["source"], root.display().to_string());
    assert_eq!(m["used_by"], serde_json::Value::Null);
    assert_eq!(m["status"], "Created");
    assert_eq!(m["locations"], json!(["none"]));

    call(
        &s,
        "PATCH",
        "/1.0/profiles/default",
        Some(r#"{"devices":{"root":{"type":"disk","path":"/","pool":"default"}}}"#),
    )
    .await;
    let m = call(&s, "GET", "/1.0/storage-pools?recursion=1", None)
        .await
        .metadata();
    assert_eq!(m[0]["used_by"], json!(["/1.0/profiles/default"]));
    let r = call(&s, "DELETE", "/1.0/storage-pools/default", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "The storage pool is currently in use");
    let r = call(
        &s,
        "PATCH",
        "/1.0/storage-pools/default",
        Some(r#"{"config":{"source":"/tmp"}}"#),
    )
    .await;
    assert_eq!(
        r.error(),
        "Pool source cannot be changed when not in pending state"
    );

    call(
        &s,
        "PUT",
        "/1.0/profiles/default",
        Some(r#"{"config":{},"description":"Default LXD profile","devices":{}}"#),
    )
    .await;
    let r = call(&s, "DELETE", "/1.0/storage-pools/default", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!root.exists());
}

#[tokio::test]
async fn storage_pool_bad_input_refused_and_leaves_nothing() {
    let (dir, s) = state();
    let cases = [
        (r#"{"name":"x","driver":"foo"}"#, 500, "Unknown driver"),
        (
            r#"{"name":"x/y","driver":"dir"}"#,
            400,
            "Storage pool names may not contain slashes",
        ),
        (
            r#"{"name":"x","driver":"dir","config":{"nope":"1"}}"#,
            500,
            "Invalid option \"nope\"",
        ),
        (
            r#"{"name":"x","driver":"dir","config":{"source":"/nonexist/x"}}"#,
            500,
            "Source path '/nonexist/x' doesn't exist",
        ),
    ];
    for (body, code, msg) in cases {
        let r = call(&s, "POST", "/1.0/storage-pools", Some(body)).await;
        assert_eq!(
            (r.status.as_u16(), r.error().as_str()),
            (code, msg),
            "{body}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("storage-pools"))
            .unwrap()
            .count(),
        0
    );
    call(
        &s,
        "POST",
        "/1.0/storage-pools",
        Some(r#"{"name":"p","driver":"dir"}"#),
    )
    .await;
    let r = call(
        &s,
        "POST",
        "/1.0/storage-pools",
        Some(r#"{"name":"p","driver":"dir"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn projects_default_listed_with_features_and_used_by() {
    let (_d, s) = state();
    let m = call(&s, "GET", "/1.0/projects?recursion=1", None)
        .await
        .metadata();
    assert_eq!(
        m,
        json!([{"config":{"features.images":"true","features.networks":"true","features.profiles":"true","features.storage.volumes":"true"},"description":"Default LXD project","name":"default","used_by":["/1.0/profiles/default"]}])
    );
    let r = call(&s, "POST", "/1.0/projects", Some(r#"{"name":"p1"}"#)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = call(&s, "GET", "/1.0/profiles?project=p1", None).await;
    assert_eq!(r.metadata(), json!(["/1.0/profiles/default?project=p1"]));
    assert_eq!(
        call(&s, "DELETE", "/1.0/projects/default", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&s, "DELETE", "/1.0/projects/p1", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn warnings_list_and_acknowledge() {
    let (_d, s) = state();
    s.db.write(|c| {
        lxd_db::warnings::upsert(
            c,
            "u1",
            "AppArmor support has been disabled",
            "Disabled",
            "2026-01-01T00:00:00Z",
        )
    })
    .await
    .unwrap();
    let m = call(&s, "GET", "/1.0/warnings?recursion=1", None)
        .await
        .metadata();
    assert_eq!(m[0]["type"], "AppArmor support has been disabled");
    assert_eq!(m[0]["status"], "new");
    let r = call(
        &s,
        "PUT",
        "/1.0/warnings/u1",
        Some(r#"{"status":"acknowledged"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        call(&s, "GET", "/1.0/warnings/u1", None).await.metadata()["status"],
        "acknowledged"
    );
    assert_eq!(
        call(&s, "DELETE", "/1.0/warnings/u1", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(&s, "GET", "/1.0/warnings/u1", None).await.status,
        StatusCode::NOT_FOUND
    );
}
