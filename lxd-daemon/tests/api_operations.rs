//! API tier: operations listed by status, waited on, cancelled, and removed after they end.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{call, state};
use lxd_daemon::operations::OpSpec;

#[tokio::test]
async fn operation_runs_waits_and_succeeds() {
    let (_d, s) = state();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let op = s
        .operations
        .start(OpSpec::task("Testing", "default"), move |_op| async move {
            rx.await.map_err(|_| "dropped".to_string())
        });
    let m = call(&s, "GET", "/1.0/operations", None).await.metadata();
    assert_eq!(m["running"], serde_json::json!([op.url()]));
    let r = call(&s, "GET", &format!("{}/wait?timeout=0.1", op.url()), None).await;
    assert_eq!(r.metadata()["status"], "Running");
    tx.send(()).unwrap();
    let r = call(&s, "GET", &format!("{}/wait?timeout=5", op.url()), None).await;
    let m = r.metadata();
    assert_eq!(
        (m["status"].as_str(), m["status_code"].as_u64()),
        (Some("Success"), Some(200))
    );
    assert_eq!(m["description"], "Testing");
    assert_eq!(m["location"], "none");
}

#[tokio::test]
async fn operation_failure_reports_err() {
    let (_d, s) = state();
    let op = s
        .operations
        .start(OpSpec::task("Failing", "default"), |_op| async {
            Err("It broke".to_string())
        });
    let m = call(&s, "GET", &format!("{}/wait", op.url()), None)
        .await
        .metadata();
    assert_eq!(m["status"], "Failure");
    assert_eq!(m["status_code"], 400);
    assert_eq!(m["err"], "It broke");
}

#[tokio::test]
async fn operation_cancel_only_when_allowed() {
    let (_d, s) = state();
    let forever = || std::future::pending::<Result<(), String>>();
    let fixed = s
        .operations
        .start(OpSpec::task("Fixed", "default"), move |_| forever());
    let r = call(&s, "DELETE", &fixed.url(), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let mut spec = OpSpec::task("Cancellable", "default");
    spec.may_cancel = true;
    let op = s.operations.start(spec, move |_| forever());
    assert_eq!(
        call(&s, "GET", &op.url(), None).await.metadata()["may_cancel"],
        true
    );
    assert_eq!(
        call(&s, "DELETE", &op.url(), None).await.status,
        StatusCode::OK
    );
    let m = call(&s, "GET", &format!("{}/wait?timeout=5", op.url()), None)
        .await
        .metadata();
    assert_eq!(m["status"], "Cancelled");
}

#[tokio::test(start_paused = true)]
async fn operation_vanishes_five_seconds_after_it_ends() {
    let (_d, s) = state();
    let op = s
        .operations
        .start(OpSpec::task("Quick", "default"), |_| async { Ok(()) });
    op.wait(None).await;
    assert_eq!(
        call(&s, "GET", &op.url(), None).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let r = call(&s, "GET", &op.url(), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error(), "Operation not found");
}

#[tokio::test]
async fn operation_websocket_wrong_secret_forbidden() {
    let (_d, s) = state();
    let mut spec = OpSpec::task("Executing command", "default");
    spec.class = lxd_api::OperationClass::Websocket;
    spec.secrets.insert("0".into(), "s3cret".into());
    let op = s.operations.start(spec, |_| std::future::pending());
    let r = call(
        &s,
        "GET",
        &format!("{}/websocket?secret=wrong", op.url()),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(op.fd_for_secret("s3cret").as_deref(), Some("0"));
}
