//! The accept loop of the UNIX socket: one HTTP/1.1 connection per client, with its peer
//! credentials attached to every request.

use axum::Router;
use tokio::net::UnixListener;
use tokio::sync::watch;

use crate::api::caller::ConnInfo;

/// Serve `app` on `listener` until `stop` turns true.
pub async fn serve(listener: UnixListener, app: Router, mut stop: watch::Receiver<bool>) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "Accept failed");
                    continue;
                }
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let info = match stream.peer_cred() {
            Ok(cred) => ConnInfo {
                uid: Some(cred.uid()),
                gid: Some(cred.gid()),
                pid: cred.pid(),
                ..ConnInfo::unix()
            },
            Err(_) => ConnInfo::unix(),
        };
        super::conn::spawn(stream, info, app.clone());
    }
}
