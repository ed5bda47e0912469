//! API tier: the trust store (`/1.0/certificates`), the trust password, join tokens, and what
//! an untrusted or restricted HTTPS caller may reach. HTTPS callers are simulated by attaching
//! the connection identity the TLS listener attaches (address and client certificate).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use common::{call, call_with, state, Reply};
use http_body_util::BodyExt;
use lxd_daemon::api::caller::{ConnInfo, PeerCert};
use lxd_daemon::state::AppState;
use lxd_daemon::tls::{generate, x509};
use serde_json::{json, Value};
use tower::ServiceExt;

/// A fresh client certificate: (DER, fingerprint).
fn client_cert(cn: &str) -> (Vec<u8>, String) {
    let pair = generate::generate(cn, "host", false).unwrap();
    let der = x509::pem_certificate_der(&pair.cert_pem).unwrap();
    let fp = x509::fingerprint(&der);
    (der, fp)
}

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// Send a request as an HTTPS caller presenting `der`.
async fn call_tls(
    s: &AppState,
    der: Option<&[u8]>,
    method: &str,
    uri: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let peer = der.map(|d| PeerCert {
        der: d.to_vec(),
        fingerprint: x509::fingerprint(d),
    });
    let info = ConnInfo::tls("127.0.0.1:40000".parse().unwrap(), peer);
    let mut req = Request::builder().method(method).uri(uri).extension(info);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Body::from(body.unwrap_or("").to_string()))
        .unwrap();
    let resp = lxd_daemon::api::router::app(s.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    }
}

