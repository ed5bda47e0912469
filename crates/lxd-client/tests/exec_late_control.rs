//! An exec whose command ends before the client's `control` socket has connected (a daemon
//! waits only for `0`, `1` and `2`; over HTTPS the fourth handshake can lose that race): the
//! output already sent on `1` must still be read. A fake daemon on a UNIX socket answers the
//! exec, holds the `control` upgrade back until the operation has ended, and writes the
//! command's output on `1` as soon as `0`, `1` and `2` are connected.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::SinkExt;
use lxd_client::exec::ExecIo;
use lxd_client::transport::Connector;
use lxd_client::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const OP: &str = "5b2f0c1e-0000-4000-8000-000000000001";

/// What the fake daemon shares between connections.
#[derive(Default)]
struct Fake {
    /// Data sockets (`0`, `1`, `2`) connected so far.
    data_sockets: AtomicUsize,
    /// Set once the operation's end has been answered.
    answered: AtomicBool,
}

/// Read one request head; `None` at end of connection.
async fn read_head(stream: &mut UnixStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

async fn respond(stream: &mut UnixStream, status: &str, body: &serde_json::Value) {
    let body = body.to_string();
    let text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(text.as_bytes()).await;
}

fn operation(status: &str, code: u16, metadata: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "id": OP, "class": "websocket", "description": "Executing command",
        "created_at": "2026-12-06T00:00:00Z", "updated_at": "2026-12-06T00:00:00Z",
        "status": status, "status_code": code, "resources": null,
        "metadata": metadata, "may_cancel": false, "err": "", "location": "none"
    })
}

async fn serve_connection(mut stream: UnixStream, fake: Arc<Fake>) {
    // A discarded request body (the exec request) is read by its length.
    while let Some(head) = read_head(&mut stream).await {
        let length: usize = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        let _ = stream.read_exact(&mut body).await;
        let target = head
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_string();
        if let Some(key) = header(&head, "sec-websocket-key") {
            let secret = target
                .rsplit("secret=")
                .next()
                .unwrap_or_default()
                .to_string();
            if secret == "control" {
                // Held back until the client has been told the operation ended.
                while !fake.answered.load(Ordering::SeqCst) {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let accept = derive_accept_key(key.as_bytes());
            let reply = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            let _ = stream.write_all(reply.as_bytes()).await;
            let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
            if secret != "control" {
                fake.data_sockets.fetch_add(1, Ordering::SeqCst);
            }
            if secret == "1" {
                let _ = ws.send(Message::binary(b"late output\n".to_vec())).await;
            }
            if secret == "1" || secret == "2" {
                let _ = ws.send(Message::text(String::new())).await;
                let _ = ws.close(None).await;
            }
            // Others stay open until the client leaves.
            use futures_util::StreamExt;
            while let Some(Ok(_)) = ws.next().await {}
            return;
        }
        if target.ends_with("/exec") {
            let fds =
                serde_json::json!({"fds": {"0": "0", "1": "1", "2": "2", "control": "control"}});
            let op = operation("Running", 103, fds);
            let body = serde_json::json!({"type": "async", "status": "Operation created",
                "status_code": 100, "operation": format!("/1.0/operations/{OP}"), "error_code": 0,
                "error": "", "metadata": op});
            respond(&mut stream, "202 Accepted", &body).await;
        } else if target.contains("/wait") {
            // The operation ends once the command has: before `control` connects.
            while fake.data_sockets.load(Ordering::SeqCst) < 3 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            let op = operation("Success", 200, serde_json::json!({"return": 0}));
            let body = serde_json::json!({"type": "sync", "status": "Success",
                "status_code": 200, "operation": "", "error_code": 0, "error": "", "metadata": op});
            respond(&mut stream, "200 OK", &body).await;
            fake.answered.store(true, Ordering::SeqCst);
        } else {
            respond(
                &mut stream,
                "404 Not Found",
                &serde_json::json!({"type": "error",
                "error": "not found", "error_code": 404}),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn output_sent_before_the_control_socket_connects_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("unix.socket");
    let listener = UnixListener::bind(&socket).unwrap();
    let fake = Arc::new(Fake::default());
    let shared = fake.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_connection(stream, shared.clone()));
        }
    });
    let client = Client::new(Connector::Unix(socket));
    let (_control_tx, control) = tokio::sync::mpsc::channel(1);
    let (stdout, mut captured) = tokio::io::duplex(1 << 16);
    let io = ExecIo {
        stdin: None,
        stdout,
        stderr: tokio::io::sink(),
        control,
    };
    let req = serde_json::json!({"command": ["true"], "wait-for-websocket": true,
        "interactive": false});
    let op = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client.exec_instance("c1", &req, io),
    )
    .await
    .expect("the exec hung")
    .unwrap();
    assert_eq!(op.status_code, 200);
    let mut text = String::new();
    captured.read_to_string(&mut text).await.unwrap();
    assert_eq!(text, "late output\n");
}
