//! Dialling the other server's migration websockets (pull mode on a target, push mode on a
//! source): `wss://<host>/1.0/operations/<id>/websocket?secret=<secret>` over TLS, the server
//! accepted when it presents exactly the certificate the request carried (LXD pins it as the
//! only root), or one the system CA store accepts when none was given. No client certificate
//! is presented: the secret is the credential, as in LXD.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::conn::Conn;

/// LXD's websocket handshake timeout.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

fn tls_config(certificate_pem: &str) -> Result<Arc<ClientConfig>, String> {
    crate::remote_images::tls::migration_config(certificate_pem).map_err(|e| e.to_string())
}

/// `https://host:port/1.0/operations/<id>` → (`host:port`, `wss://.../websocket?secret=S`).
pub fn websocket_url(operation: &str, secret: &str) -> Result<(String, String), String> {
    let rest = operation
        .strip_prefix("https://")
        .ok_or_else(|| format!("Unsupported operation URL {operation:?}"))?;
    let host = rest.split('/').next().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err(format!("Unsupported operation URL {operation:?}"));
    }
    Ok((host, format!("wss://{rest}/websocket?secret={secret}")))
}

/// The TLS name to ask for: the host's IP address or name (without port or brackets).
fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let bare = bare.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).map_err(|e| e.to_string())
}

/// Connect to websocket `secret` of the operation at `operation`.
pub async fn dial(operation: &str, secret: &str, certificate_pem: &str) -> Result<Conn, String> {
    let (host, url) = websocket_url(operation, secret)?;
    let config = tls_config(certificate_pem)?;
    let name = server_name(&host)?;
    let addr = if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host.clone()
    } else {
        format!("{host}:8443")
    };
    let connect = async {
        let tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|e| format!("dial tcp {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("tls: {e}"))?;
        let request = url.into_client_request().map_err(|e| e.to_string())?;
        let (ws, _) = tokio_tungstenite::client_async(request, tls)
            .await
            .map_err(|e| format!("websocket: {e}"))?;
        Ok::<_, String>(ws)
    };
    let ws = tokio::time::timeout(HANDSHAKE_TIMEOUT, connect)
        .await
        .map_err(|_| "websocket: i/o timeout".to_string())??;
    Ok(Conn::from_client(ws))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_url_mangles_https_operation_url() {
        let (host, url) =
            websocket_url("https://127.0.0.1:8443/1.0/operations/abc", "s3cr3t").unwrap();
        assert_eq!(host, "127.0.0.1:8443");
        assert_eq!(
            url,
            "wss://127.0.0.1:8443/1.0/operations/abc/websocket?secret=s3cr3t"
        );
        assert!(websocket_url("/1.0/operations/abc", "s").is_err());
    }

    #[test]
    fn server_name_strips_port_and_brackets() {
        assert_eq!(
            server_name("[::1]:8443").unwrap(),
            ServerName::try_from("::1").unwrap()
        );
        assert_eq!(
            server_name("example.com").unwrap(),
            ServerName::try_from("example.com").unwrap()
        );
    }

    #[test]
    fn tls_config_refuses_bad_pem() {
        let err = tls_config("garbage").unwrap_err();
        assert!(err.contains("Invalid remote certificate"), "{err}");
    }
}
