//! `POST /1.0/instances/<name>/exec` in websocket mode, as LXD's `ExecInstance` drives it.
//!
//! The operation's `metadata.fds` names the sockets: `control` plus `0` (interactive: one PTY
//! socket for both directions) or `0`, `1`, `2` (non-interactive: separate pipes). Data goes as
//! binary messages; an empty text message (or a close) is end-of-stream. Control messages
//! (`window-resize`, `signal`) come from the caller through a channel. The function returns the
//! finished operation; its `metadata.return` is the command's exit status. It never touches the
//! terminal: raw mode, sizes and signals are the caller's business.

use futures_util::{SinkExt, StreamExt};
use lxd_api::Operation;
use serde_json::Value;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::websocket::DaemonSocket;
use crate::{Client, ClientError, Result};

/// Where an exec session's bytes come from and go to.
pub struct ExecIo<O, E> {
    /// Chunks of standard input; the channel closing is end-of-input. `None` sends EOF at once.
    pub stdin: Option<mpsc::Receiver<Vec<u8>>>,
    /// Standard output (in interactive mode, everything the PTY writes).
    pub stdout: O,
    /// Standard error (unused in interactive mode).
    pub stderr: E,
    /// Control messages (`{"command":"signal","signal":15}`, window resizes) to forward.
    pub control: mpsc::Receiver<Value>,
}

/// Copies websocket data messages into `out` until a text message, a close or an error.
pub(crate) async fn recv_stream<S, W>(mut read: S, mut out: W) -> W
where
    S: futures_util::Stream<
            Item = std::result::Result<Message, tokio_tungstenite::tungstenite::Error>,
        > + Unpin,
    W: AsyncWrite + Unpin,
{
    while let Some(Ok(msg)) = read.next().await {
        match msg {
            Message::Binary(data) => {
                if out.write_all(&data).await.is_err() {
                    break;
                }
                let _ = out.flush().await;
            }
            Message::Text(_) | Message::Close(_) => break,
            _ => {}
        }
    }
    out
}

/// Sends the chunks of `input` as binary messages, then the empty text message (EOF).
pub(crate) async fn send_stream<S>(mut write: S, input: Option<mpsc::Receiver<Vec<u8>>>)
where
    S: futures_util::Sink<Message> + Unpin,
{
    if let Some(mut input) = input {
        while let Some(chunk) = input.recv().await {
            if write.send(Message::binary(chunk)).await.is_err() {
                return;
            }
        }
    }
    let _ = write.send(Message::text(String::new())).await;
}

/// Forwards control messages until the daemon closes the control socket.
pub(crate) async fn run_control(ws: DaemonSocket, mut control: mpsc::Receiver<Value>) {
    let (mut write, mut read) = ws.split();
    loop {
        tokio::select! {
            msg = control.recv() => match msg {
                Some(v) => {
                    if write.send(Message::text(v.to_string())).await.is_err() {
                        return;
                    }
                }
                None => {
                    // Nothing more to send: wait for the daemon to close.
                    while let Some(Ok(m)) = read.next().await {
                        if matches!(m, Message::Close(_)) {
                            break;
                        }
                    }
                    return;
                }
            },
            incoming = read.next() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
        }
    }
}

