//! Instance migration between two servers from the client's side (Go's `CopyInstance` and
//! `CopyInstanceSnapshot`): the connection details a peer needs (`GetConnectionInfo`), the
//! source request (`POST /1.0/instances/<name>` with `migration: true`), and the relay that
//! joins a source's websockets to a target's when neither can reach the other.

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use lxd_api::Operation;
use serde_json::Value;

use crate::websocket::DaemonSocket;
use crate::{Client, ClientError, Result};

/// How other servers reach this one (Go's `ConnectionInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// `https://host:port` of every address the server listens on.
    pub addresses: Vec<String>,
    /// The server's certificate (PEM).
    pub certificate: String,
    /// How this client reaches it (socket path or base URL), to tell two servers apart.
    pub endpoint: String,
}

/// The websocket secrets in an operation's metadata (`control`, `fs`, ...).
pub fn operation_secrets(op: &Operation) -> BTreeMap<String, String> {
    op.metadata
        .iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect()
}

impl Client {
    /// `GET /1.0`'s `environment.addresses` and `certificate`.
    pub async fn connection_info(&self) -> Result<ConnectionInfo> {
        let (server, _) = self.get_struct::<Value>("/1.0").await?;
        let env = &server["environment"];
        let addresses = env["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|a| format!("https://{a}"))
            .collect();
        Ok(ConnectionInfo {
            addresses,
            certificate: env["certificate"].as_str().unwrap_or_default().to_string(),
            endpoint: self.connector().endpoint(),
        })
    }

    /// `POST /1.0/instances/<name>` (or `.../snapshots/<snap>`) asking for a migration source.
    pub async fn migrate_source(&self, path: &str, req: &Value) -> Result<Operation> {
        let (resp, _) = self.query("POST", path, Some(req), None).await?;
        serde_json::from_value(resp.metadata)
            .map_err(|e| ClientError::Unexpected(format!("Not an operation: {e}")))
    }
}

type Half = futures_util::stream::SplitStream<DaemonSocket>;
type HalfSink =
    futures_util::stream::SplitSink<DaemonSocket, tokio_tungstenite::tungstenite::Message>;

/// Copy messages from `from` to `to` (binary and text alike) until either side closes.
async fn forward(mut from: Half, mut to: HalfSink) {
    use tokio_tungstenite::tungstenite::Message;
    while let Some(Ok(msg)) = from.next().await {
        match msg {
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Close(_) => break,
            other => {
                if to.send(other).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.close().await;
}

/// Relay two websockets both ways; either direction ending ends the pair, as Go's
/// `WebsocketProxy` does.
async fn proxy(a: DaemonSocket, b: DaemonSocket) {
    let (a_tx, a_rx) = a.split();
    let (b_tx, b_rx) = b.split();
    tokio::select! {
        _ = forward(a_rx, b_tx) => {}
        _ = forward(b_rx, a_tx) => {}
    }
}

/// Join the websockets of a source operation to those of a target operation (relay mode,
/// Go's `proxyMigration`): `control` first, then the data sockets. Returns once all are
/// connected; the relaying goes on in the background until the sockets close.
pub async fn relay(
    source: &Client,
    source_op: &str,
    source_secrets: &BTreeMap<String, String>,
    target: &Client,
    target_op: &str,
    target_secrets: &BTreeMap<String, String>,
) -> Result<tokio::task::JoinHandle<()>> {
    for name in target_secrets.keys() {
        if !source_secrets.contains_key(name) {
            return Err(ClientError::Unexpected(format!(
                "Migration target expects the \"{name}\" socket but source isn't providing it"
            )));
        }
    }
    let Some(target_control) = target_secrets.get("control").filter(|s| !s.is_empty()) else {
        return Err(ClientError::Unexpected(
            "Migration target didn't setup the required \"control\" socket".into(),
        ));
    };
    let mut pairs = Vec::new();
    let s = source
        .connect_operation_websocket(source_op, &source_secrets["control"])
        .await?;
    let t = target
        .connect_operation_websocket(target_op, target_control)
        .await?;
    pairs.push((s, t));
    for (name, secret) in source_secrets {
        if name == "control" {
            continue;
        }
        let Some(target_secret) = target_secrets.get(name) else {
            break;
        };
        let Ok(s) = source.connect_operation_websocket(source_op, secret).await else {
            break;
        };
        let Ok(t) = target
            .connect_operation_websocket(target_op, target_secret)
            .await
        else {
            break;
        };
        pairs.push((s, t));
    }
    Ok(tokio::spawn(async move {
        let tasks: Vec<_> = pairs
            .into_iter()
            .map(|(s, t)| tokio::spawn(proxy(s, t)))
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_secrets_reads_string_metadata() {
        let op: Operation = serde_json::from_value(serde_json::json!({
            "id": "x", "class": "websocket", "description": "", "created_at": "",
            "updated_at": "", "status": "Running", "status_code": 103,
            "metadata": {"control": "a", "fs": "b", "other": 1},
            "may_cancel": false, "err": "", "location": "none"
        }))
        .unwrap();
        let s = operation_secrets(&op);
        assert_eq!(s.len(), 2);
        assert_eq!(s["fs"], "b");
    }
}
