//! The daemon's shared state, handed to every handler.

use std::sync::Arc;

use lxd_db::Database;
use tokio::sync::{watch, Mutex};

use crate::events::EventBus;
use crate::facts::HostFacts;
use crate::operations::Operations;
use crate::paths::Paths;

/// Shared state; handlers receive it as `State<AppState>`.
pub type AppState = Arc<Daemon>;

/// Everything a handler may need.
pub struct Daemon {
    pub paths: Paths,
    pub db: Database,
    pub events: EventBus,
    pub operations: Arc<Operations>,
    pub facts: HostFacts,
    /// Serialises read-modify-write of the server config.
    pub config_lock: Mutex<()>,
    /// Set when a shutdown was requested (`lxd shutdown`, SIGTERM).
    pub shutdown: watch::Sender<bool>,
    /// Set once start-up finished (`lxd waitready`).
    pub ready: watch::Sender<bool>,
    /// One lock per image fingerprint for downloads from remotes.
    pub image_downloads: crate::remote_images::DownloadLocks,
}

impl Daemon {
    /// Build the state over an opened database.
    pub fn new(paths: Paths, db: Database, facts: HostFacts, events: EventBus) -> AppState {
        Arc::new(Self {
            paths,
            db,
            operations: Operations::new(events.clone()),
            events,
            facts,
            config_lock: Mutex::new(()),
            shutdown: watch::channel(false).0,
            ready: watch::channel(false).0,
            image_downloads: Default::default(),
        })
    }
}
