//! Background operations: the registry behind `/1.0/operations`.
//!
//! An operation runs as a tokio task; its state changes are sent as `operation` events, it
//! can be waited on and (when it allows) cancelled, and it disappears five seconds after it
//! ends, as in LXD. Websocket operations receive the sockets that clients open with their
//! secrets.

mod op;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lxd_api::{OperationClass, StatusCode};

use crate::events::EventBus;
use op::constant_time_eq;
pub use op::{Op, OpSocket};

/// How long a finished operation stays queryable.
pub const KEEP_FINISHED: Duration = Duration::from_secs(5);

/// What an operation is, before it starts.
pub struct OpSpec {
    pub class: OperationClass,
    pub description: String,
    pub project: String,
    pub resources: Option<BTreeMap<String, Vec<String>>>,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    pub may_cancel: bool,
    /// Websocket operations: fd name to secret.
    pub secrets: BTreeMap<String, String>,
}

impl OpSpec {
    /// A plain background task.
    pub fn task(description: &str, project: &str) -> Self {
        Self {
            class: OperationClass::Task,
            description: description.to_string(),
            project: project.to_string(),
            resources: None,
            metadata: None,
            may_cancel: false,
            secrets: BTreeMap::new(),
        }
    }
}

/// All live operations.
pub struct Operations {
    ops: Mutex<HashMap<String, Arc<Op>>>,
    events: EventBus,
}

impl Operations {
    /// An empty registry sending its events on `events`.
    pub fn new(events: EventBus) -> Arc<Self> {
        Arc::new(Self {
            ops: Mutex::new(HashMap::new()),
            events,
        })
    }

    /// Start an operation running `run`; the returned handle is already registered.
    pub fn start<F, Fut>(self: &Arc<Self>, spec: OpSpec, run: F) -> Arc<Op>
    where
        F: FnOnce(Arc<Op>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let op = Op::new(spec, self.events.clone());
        self.lock().insert(op.id.clone(), op.clone());
        op.emit();
        let registry = Arc::clone(self);
        let task_op = op.clone();
        tokio::spawn(async move {
            let mut cancel = task_op.cancel_receiver();
            let outcome = tokio::select! {
                r = run(task_op.clone()) => Some(r),
                _ = cancel.wait_for(|c| *c) => None,
            };
            let status = match outcome {
                Some(Ok(())) => (StatusCode::Success, String::new()),
                Some(Err(e)) => (StatusCode::Failure, e),
                // Token operations end without an error text when used or revoked.
                None if task_op.class == OperationClass::Token => {
                    (StatusCode::Cancelled, String::new())
                }
                None => (StatusCode::Cancelled, "Operation cancelled".to_string()),
            };
            task_op.finish(status.0, status.1);
            tokio::time::sleep(KEEP_FINISHED).await;
            registry.lock().remove(&task_op.id);
        });
        op
    }

    /// One operation by id.
    pub fn get(&self, id: &str) -> Option<Arc<Op>> {
        self.lock().get(id).cloned()
    }

    /// All operations of `project` (or every project when `None`).
    pub fn list(&self, project: Option<&str>) -> Vec<Arc<Op>> {
        let mut ops: Vec<Arc<Op>> = self
            .lock()
            .values()
            .filter(|op| project.is_none_or(|p| op.project == p))
            .cloned()
            .collect();
        ops.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        ops
    }

    /// The `token` operation of `project` whose metadata holds `secret` (compared in constant
    /// time) and that `wanted` accepts, with that metadata. Join tokens and image tokens both
    /// live here; `wanted` tells them apart.
    pub fn find_token(
        &self,
        project: &str,
        secret: &str,
        wanted: impl Fn(&Op, &lxd_api::Operation) -> bool,
    ) -> Option<(Arc<Op>, serde_json::Map<String, serde_json::Value>)> {
        self.list(Some(project))
            .into_iter()
            .filter(|op| op.class == OperationClass::Token)
            .find_map(|op| {
                let api = op.to_api();
                if !wanted(&op, &api) {
                    return None;
                }
                let metadata = api.metadata.unwrap_or_default();
                let matches = metadata
                    .get("secret")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|s| constant_time_eq(s.as_bytes(), secret.as_bytes()));
                matches.then_some((op, metadata))
            })
    }

    /// Cancel every running operation (daemon shutdown).
    pub fn cancel_all(&self) {
        for op in self.lock().values() {
            let _ = op.cancel();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Op>>> {
        self.ops.lock().unwrap_or_else(|p| p.into_inner())
    }
}