pub(crate) fn fds_of(op: &Operation) -> std::collections::BTreeMap<String, String> {
    op.metadata
        .as_ref()
        .and_then(|m| m.get("fds"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// How long sockets still connecting may take once the command has already ended.
const LATE_SOCKETS: std::time::Duration = std::time::Duration::from_secs(10);

impl Client {
    /// Runs `req` (an `api.InstanceExecPost` with `wait-for-websocket: true`) and pumps the
    /// streams until the command ends. Returns the final operation, successful or not.
    pub async fn exec_instance<O, E>(
        &self,
        name: &str,
        req: &Value,
        io: ExecIo<O, E>,
    ) -> Result<Operation>
    where
        O: AsyncWrite + Unpin + Send + 'static,
        E: AsyncWrite + Unpin + Send + 'static,
    {
        let path = format!("{}/exec", crate::instances::instance_path(name));
        let op = self.query_operation("POST", &path, Some(req), None).await?;
        let fds = fds_of(&op);
        let interactive = req["interactive"].as_bool().unwrap_or(false);
        // All sockets are connected at once: the daemon starts the command once it has them.
        let wanted: &[&str] = if interactive {
            &["control", "0"]
        } else {
            &["control", "0", "1", "2"]
        };
        let present: Vec<(&str, &String)> = wanted
            .iter()
            .filter_map(|k| fds.get(*k).map(|secret| (*k, secret)))
            .collect();
        let connecting = futures_util::future::try_join_all(
            present
                .iter()
                .map(|(_, secret)| self.connect_operation_websocket(&op.id, secret)),
        );
        // The wait for the end is asked for at once too: an operation that fails before its
        // sockets are connected (the daemon gave up on them) is the answer. One that succeeds
        // first ran its command while a socket the daemon does not wait for (`control`) was
        // still connecting over a slower link: its output waits on the others.
        use futures_util::future::Either;
        let waiting = Box::pin(self.wait_final(&op.id));
        let (connected, end) =
            match futures_util::future::select(Box::pin(connecting), waiting).await {
                Either::Left((connected, waiting)) => (connected?, Either::Left(waiting)),
                Either::Right((finished, connecting)) => {
                    let finished = finished?;
                    if finished.status_code != lxd_api::StatusCode::Success.code() {
                        return Ok(finished);
                    }
                    match tokio::time::timeout(LATE_SOCKETS, connecting).await {
                        Ok(Ok(connected)) => {
                            (connected, Either::Right(std::future::ready(Ok(finished))))
                        }
                        _ => return Ok(finished),
                    }
                }
            };
        let mut sockets: std::collections::HashMap<&str, _> =
            present.iter().map(|(k, _)| *k).zip(connected).collect();
        let mut tasks = Vec::new();
        let mut control_task = None;
        if let Some(ws) = sockets.remove("control") {
            control_task = Some(tokio::spawn(run_control(ws, io.control)));
        }
        let mut stdin_task = None;
        if interactive {
            if let Some(ws) = sockets.remove("0") {
                let (write, read) = ws.split();
                let sender = tokio::spawn(send_stream(write, io.stdin));
                let stdout = io.stdout;
                tasks.push(tokio::spawn(async move {
                    drop(recv_stream(read, stdout).await);
                    // The daemon's barrier ends the output; like the Go client, close the
                    // socket then, even with stdin still open: LXD finishes the operation only
                    // once the client side of the PTY socket is done.
                    sender.abort();
                }));
            }
        } else {
            if let Some(ws) = sockets.remove("0") {
                let (write, read) = ws.split();
                stdin_task = Some(tokio::spawn(async move {
                    send_stream(write, io.stdin).await;
                    // Keep the read half alive (and drained) until the daemon closes it.
                    let mut read = read;
                    while let Some(Ok(m)) = read.next().await {
                        if matches!(m, Message::Close(_)) {
                            break;
                        }
                    }
                }));
            }
            for (fd, out) in [
                (
                    "1",
                    Box::new(io.stdout) as Box<dyn AsyncWrite + Unpin + Send>,
                ),
                ("2", Box::new(io.stderr)),
            ] {
                if let Some(ws) = sockets.remove(fd) {
                    let (_write, read) = ws.split();
                    tasks.push(tokio::spawn(async move {
                        drop(recv_stream(read, out).await);
                        drop(_write);
                    }));
                }
            }
        }
        let finished = end.await;
        for t in tasks {
            let _ = t.await;
        }
        if let Some(t) = stdin_task {
            t.abort();
        }
        if let Some(t) = control_task {
            t.abort();
        }
        finished
    }

    /// Waits until the operation is final and returns it without judging its status.
    pub async fn wait_final(&self, id: &str) -> Result<Operation> {
        loop {
            match self.wait_operation_once(id, -1).await {
                Ok(op) if op.status_code >= lxd_api::StatusCode::Success.code() => return Ok(op),
                Ok(_) => continue,
                Err(ClientError::Api { code: 404, .. }) => {
                    return Err(ClientError::Unexpected("Operation vanished".into()))
                }
                Err(e) => return Err(e),
            }
        }
    }
}
