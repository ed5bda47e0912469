//! `POST /1.0/instances/<name>/console` as LXD's `ConsoleInstance` drives it: the `0` socket
//! carries the terminal both ways, `control` carries window sizes. Leaving is the caller's
//! choice (closing its input); the session also ends when the daemon closes the console.

use futures_util::StreamExt;
use lxd_api::Operation;
use serde_json::Value;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

use crate::exec::{fds_of, recv_stream, run_control, send_stream};
use crate::{Client, Result};

/// Where a console session's bytes come from and go to.
pub struct ConsoleIo<O> {
    /// What the user types; the channel closing detaches.
    pub input: mpsc::Receiver<Vec<u8>>,
    /// Where the console's output goes.
    pub output: O,
    /// Control messages (window resizes) to forward.
    pub control: mpsc::Receiver<Value>,
}

impl Client {
    /// Attaches to the console of `name` (`req` is an `api.InstanceConsolePost`) until the
    /// caller detaches or the daemon ends the session; returns the final operation.
    pub async fn console_instance<O>(
        &self,
        name: &str,
        req: &Value,
        io: ConsoleIo<O>,
    ) -> Result<Operation>
    where
        O: AsyncWrite + Unpin + Send + 'static,
    {
        let path = format!("{}/console", crate::instances::instance_path(name));
        let op = self.query_operation("POST", &path, Some(req), None).await?;
        let fds = fds_of(&op);
        let control = match fds.get("control") {
            Some(secret) => Some(self.connect_operation_websocket(&op.id, secret).await?),
            None => None,
        };
        let mut session = None;
        if let Some(secret) = fds.get("0") {
            let ws = self.connect_operation_websocket(&op.id, secret).await?;
            let (write, read) = ws.split();
            let output = io.output;
            let out = tokio::spawn(async move { drop(recv_stream(read, output).await) });
            let input = tokio::spawn(send_stream(write, Some(io.input)));
            session = Some((out, input));
        }
        let control_task = control.map(|ws| tokio::spawn(run_control(ws, io.control)));
        if let Some((mut out, mut input)) = session {
            // Either the user detached (input ended) or the console went away (output ended).
            tokio::select! {
                _ = &mut out => input.abort(),
                _ = &mut input => {
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), out).await;
                }
            }
        }
        if let Some(t) = control_task {
            t.abort();
        }
        self.wait_final(&op.id).await
    }

    /// The console log of `name` (`GET /1.0/instances/<name>/console`).
    pub async fn get_instance_console_log(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.url_with_project(&format!(
            "{}/console",
            crate::instances::instance_path(name)
        ));
        let raw = self.raw_request("GET", &path, None, None).await?;
        if raw.status != 200 {
            crate::client::parse_envelope(&raw, &path)?;
            return Err(crate::ClientError::Unexpected(format!(
                "Failed to fetch {path}: {}",
                raw.status
            )));
        }
        Ok(raw.body.to_vec())
    }
}