async fn list(s: &AppState) -> Vec<Value> {
    let r = call(s, "GET", "/1.0/certificates?recursion=1", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.metadata().as_array().unwrap().clone()
}

#[tokio::test]
async fn certificates_add_list_show_edit_delete() {
    let (_d, s) = state();
    let (der, fp) = client_cert("root@client");
    let body = json!({"type": "client", "name": "c1", "certificate": b64(&der)}).to_string();
    let r = call(&s, "POST", "/1.0/certificates", Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let location = format!("/1.0/certificates/{fp}");
    assert_eq!(r.headers["location"], location.as_str());

    let urls = call(&s, "GET", "/1.0/certificates", None).await.metadata();
    assert_eq!(urls, json!([location]));
    let all = list(&s).await;
    assert_eq!(all.len(), 1);
    let keys: Vec<&String> = all[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "type",
            "restricted",
            "projects",
            "certificate",
            "fingerprint"
        ]
    );
    assert_eq!(all[0]["projects"], json!([]));
    assert!(all[0]["certificate"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----\n"));

    // Shown by a prefix, with an ETag; a stale ETag changes nothing.
    let shown = call(&s, "GET", &format!("/1.0/certificates/{}", &fp[..12]), None).await;
    assert_eq!(shown.status, StatusCode::OK);
    let etag = shown.headers["etag"].to_str().unwrap().to_string();
    let put = json!({"name": "renamed", "type": "client", "restricted": false, "projects": []});
    let r = call_with(
        &s,
        "PUT",
        &location,
        Some(&put.to_string()),
        &[("If-Match", "\"0000\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(list(&s).await[0]["name"], "c1");
    let r = call_with(
        &s,
        "PUT",
        &location,
        Some(&put.to_string()),
        &[("If-Match", etag.as_str())],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = call(
        &s,
        "PATCH",
        &location,
        Some(r#"{"restricted": true, "projects": ["default"]}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let now = call(&s, "GET", &location, None).await.metadata();
    assert_eq!(now["name"], "renamed");
    assert_eq!(now["restricted"], true);
    assert_eq!(now["projects"], json!(["default"]));
    assert_eq!(now["fingerprint"], fp.as_str());

    let r = call(&s, "DELETE", &location, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(list(&s).await.is_empty());
}

#[tokio::test]
async fn certificates_bad_input_is_refused_with_lxd_errors_and_changes_nothing() {
    let (_d, s) = state();
    let (der, _) = client_cert("dup");
    let good = json!({"type": "client", "certificate": b64(&der)}).to_string();
    assert_eq!(
        call(&s, "POST", "/1.0/certificates", Some(&good))
            .await
            .status,
        StatusCode::CREATED
    );
    let cases = [
        (
            json!({"type": "client", "certificate": "notbase64!!"}),
            StatusCode::BAD_REQUEST,
            "illegal base64 data at input byte 9",
        ),
        (
            json!({"type": "client", "certificate": "aGVsbG8="}),
            StatusCode::BAD_REQUEST,
            "Invalid certificate material: x509: malformed certificate",
        ),
        (
            json!({"type": "bogus", "certificate": b64(&der)}),
            StatusCode::BAD_REQUEST,
            "Invalid certificate type",
        ),
        (
            json!({"type": "client", "certificate": b64(&der)}),
            StatusCode::CONFLICT,
            "Certificate already in trust store",
        ),
        (
            json!({"type": "client"}),
            StatusCode::BAD_REQUEST,
            "Client is already trusted",
        ),
        (
            json!({"type": "metrics", "token": true}),
            StatusCode::BAD_REQUEST,
            "Tokens can only be issued for client certificates",
        ),
        (
            json!({"type": "client", "token": true}),
            StatusCode::BAD_REQUEST,
            "Can't issue token when server isn't listening on network",
        ),
        (
            json!({"type": "client", "token": true, "certificate": "x"}),
            StatusCode::BAD_REQUEST,
            "Can't use certificate if token is requested",
        ),
    ];
    for (body, status, error) in cases {
        let r = call(&s, "POST", "/1.0/certificates", Some(&body.to_string())).await;
        assert_eq!((r.status, r.error()), (status, error.to_string()), "{body}");
    }
    let (other, other_fp) = client_cert("other");
    let body = json!({"type": "client", "certificate": b64(&other), "projects": ["nope"]});
    let r = call(&s, "POST", "/1.0/certificates", Some(&body.to_string())).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(r.error(), "Project not found");

    for method in ["GET", "DELETE"] {
        let r = call(&s, method, "/1.0/certificates/ffff", None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.error(), "Certificate not found");
    }
    let all = list(&s).await;
    assert_eq!(all.len(), 1);
    let url = format!(
        "/1.0/certificates/{}",
        all[0]["fingerprint"].as_str().unwrap()
    );
    let r = call(&s, "PATCH", &url, Some(r#"{"certificate": "garbage"}"#)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = call(&s, "PATCH", &url, Some(r#"{"type": "nope"}"#)).await;
    assert_eq!(r.error(), "Invalid certificate type");
    assert_eq!(list(&s).await, all);
    assert!(!all[0]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with(&other_fp));
}

#[tokio::test]
async fn untrusted_https_caller_gets_only_the_untrusted_api() {
    let (_d, s) = state();
    let (der, _) = client_cert("stranger");
    let r = call_tls(&s, Some(&der), "GET", "/1.0", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get("etag").is_none());
    let m = r.metadata();
    assert_eq!(m["auth"], "untrusted");
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "api_extensions",
            "api_status",
            "api_version",
            "auth",
            "public",
            "auth_methods"
        ]
    );
    let r = call_tls(&s, None, "GET", "/", None, &[]).await;
    assert_eq!(r.metadata(), json!(["/1.0"]));
    for (method, uri) in [
        ("GET", "/1.0/instances"),
        ("GET", "/1.0/certificates"),
        ("PUT", "/1.0"),
        ("GET", "/1.0/operations"),
        ("GET", "/internal/ready"),
        ("GET", "/1.0/images/aliases"),
        ("DELETE", "/1.0/certificates/abc"),
    ] {
        let r = call_tls(&s, Some(&der), method, uri, Some("{}"), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(r.error(), "not authorized");
    }
    let r = call_tls(&s, None, "GET", "/1.0/nope", None, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call_tls(
        &s,
        Some(&der),
        "GET",
        "/1.0",
        None,
        &[("X-LXD-authenticated", "true")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = call_tls(&s, Some(&der), "GET", "/1.0/operations/x/wait", None, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = call_tls(&s, Some(&der), "GET", "/1.0/images", None, &[]).await;
    assert_eq!(r.metadata(), json!([]));
}

#[tokio::test]
async fn trust_password_admits_the_callers_certificate_and_a_wrong_one_does_not() {
    let (_d, s) = state();
    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config": {"core.trust_password": "sekret"}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cfg = call(&s, "GET", "/1.0", None).await.metadata()["config"].clone();
    assert_eq!(cfg["core.trust_password"], json!(true));

    let (der, fp) = client_cert("root@laptop");
    for body in [
        json!({"type": "client", "password": "wrong"}),
        json!({"type": "client"}),
    ] {
        let r = call_tls(
            &s,
            Some(&der),
            "POST",
            "/1.0/certificates",
            Some(&body.to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(r.error(), "not authorized");
    }
    assert!(list(&s).await.is_empty());

    let body = json!({"type": "client", "password": "sekret"}).to_string();
    let r = call_tls(
        &s,
        Some(&der),
        "POST",
        "/1.0/certificates",
        Some(&body),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let all = list(&s).await;
    assert_eq!(all[0]["name"], "root@laptop");
    assert_eq!(all[0]["fingerprint"], fp.as_str());

    let m = call_tls(&s, Some(&der), "GET", "/1.0", None, &[])
        .await
        .metadata();
    assert_eq!(m["auth"], "trusted");
    assert_eq!(
        m["environment"]["certificate_fingerprint"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    let r = call_tls(
        &s,
        Some(&der),
        "POST",
        "/1.0/certificates",
        Some(&body),
        &[],
    )
    .await;
    assert_eq!(r.error(), "Client is already trusted");
    let r = call_tls(&s, Some(&der), "GET", "/1.0/instances", None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Unsetting the password works; a password then never matches.
    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config": {"core.trust_password": ""}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let (der2, _) = client_cert("late");
    let r = call_tls(
        &s,
        Some(&der2),
        "POST",
        "/1.0/certificates",
        Some(&body),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn join_token_admits_one_client_under_its_name_and_revoked_tokens_fail() {
    let (_d, s) = state();
    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config": {"core.https_address": "127.0.0.1:0"}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = json!({"type": "client", "name": "joiner", "token": true}).to_string();
    let r = call(&s, "POST", "/1.0/certificates", Some(&body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let op = r.metadata();
    assert_eq!(op["class"], "token");
    assert_eq!(op["description"], "Executing operation");
    assert_eq!(op["may_cancel"], true);
    let meta = &op["metadata"];
    let keys: Vec<&String> = meta.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["addresses", "fingerprint", "request", "secret"]);
    assert_eq!(meta["request"]["name"], "joiner");
    assert_eq!(meta["request"]["projects"], json!([]));
    assert_eq!(meta["addresses"], json!(["127.0.0.1:0"]));
    let server_fp = call(&s, "GET", "/1.0", None).await.metadata()["environment"]
        ["certificate_fingerprint"]
        .clone();
    assert_eq!(meta["fingerprint"], server_fp);
    // Only trusted callers may ask for tokens.
    let (stranger, _) = client_cert("stranger");
    let r = call_tls(
        &s,
        Some(&stranger),
        "POST",
        "/1.0/certificates",
        Some(&body),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let ops = call(&s, "GET", "/1.0/operations", None).await.metadata();
    assert_eq!(ops["running"].as_array().unwrap().len(), 1);

    // The token as `lxc config trust add` prints it.
    let token = json!({
        "client_name": "joiner",
        "fingerprint": meta["fingerprint"],
        "addresses": meta["addresses"],
        "secret": meta["secret"],
        "expires_at": "0001-01-01T00:00:00Z",
    });
    let token = b64(token.to_string().as_bytes());
    let post = json!({"type": "client", "password": token, "name": "ignored"}).to_string();
    let (der, _) = client_cert("root@joiner-host");
    let r = call_tls(
        &s,
        Some(&der),
        "POST",
        "/1.0/certificates",
        Some(&post),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(list(&s).await[0]["name"], "joiner");
    let id = op["id"].as_str().unwrap();
    let done = call(&s, "GET", &format!("/1.0/operations/{id}"), None)
        .await
        .metadata();
    assert_eq!(done["status"], "Cancelled");
    assert_eq!(done["err"], "");

    // Single use.
    let (der2, _) = client_cert("second");
    let r = call_tls(
        &s,
        Some(&der2),
        "POST",
        "/1.0/certificates",
        Some(&post),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error(), "No matching certificate add operation found");

    // Revoked by deleting its operation.
    let r = call(&s, "POST", "/1.0/certificates", Some(&body)).await;
    let op2 = r.metadata();
    let r = call(
        &s,
        "DELETE",
        &format!("/1.0/operations/{}", op2["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let token2 = json!({
        "client_name": "joiner", "fingerprint": "f", "addresses": ["a"],
        "secret": op2["metadata"]["secret"], "expires_at": "0001-01-01T00:00:00Z",
    });
    let post2 = json!({"type": "client", "password": b64(token2.to_string().as_bytes())});
    let r = call_tls(
        &s,
        Some(&der2),
        "POST",
        "/1.0/certificates",
        Some(&post2.to_string()),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(list(&s).await.len(), 1);

    let r = call(
        &s,
        "PATCH",
        "/1.0",
        Some(r#"{"config": {"core.https_address": ""}}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(s.https.local_addr().is_none());
}

#[tokio::test]
async fn restricted_certificate_reaches_only_its_projects() {
    let (_d, s) = state();
    let (der, _) = client_cert("limited");
    let body = json!({
        "type": "client", "certificate": b64(&der), "restricted": true, "projects": ["default"]
    });
    let r = call(&s, "POST", "/1.0/certificates", Some(&body.to_string())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = call(&s, "POST", "/1.0/projects", Some(r#"{"name": "other"}"#)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ok = [
        ("GET", "/1.0/instances"),
        ("GET", "/1.0/profiles?project=default"),
        ("GET", "/1.0/certificates"),
        ("GET", "/1.0"),
    ];
    for (method, uri) in ok {
        let r = call_tls(&s, Some(&der), method, uri, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{method} {uri}: {}", r.text);
    }
    let refused = [
        ("GET", "/1.0/profiles?project=other"),
        ("PUT", "/1.0"),
        ("POST", "/1.0/storage-pools"),
        ("GET", "/1.0/warnings"),
    ];
    for (method, uri) in refused {
        let r = call_tls(&s, Some(&der), method, uri, Some("{}"), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {uri}");
    }
    // It may not widen its own restriction.
    let url = format!("/1.0/certificates/{}", x509::fingerprint(&der));
    let r = call_tls(
        &s,
        Some(&der),
        "PATCH",
        &url,
        Some(r#"{"restricted": false}"#),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error(), "Only the certificate can be changed");
    assert_eq!(list(&s).await[0]["restricted"], true);
}
