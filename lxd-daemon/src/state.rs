//! The daemon's shared state, handed to every handler.

use std::sync::{Arc, Mutex as StdMutex};

use lxd_db::Database;
use tokio::sync::{watch, Mutex};

use crate::events::EventBus;
use crate::facts::HostFacts;
use crate::operations::Operations;
use crate::paths::Paths;
use crate::server::https::HttpsEndpoint;
use crate::tls::{ServerCert, TlsError};
use crate::trust::TrustStore;

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
    /// The trusted certificates, cached for the per-request check.
    pub trust: TrustStore,
    /// The listener of `core.https_address`.
    pub https: HttpsEndpoint,
    server_cert: StdMutex<Option<Arc<ServerCert>>>,
    /// One lock per image fingerprint for downloads from remotes.
    pub image_downloads: crate::remote_images::DownloadLocks,
}

impl Daemon {
    /// Build the state over an opened database.
    pub fn new(paths: Paths, db: Database, facts: HostFacts, events: EventBus) -> AppState {
        let trust = TrustStore::default();
        trust.reload(&db);
        Arc::new(Self {
            paths,
            db,
            operations: Operations::new(events.clone()),
            events,
            facts,
            config_lock: Mutex::new(()),
            shutdown: watch::channel(false).0,
            ready: watch::channel(false).0,
            trust,
            https: HttpsEndpoint::default(),
            server_cert: StdMutex::new(None),
            image_downloads: Default::default(),
        })
    }

    /// The server certificate, loaded from (or generated into) `LXD_DIR` on first use.
    pub fn server_cert(&self) -> Result<Arc<ServerCert>, TlsError> {
        let mut slot = self.server_cert.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cert) = slot.as_ref() {
            return Ok(cert.clone());
        }
        let cert = Arc::new(ServerCert::load_or_generate(&self.paths.var)?);
        *slot = Some(cert.clone());
        Ok(cert)
    }
}
