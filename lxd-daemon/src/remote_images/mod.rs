//! Images from remote servers (`lxd/daemon_images.go`): the simplestreams and LXD-protocol
//! sources, the HTTPS client and its TLS trust, resumable hash-checked downloads with
//! progress, and [`fetch::download_image`], which resolves a source to one image, downloads
//! it once (concurrent requests for one fingerprint share the work) and records it.
//!
//! Used by instance creation from a remote image, `POST /1.0/images` with an `image` source,
//! image refresh and the auto-update task. Nothing here touches HTTP handlers.

pub mod download;
pub mod fetch;
pub mod http;
pub mod lxd_protocol;
pub mod progress;
pub mod push;
pub mod refresh;
pub mod simplestreams;
pub mod tls;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use fetch::{download_image, DownloadArgs};

/// Why a remote image could not be had. The texts follow LXD's where it has one.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{0}")]
    Http(String),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("{0}")]
    Io(String),
    #[error("Hash mismatch for {url}: {got} != {expected}")]
    HashMismatch {
        url: String,
        got: String,
        expected: String,
    },
    #[error("Image fingerprint doesn't match. Got {got} expected {expected}")]
    FingerprintMismatch { got: String, expected: String },
    /// An error the remote server answered, or a lookup that failed there.
    #[error("{0}")]
    Remote(String),
    #[error("Unsupported protocol: {0}")]
    Protocol(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] lxd_db::DbError),
}

impl RemoteError {
    pub(crate) fn io(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// One lock per image fingerprint, so concurrent requests for the same image download it
/// once (LXD's `imageOperationLock`).
#[derive(Default)]
pub struct DownloadLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl DownloadLocks {
    /// Wait for and take the lock of `fingerprint`.
    pub async fn lock(&self, fingerprint: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            // Forget locks nobody holds or waits for.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
            locks.entry(fingerprint.to_string()).or_default().clone()
        };
        tracing::debug!(fingerprint, "Acquiring lock for image download");
        lock.lock_owned().await
    }
}
