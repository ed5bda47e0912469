//! One HTTP/1.1 connection: the connection's identity attached to every request, websocket
//! upgrades enabled. Shared by the UNIX socket and the HTTPS listener.

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tower::ServiceExt;

use crate::api::caller::ConnInfo;

/// Serve `app` on `io` in a new task until the client goes away.
pub fn spawn<I>(io: I, info: ConnInfo, app: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(info.clone());
            app.clone().oneshot(req)
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "Connection ended with an error");
        }
    });
}
