//! API tier: the envelope, errors, the server object and its configuration.

mod common;

use axum::http::StatusCode;
use common::{call, call_with, state};

#[tokio::test]
async fn root_returns_exact_sync_envelope() {
    let (_d, s) = state();
    let r = call(&s, "GET", "/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.text,
        r#"{"type":"sync","status":"Success","status_code":200,"operation":"","error_code":0,"error":"","metadata":["/1.0"]}"#
    );
    assert_eq!(r.headers["content-type"], "application/json");
}

#[tokio::test]
async fn unknown_path_returns_404_envelope_with_nosniff() {
    let (_d, s) = state();
    let r = call(&s, "GET", "/1.0/nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.text,
        r#"{"type":"error","status":"","status_code":0,"operation":"","error_code":404,"error":"not found","metadata":null}"#
    );
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn unsupported_method_returns_501_not_implemented() {
    let (_d, s) = state();
    let r = call(&s, "DELETE", "/1.0", None).await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(r.error(), "not implemented");
}

#[tokio::test]
async fn server_get_lists_trusted_fields_and_etag() {
    let (_d, s) = state();
    let r = call(&s, "GET", "/1.0", None).await;
    let m = r.metadata();
    assert_eq!(m["api_version"], "1.0");
    assert_eq!(m["auth"], "trusted");
    assert_eq!(m["environment"]["server_version"], "5.0.2");
    assert!(m["api_extensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "etag"));
    assert!(r.headers.contains_key("etag"));
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "config",
            "api_extensions",
            "api_status",
            "api_version",
            "auth",
            "public",
            "auth_methods",
            "environment"
        ]
    );
}

#[tokio::test]
async fn server_config_unknown_key_refused_and_nothing_changes() {
    let (_d, s) = state();
    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config":{"user.a":"1","core.nonsense":"1"}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "cannot set 'core.nonsense' to '1': unknown key");
    let cfg = call(&s, "GET", "/1.0", None).await.metadata()["config"].clone();
    assert_eq!(cfg, serde_json::json!({}));
}

#[tokio::test]
async fn server_config_types_and_hidden_keys() {
    let (_d, s) = state();
    let r = call(&s, "PATCH", "/1.0", Some(r#"{"config":{"user.x":5}}"#)).await;
    assert_eq!(r.error(), "cannot set 'user.x': invalid type float64");
    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config":{"images.auto_update_interval":"abc"}}"#),
    )
    .await;
    assert_eq!(
        r.error(),
        "cannot set 'images.auto_update_interval' to 'abc': invalid integer"
    );
    let r = call(&s, "PATCH", "/1.0", Some(r#"{"config":{"core.trust_password":"sekret","user.a":"b","images.auto_update_cached":"no"}}"#)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cfg = call(&s, "GET", "/1.0", None).await.metadata()["config"].clone();
    assert_eq!(
        cfg,
        serde_json::json!({"core.trust_password": true, "images.auto_update_cached": "false", "user.a": "b"})
    );
    // PUT sending the hidden key back as `true` keeps it; schema keys left out are reset,
    // user keys survive as in LXD.
    let r = call(
        &s,
        "PUT",
        "/1.0",
        Some(r#"{"config":{"core.trust_password":true}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cfg = call(&s, "GET", "/1.0", None).await.metadata()["config"].clone();
    assert_eq!(
        cfg,
        serde_json::json!({"core.trust_password": true, "user.a": "b"})
    );
    // A value equal to the default is not stored.
    call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config":{"images.auto_update_interval":"6","user.a":""}}"#),
    )
    .await;
    let cfg = call(&s, "GET", "/1.0", None).await.metadata()["config"].clone();
    assert_eq!(cfg, serde_json::json!({"core.trust_password": true}));
}

#[tokio::test]
async fn server_put_with_stale_etag_is_412() {
    let (_d, s) = state();
    let r = call_with(
        &s,
        "PUT",
        "/1.0",
        Some(r#"{"config":{}}"#),
        &[("If-Match", "\"deadbeef\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let tag = call(&s, "GET", "/1.0", None).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let r = call_with(
        &s,
        "PUT",
        "/1.0",
        Some(r#"{"config":{"user.k":"v"}}"#),
        &[("If-Match", &tag)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn bad_json_bodies_get_400_envelopes() {
    let (_d, s) = state();
    let r = call(&s, "POST", "/1.0/profiles", Some(r#"{"name": "#)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "unexpected EOF");
    let r = call(&s, "POST", "/1.0/profiles", Some(r#"{"name": 5}"#)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().starts_with("json: "), "{}", r.error());
    let r = call(&s, "PUT", "/1.0/profiles/default", Some("[1,2]")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn oversized_body_refused_and_nothing_created() {
    let (_d, s) = state();
    let big = format!(
        r#"{{"name":"big","description":"{}"}}"#,
        "x".repeat(9 * 1024 * 1024)
    );
    let r = call(&s, "POST", "/1.0/profiles", Some(&big)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error(), "Request body too large");
    let r = call(&s, "GET", "/1.0/profiles/big", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_project_is_404_with_lxd_text() {
    let (_d, s) = state();
    let r = call(&s, "GET", "/1.0/profiles?project=nope", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.error(),
        "Failed loading project \"nope\": Project not found"
    );
}
