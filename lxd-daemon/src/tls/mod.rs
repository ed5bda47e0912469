//! The daemon's TLS identity and configuration: `server.crt`/`server.key` in `LXD_DIR`
//! (generated on first start as LXD does), and the rustls server config of the HTTPS
//! listener, which asks every client for a certificate, accepts any at the handshake and
//! leaves trust to the per-request check against the trust store.

pub mod client_auth;
pub mod generate;
pub mod x509;

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

/// Why the server certificate could not be loaded or made.
#[derive(Debug, Error)]
pub enum TlsError {
    #[error("Failed to generate a certificate: {0}")]
    Generate(String),
    #[error("Failed to read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Bad certificate or key in {0}")]
    BadPem(String),
    #[error("Failed to set up TLS: {0}")]
    Config(#[from] rustls::Error),
}

impl TlsError {
    fn generate(e: impl std::fmt::Display) -> Self {
        Self::Generate(e.to_string())
    }
}

/// The server certificate as the API shows it, with the rustls config serving it.
pub struct ServerCert {
    /// PEM of the leaf certificate (`environment.certificate`).
    pub pem: String,
    pub der: Vec<u8>,
    /// SHA-256 of the DER (`environment.certificate_fingerprint`).
    pub fingerprint: String,
    pub config: Arc<rustls::ServerConfig>,
}

fn current_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "UNKNOWN".to_string())
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "UNKNOWN".to_string())
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| TlsError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}

impl ServerCert {
    /// Load `server.crt`/`server.key` from `dir`, generating them when either is missing
    /// (LXD's `FindOrGenCert`).
    pub fn load_or_generate(dir: &Path) -> Result<Self, TlsError> {
        let cert_path = dir.join("server.crt");
        let key_path = dir.join("server.key");
        if !cert_path.exists() || !key_path.exists() {
            let host = hostname();
            let pair = generate::generate(&format!("{}@{host}", current_user()), &host, true)?;
            write_file(&cert_path, &pair.cert_pem, 0o644)?;
            write_file(&key_path, &pair.key_pem, 0o600)?;
            tracing::info!(path = %cert_path.display(), "Generated the server certificate");
        }
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| TlsError::Read {
                path: p.display().to_string(),
                source,
            })
        };
        let cert_bytes = read(&cert_path)?;
        let key_bytes = read(&key_path)?;
        let bad = |p: &Path| TlsError::BadPem(p.display().to_string());
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_bytes)
            .collect::<Result<_, _>>()
            .map_err(|_| bad(&cert_path))?;
        let leaf = chain.first().ok_or_else(|| bad(&cert_path))?.to_vec();
        let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|_| bad(&key_path))?;
        let config = server_config(chain, key)?;
        Ok(Self {
            pem: x509::pem_encode("CERTIFICATE", &leaf),
            fingerprint: x509::fingerprint(&leaf),
            der: leaf,
            config,
        })
    }
}

/// TLS 1.2 and 1.3 with the ring provider, requesting (not requiring) a client certificate.
fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    // Deprecated only for lacking post-quantum key exchange, which LXD 5.0.2's Go TLS stack
    // does not offer either.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(client_auth::AnyClientCert::new(provider.clone()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}
