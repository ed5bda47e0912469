//! Process tier over a real socket: the events websocket (type and project filters) and
//! operation websockets connected with their secret.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lxd_daemon::cmd::local::request;
use lxd_daemon::operations::OpSpec;
use tokio::net::UnixStream;
use tokio_tungstenite::tungstenite::Message;

/// Serve the router of a fresh state on `dir/unix.socket` inside this process.
async fn serve() -> (
    tempfile::TempDir,
    lxd_daemon::state::AppState,
    std::path::PathBuf,
) {
    let (dir, state) = common::state();
    let socket = dir.path().join("unix.socket");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let app = lxd_daemon::api::router::app(state.clone());
    tokio::spawn(lxd_daemon::server::unix::serve(
        listener,
        app,
        state.shutdown.subscribe(),
    ));
    (dir, state, socket)
}

async fn connect(
    socket: &std::path::Path,
    path: &str,
) -> tokio_tungstenite::WebSocketStream<UnixStream> {
    let stream = UnixStream::connect(socket).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://unix.socket{path}"), stream)
        .await
        .unwrap();
    ws
}

async fn next_json(ws: &mut tokio_tungstenite::WebSocketStream<UnixStream>) -> serde_json::Value {
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("no event within 5 s")
        .unwrap()
        .unwrap();
    serde_json::from_str(msg.to_text().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_lifecycle_filter_sees_profile_created_only() {
    let (_d, state, socket) = serve().await;
    let mut ws = connect(&socket, "/1.0/events?type=lifecycle").await;
    // An operation event must not reach a lifecycle-only listener.
    let op = state
        .operations
        .start(OpSpec::task("Quiet", "default"), |_| async { Ok(()) });
    op.wait(None).await;
    let body = serde_json::json!({"name": "ev1"});
    request(&socket, "POST", "/1.0/profiles", Some(&body))
        .await
        .unwrap();
    let event = next_json(&mut ws).await;
    assert_eq!(event["type"], "lifecycle");
    assert_eq!(event["metadata"]["action"], "profile-created");
    assert_eq!(event["metadata"]["source"], "/1.0/profiles/ev1");
    assert_eq!(event["metadata"]["requestor"]["protocol"], "unix");
    assert_eq!(event["project"], "default");
    assert_eq!(event["location"], "none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_operation_type_reports_running_then_success() {
    let (_d, state, socket) = serve().await;
    let mut ws = connect(&socket, "/1.0/events?type=operation").await;
    let op = state
        .operations
        .start(OpSpec::task("Testing events", "default"), |_| async {
            Ok(())
        });
    let first = next_json(&mut ws).await;
    assert_eq!(first["metadata"]["id"], op.id.as_str());
    let mut last = first;
    while last["metadata"]["status"] != "Success" {
        last = next_json(&mut ws).await;
    }
    assert_eq!(last["metadata"]["status_code"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_unknown_type_refused() {
    let (_d, _state, socket) = serve().await;
    let stream = UnixStream::connect(&socket).await.unwrap();
    let err = tokio_tungstenite::client_async("ws://unix.socket/1.0/events?type=bogus", stream)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_websocket_secret_hands_socket_to_operation() {
    let (_d, state, socket) = serve().await;
    let mut spec = OpSpec::task("Executing command", "default");
    spec.class = lxd_api::OperationClass::Websocket;
    spec.secrets.insert("0".into(), "s3cret".into());
    let op = state.operations.start(spec, |op| async move {
        // Echo one binary frame back on fd 0, then finish.
        let mut sockets = op.take_sockets().ok_or("sockets taken")?;
        let mut conn = sockets.recv().await.ok_or("no socket")?;
        if conn.fd != "0" {
            return Err(format!("wrong fd {}", conn.fd));
        }
        if let Some(Ok(msg)) = conn.socket.recv().await {
            conn.socket.send(msg).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    let mut ws = connect(&socket, &format!("{}/websocket?secret=s3cret", op.url())).await;
    ws.send(Message::Binary(b"hello".to_vec().into()))
        .await
        .unwrap();
    let echoed = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echoed.into_data().as_ref(), b"hello");
    op.wait(Some(Duration::from_secs(5))).await;
    assert_eq!(op.status(), lxd_api::StatusCode::Success);
}
