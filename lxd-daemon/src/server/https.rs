//! The HTTPS listener of `core.https_address`: bound at start and rebound live when the key
//! changes (closed when it is unset). Each connection does a TLS handshake that asks for a
//! client certificate, then serves the same router as the UNIX socket with the certificate's
//! fingerprint and the client's address attached for the per-request trust check.

use std::sync::Mutex;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::addresses::{bind_address, canonical_network_address, HTTPS_DEFAULT_PORT};
use crate::api::caller::{ConnInfo, PeerCert};
use crate::state::AppState;

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

struct Listening {
    /// The canonical configured address (what the config change is compared against).
    address: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The network endpoint; at most one listener at a time.
#[derive(Default)]
pub struct HttpsEndpoint {
    current: tokio::sync::Mutex<Option<Listening>>,
    bound: Mutex<Option<std::net::SocketAddr>>,
}

fn listen_error(address: &str, e: &std::io::Error) -> String {
    let reason = match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_lowercase(),
        None => e.to_string(),
    };
    format!(
        "Cannot listen on network HTTPS socket {address:?}: listen tcp {address}: bind: {reason}"
    )
}

async fn bind_with_retries(address: &str) -> Result<TcpListener, String> {
    let target = bind_address(address);
    let mut last = None;
    for _ in 0..10 {
        match TcpListener::bind(&target).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no address"));
    Err(listen_error(address, &e))
}

impl HttpsEndpoint {
    /// The local address the listener is bound to, if any.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        *self.bound.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Listen on `address` (LXD's `NetworkUpdateAddress`): nothing changes when it is the
    /// current one; an empty address closes the listener. When the new address cannot be
    /// bound the old one is bound again and the error returned.
    pub async fn update(&self, state: &AppState, address: &str) -> Result<(), String> {
        let wanted = if address.is_empty() {
            String::new()
        } else {
            canonical_network_address(address, HTTPS_DEFAULT_PORT)
        };
        let mut current = self.current.lock().await;
        let old = current
            .as_ref()
            .map(|l| l.address.clone())
            .unwrap_or_default();
        if wanted == old {
            return Ok(());
        }
        tracing::info!(address = %wanted, "Update network address");
        if let Some(listening) = current.take() {
            listening.stop.send_replace(true);
            let _ = listening.task.await;
            *self.bound.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let config = state
            .server_cert()
            .map_err(|e| format!("Failed to load the server certificate: {e}"))?
            .config
            .clone();
        let (listener, address, err) = match bind_with_retries(&wanted).await {
            Ok(l) => (l, wanted, None),
            Err(e) if old.is_empty() => return Err(e),
            Err(e) => match bind_with_retries(&old).await {
                Ok(l) => (l, old, Some(e)),
                Err(_) => return Err(e),
            },
        };
        *self.bound.lock().unwrap_or_else(|p| p.into_inner()) = listener.local_addr().ok();
        let (stop, stop_rx) = watch::channel(false);
        let app = crate::api::router::app(state.clone());
        let shutdown = state.shutdown.subscribe();
        let task = tokio::spawn(serve(
            listener,
            TlsAcceptor::from(config),
            app,
            stop_rx,
            shutdown,
        ));
        *current = Some(Listening {
            address,
            stop,
            task,
        });
        err.map_or(Ok(()), Err)
    }
}

/// The client certificate of a finished handshake (the last one the client sent).
fn peer_cert(conn: &rustls::ServerConnection) -> Option<PeerCert> {
    let der = conn.peer_certificates()?.last()?.to_vec();
    Some(PeerCert {
        fingerprint: crate::tls::x509::fingerprint(&der),
        der,
    })
}

async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    mut stop: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "Accept failed");
                    continue;
                }
            },
            _ = stop.wait_for(|s| *s) => return,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(ip = %remote, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(ip = %remote, "TLS handshake timed out");
                    return;
                }
            };
            let info = ConnInfo::tls(remote, peer_cert(tls.get_ref().1));
            super::conn::spawn(tls, info, app);
        });
    }
}
