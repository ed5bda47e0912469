//! The events bus behind `/1.0/events`: operation, logging and lifecycle events.

use std::sync::Arc;

use lxd_api::event::{EventLifecycle, EventLifecycleRequestor};
use lxd_api::Event;
use serde_json::Value;
use tokio::sync::broadcast;

/// Events kept for slow listeners before they start missing some.
const BUS_CAPACITY: usize = 1024;

/// Fan-out of events to every `/1.0/events` listener.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BUS_CAPACITY).0,
        }
    }
}

/// Who asked for a change, for lifecycle events.
#[derive(Debug, Clone, Default)]
pub struct Requestor {
    pub username: String,
    pub protocol: String,
    pub address: String,
}

impl EventBus {
    /// A new listener.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// Whether anyone listens (lets callers skip building events).
    pub fn has_listeners(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// Send an event of `kind` for `project`.
    pub fn send(&self, kind: &str, project: &str, metadata: Value) {
        if !self.has_listeners() {
            return;
        }
        let event = Event {
            kind: kind.to_string(),
            timestamp: crate::time::now_rfc3339(),
            metadata,
            location: "none".to_string(),
            project: project.to_string(),
        };
        let _ = self.tx.send(Arc::new(event));
    }

    /// Send a lifecycle event such as `profile-created` for `source` (a URL).
    pub fn lifecycle(&self, project: &str, action: &str, source: String, requestor: &Requestor) {
        if !self.has_listeners() {
            return;
        }
        let meta = EventLifecycle {
            action: action.to_string(),
            source,
            context: None,
            requestor: Some(EventLifecycleRequestor {
                username: requestor.username.clone(),
                protocol: requestor.protocol.clone(),
                address: requestor.address.clone(),
            }),
        };
        self.send(
            "lifecycle",
            project,
            serde_json::to_value(meta).unwrap_or(Value::Null),
        );
    }
}
