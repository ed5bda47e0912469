//! System tier (root): the console of a running busybox container through the API. A client
//! attached over the console websockets sees what the container writes to `/dev/console` and
//! types into it; a second client is refused while one is attached; detaching (closing the
//! control socket) ends the operation; `DELETE .../console` empties the log.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::UnixStream;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<UnixStream>;

async fn connect(socket: &std::path::Path, op: &Value, fd: &str) -> Socket {
    let id = op["id"].as_str().unwrap();
    let secret = op["metadata"]["fds"][fd].as_str().unwrap();
    let stream = UnixStream::connect(socket).await.unwrap();
    let url = format!("ws://unix.socket/1.0/operations/{id}/websocket?secret={secret}");
    tokio_tungstenite::client_async(url, stream)
        .await
        .unwrap()
        .0
}

/// Read binary frames until `needle` has been seen.
async fn read_until(ws: &mut Socket, needle: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(needle) {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap_or_else(|_| panic!("{needle:?} not seen; got {seen:?}"))
            .expect("console closed")
            .unwrap();
        if let Message::Binary(data) = msg {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    seen
}

#[test]
fn console_attach_through_the_api() {
    let d = support::BusyboxDaemon::start();
    let name = "con-c1";
    d.launch(name);
    let console = format!("/1.0/instances/{name}/console");
    let op = d
        .api
        .call("POST", &console, Some(json!({"width": 100, "height": 30})))
        .unwrap();
    assert_eq!(op["class"], "websocket", "{op}");
    let socket = d.api.socket.clone();
    let (mut data, mut control) = d.api.rt.block_on(async {
        let control = connect(&socket, &op, "control").await;
        let data = connect(&socket, &op, "0").await;
        (data, control)
    });
    // Give the daemon a moment to attach to the monitor's console.
    std::thread::sleep(Duration::from_millis(300));
    let (code, _) = d.exec(name, &["sh", "-c", "echo console-out > /dev/console"]);
    assert_eq!(code, 0);
    d.api.rt.block_on(read_until(&mut data, "console-out"));

    d.api
        .rt
        .block_on(data.send(Message::binary(b"typed-in\n".to_vec())))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (code, out) = d.exec(name, &["sh", "-c", "read x < /dev/console; echo got:$x"]);
    assert_eq!((code, out.trim()), (0, "got:typed-in"));

    // A second client while the first is attached: its operation fails.
    let second = d.api.call("POST", &console, Some(json!({}))).unwrap();
    let (c2, d2) = d.api.rt.block_on(async {
        (
            connect(&socket, &second, "control").await,
            connect(&socket, &second, "0").await,
        )
    });
    let id2 = second["id"].as_str().unwrap();
    let done2 = d
        .api
        .call(
            "GET",
            &format!("/1.0/operations/{id2}/wait?timeout=10"),
            None,
        )
        .unwrap();
    assert_eq!(done2["status"], "Failure", "{done2}");
    assert!(
        done2["err"].as_str().unwrap().contains("already attached"),
        "{done2}"
    );
    drop((c2, d2));

    // Detach: closing the control socket ends the session successfully.
    d.api.rt.block_on(control.close(None)).unwrap();
    let id = op["id"].as_str().unwrap();
    let done = d
        .api
        .call(
            "GET",
            &format!("/1.0/operations/{id}/wait?timeout=10"),
            None,
        )
        .unwrap();
    assert_eq!(done["status"], "Success", "{done}");
    drop(data);

    let (status, _, log) = d.api.raw("GET", &console, Vec::new(), &[]);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&log).contains("console-out"));
    d.api.call("DELETE", &console, None).unwrap();
    let (_, _, log) = d.api.raw("GET", &console, Vec::new(), &[]);
    assert!(
        log.is_empty(),
        "log not cleared: {:?}",
        String::from_utf8_lossy(&log)
    );

    // Refusals: an unknown type, vga on a container.
    let bad = d
        .api
        .call("POST", &console, Some(json!({"type": "serial"})));
    assert!(bad.unwrap_err().contains("Unknown console type"));
    let bad = d.api.call("POST", &console, Some(json!({"type": "vga"})));
    assert!(bad
        .unwrap_err()
        .contains("only supported by virtual machines"));
    d.remove(name);
}
