//! API tier: `/1.0/instances/{name}/metadata` and `.../metadata/templates` on an empty
//! instance in a `dir` pool: LXD 5.0.2's shapes, errors and path confinement; refused
//! requests leave `metadata.yaml` and `templates/` as they were.

mod common;

use axum::http::StatusCode;
use lxd_daemon::state::AppState;
use serde_json::{json, Value};

async fn setup(s: &AppState, name: &str) -> std::path::PathBuf {
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
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let op = r.headers["location"].to_str().unwrap().to_string();
    let done = common::call(s, "GET", &format!("{op}/wait?timeout=30"), None).await;
    assert_eq!(done.metadata()["status"], "Success");
    s.paths.storage_pool("p1").join("containers").join(name)
}

const OCTETS: &[(&str, &str)] = &[("Content-Type", "application/octet-stream")];

#[tokio::test]
async fn metadata_get_put_patch_and_refusals() {
    let (_d, s) = common::state();
    let vol = setup(&s, "md1").await;
    let url = "/1.0/instances/md1/metadata";
    let r = common::call(&s, "GET", url, None).await;
    assert_eq!(
        r.metadata(),
        json!({"architecture": "", "creation_date": 0, "expiry_date": 0, "properties": null, "templates": null})
    );
    let put = json!({"architecture": "x86_64", "creation_date": 5, "properties": {"os": "BB"},
        "templates": {"/etc/hostname": {"when": ["start"], "template": "h.tpl", "create_only": true}}});
    let r = common::call(&s, "PUT", url, Some(&put.to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.metadata(), json!({}));
    let yaml = std::fs::read_to_string(vol.join("metadata.yaml")).unwrap();
    assert!(
        yaml.contains("/etc/hostname:") && yaml.contains("create_only: true"),
        "{yaml}"
    );
    let r = common::call(&s, "GET", url, None).await;
    let got = r.metadata();
    assert_eq!(got["properties"], json!({"os": "BB"}));
    assert_eq!(
        got["templates"]["/etc/hostname"],
        json!({"when": ["start"], "create_only": true, "template": "h.tpl", "properties": {}})
    );
    let etag = r.headers["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .to_string();
    assert_eq!(etag, lxd_shared::etag::etag_hash(&got));

    // Refused: bad JSON, a wrong type, a stale ETag on PATCH. The file stays as it was.
    for (method, body, headers, status) in [
        ("PUT", "garbage", vec![], StatusCode::BAD_REQUEST),
        (
            "PUT",
            r#"{"creation_date":"x"}"#,
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            r#"{"properties":{"a":"b"}}"#,
            vec![("If-Match", "bogus")],
            StatusCode::PRECONDITION_FAILED,
        ),
    ] {
        let r = common::call_with(&s, method, url, Some(body), &headers).await;
        assert_eq!(r.status, status, "{method} {body}: {}", r.text);
    }
    assert_eq!(
        std::fs::read_to_string(vol.join("metadata.yaml")).unwrap(),
        yaml
    );

    // PATCH merges maps key by key, as Go's decoder does into an existing value.
    let patch = r#"{"properties":{"a":"b"},"templates":{"/etc/x":{"when":["create"]}}}"#;
    let r = common::call_with(&s, "PATCH", url, Some(patch), &[("If-Match", &etag)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let got = common::call(&s, "GET", url, None).await.metadata();
    assert_eq!(got["properties"], json!({"a": "b", "os": "BB"}));
    assert_eq!(got["creation_date"], 5);
    assert_eq!(got["templates"]["/etc/hostname"]["template"], "h.tpl");
    assert_eq!(got["templates"]["/etc/x"]["when"], json!(["create"]));
    let r = common::call(&s, "GET", "/1.0/instances/nope/metadata", None).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::NOT_FOUND, "Instance not found".into())
    );
}

#[tokio::test]
async fn templates_list_write_read_delete_and_confinement() {
    let (_d, s) = common::state();
    let vol = setup(&s, "tp1").await;
    let base = "/1.0/instances/tp1/metadata/templates";
    assert_eq!(
        common::call(&s, "GET", base, None).await.metadata(),
        json!([])
    );
    let r = common::call_bytes(
        &s,
        "POST",
        &format!("{base}?path=t1.tpl"),
        b"hi {{ container.name }}".to_vec(),
        OCTETS,
    )
    .await;
    assert_eq!((r.status, r.metadata()), (StatusCode::OK, json!({})));
    let r = common::call(&s, "GET", &format!("{base}?path=t1.tpl"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.bytes, b"hi {{ container.name }}");
    assert_eq!(r.headers["content-type"], "application/octet-stream");
    assert_eq!(r.headers["content-disposition"], "inline;filename=t1.tpl");
    assert_eq!(
        common::call(&s, "GET", "/1.0/containers/tp1/metadata/templates", None)
            .await
            .metadata(),
        json!(["t1.tpl"])
    );

    let refused: &[(&str, String, &[u8], u16, &str)] = &[
        (
            "POST",
            format!("{base}?path=../evil"),
            b"x",
            500,
            "Invalid template filename",
        ),
        (
            "POST",
            format!("{base}?path=%2Fetc%2Fevil"),
            b"x",
            500,
            "Invalid template filename",
        ),
        (
            "POST",
            format!("{base}?path=.."),
            b"x",
            500,
            "Invalid template filename",
        ),
        ("POST", base.to_string(), b"x", 400, "missing path argument"),
        (
            "GET",
            format!("{base}?path=../metadata.yaml"),
            b"",
            500,
            "Invalid template filename",
        ),
        (
            "GET",
            format!("{base}?path=nope"),
            b"",
            404,
            "Template \"nope\" not found",
        ),
        (
            "DELETE",
            format!("{base}?path=nope"),
            b"",
            404,
            "Template \"nope\" not found",
        ),
        (
            "DELETE",
            base.to_string(),
            b"",
            400,
            "missing path argument",
        ),
        (
            "PUT",
            format!("{base}?path=t1.tpl"),
            b"x",
            501,
            "not implemented",
        ),
    ];
    for (method, url, body, status, error) in refused {
        let r = common::call_bytes(&s, method, url, body.to_vec(), OCTETS).await;
        assert_eq!(r.status.as_u16(), *status, "{method} {url}: {}", r.text);
        assert_eq!(r.error(), *error, "{method} {url}");
    }
    assert!(!vol.join("evil").exists() && !vol.parent().unwrap().join("evil").exists());
    assert_eq!(
        std::fs::read(vol.join("templates/t1.tpl")).unwrap(),
        b"hi {{ container.name }}"
    );
    let names: Value = common::call(&s, "GET", base, None).await.metadata();
    assert_eq!(names, json!(["t1.tpl"]));

    let r = common::call(&s, "DELETE", &format!("{base}?path=t1.tpl"), None).await;
    assert_eq!((r.status, r.metadata()), (StatusCode::OK, json!({})));
    assert!(!vol.join("templates/t1.tpl").exists());
}
