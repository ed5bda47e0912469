//! One operation: its state, events, waiting, cancelling and websocket hand-over.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::WebSocket;
use lxd_api::{OperationClass, StatusCode};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, watch};

use super::OpSpec;
use crate::events::EventBus;

/// A websocket a client connected to an operation, with the fd name its secret stands for.
pub struct OpSocket {
    pub fd: String,
    pub socket: WebSocket,
}

struct OpState {
    status: StatusCode,
    updated_at: String,
    metadata: Option<Map<String, Value>>,
    err: String,
}

/// A running or recently finished operation.
pub struct Op {
    pub id: String,
    pub class: OperationClass,
    pub description: String,
    pub project: String,
    pub created_at: String,
    resources: Option<BTreeMap<String, Vec<String>>>,
    may_cancel: bool,
    secrets: BTreeMap<String, String>,
    state: Mutex<OpState>,
    done: watch::Sender<bool>,
    cancel: watch::Sender<bool>,
    sockets_tx: mpsc::UnboundedSender<OpSocket>,
    sockets_rx: Mutex<Option<mpsc::UnboundedReceiver<OpSocket>>>,
    events: EventBus,
}

impl Op {
    pub(super) fn new(spec: OpSpec, events: EventBus) -> Arc<Self> {
        let now = crate::time::now_rfc3339();
        let (sockets_tx, sockets_rx) = mpsc::unbounded_channel();
        Arc::new(Self {
            id: uuid::Uuid::new_v4().to_string(),
            class: spec.class,
            description: spec.description,
            project: spec.project,
            created_at: now.clone(),
            resources: spec.resources,
            may_cancel: spec.may_cancel,
            secrets: spec.secrets,
            state: Mutex::new(OpState {
                status: StatusCode::Running,
                updated_at: now,
                metadata: spec.metadata,
                err: String::new(),
            }),
            done: watch::channel(false).0,
            cancel: watch::channel(false).0,
            sockets_tx,
            sockets_rx: Mutex::new(Some(sockets_rx)),
            events,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, OpState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `/1.0/operations/<id>`.
    pub fn url(&self) -> String {
        format!("/1.0/operations/{}", self.id)
    }

    /// The current status.
    pub fn status(&self) -> StatusCode {
        self.state().status
    }

    /// The API object.
    pub fn to_api(&self) -> lxd_api::Operation {
        let st = self.state();
        lxd_api::Operation {
            id: self.id.clone(),
            class: self.class.as_str().to_string(),
            description: self.description.clone(),
            created_at: self.created_at.clone(),
            updated_at: st.updated_at.clone(),
            status: st.status.text().to_string(),
            status_code: st.status.code(),
            resources: self.resources.clone(),
            metadata: st.metadata.clone(),
            may_cancel: self.may_cancel && !st.status.is_final(),
            err: st.err.clone(),
            location: "none".to_string(),
        }
    }

    /// Send the current state as an `operation` event.
    pub(super) fn emit(&self) {
        if self.events.has_listeners() {
            let value = serde_json::to_value(self.to_api()).unwrap_or(Value::Null);
            self.events.send("operation", &self.project, value);
        }
    }

    /// Replace the metadata (progress and results) and tell listeners.
    pub fn set_metadata(&self, metadata: Map<String, Value>) {
        {
            let mut st = self.state();
            st.metadata = Some(metadata);
            st.updated_at = crate::time::now_rfc3339();
        }
        self.emit();
    }

    pub(super) fn finish(&self, status: StatusCode, err: String) {
        {
            let mut st = self.state();
            st.status = status;
            st.err = err;
            st.updated_at = crate::time::now_rfc3339();
        }
        self.emit();
        self.done.send_replace(true);
    }

    /// Wait until the operation ends or `timeout` passes (`None` waits forever).
    pub async fn wait(&self, timeout: Option<Duration>) {
        let mut rx = self.done.subscribe();
        let wait = rx.wait_for(|d| *d);
        match timeout {
            Some(t) => {
                let _ = tokio::time::timeout(t, wait).await;
            }
            None => {
                let _ = wait.await;
            }
        }
    }

    /// Ask the operation to stop.
    pub fn cancel(&self) -> Result<(), &'static str> {
        if self.status().is_final() {
            return Err("Only running operations can be cancelled");
        }
        if !self.may_cancel {
            return Err("This operation can't be cancelled");
        }
        {
            let mut st = self.state();
            st.status = StatusCode::Cancelling;
            st.updated_at = crate::time::now_rfc3339();
        }
        self.emit();
        self.cancel.send_replace(true);
        Ok(())
    }

    pub(super) fn cancel_receiver(&self) -> watch::Receiver<bool> {
        self.cancel.subscribe()
    }

    /// The fd name whose secret is `secret`, if any.
    pub fn fd_for_secret(&self, secret: &str) -> Option<String> {
        self.secrets
            .iter()
            .find(|(_, s)| constant_time_eq(s.as_bytes(), secret.as_bytes()))
            .map(|(fd, _)| fd.clone())
    }

    /// Hand a connected websocket to the operation's task.
    pub fn connect(&self, fd: String, socket: WebSocket) -> Result<(), &'static str> {
        self.sockets_tx
            .send(OpSocket { fd, socket })
            .map_err(|_| "Operation no longer accepts connections")
    }

    /// The receiving end of connected sockets; the operation's task takes it once.
    pub fn take_sockets(&self) -> Option<mpsc::UnboundedReceiver<OpSocket>> {
        self.sockets_rx.lock().ok()?.take()
    }
}

/// Compare two secrets in time that does not depend on where they differ.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
