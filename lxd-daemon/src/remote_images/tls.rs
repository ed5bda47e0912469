//! TLS for the daemon's connections to other servers. Image servers (and push mode targets):
//! the system CA store (honouring `SSL_CERT_FILE` and `SSL_CERT_DIR`), an optional pinned
//! server certificate (the `certificate` of an image source, as LXD adds it to its roots), and
//! the daemon's own `server.crt` presented as client certificate when it has one. Migration
//! websockets: the pinned certificate alone, or the system store when none is given.
//!
//! `lxd-client` has the client's counterpart; the daemon may not depend on that crate.
//!
//! Like Go's verifier, a self-signed certificate that is itself in the trust store is accepted
//! for the names it carries (webpki alone refuses a CA certificate used as end entity, which
//! is what `openssl req -x509` produces).

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::RemoteError;
use crate::paths::Paths;

/// The system trust store, loaded once per process.
struct SystemRoots {
    store: Arc<RootCertStore>,
    /// DER of every loaded certificate, for the self-signed-in-store case.
    ders: HashSet<Vec<u8>>,
}

fn system_roots() -> &'static SystemRoots {
    static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::warn!(error = %error, "Failed to load a system CA certificate");
        }
        let mut store = RootCertStore::empty();
        let mut ders = HashSet::new();
        for cert in loaded.certs {
            ders.insert(cert.as_ref().to_vec());
            let _ = store.add(cert);
        }
        SystemRoots {
            store: Arc::new(store),
            ders,
        }
    })
}

/// The ring provider: no C toolchain beyond what ring needs (aws-lc-rs wants cmake). rustls
/// deprecated it only for lacking post-quantum key exchange, which image downloads can miss.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn parse_pinned(pinned_pem: &str) -> Result<Option<CertificateDer<'static>>, RemoteError> {
    if pinned_pem.trim().is_empty() {
        return Ok(None);
    }
    CertificateDer::from_pem_slice(pinned_pem.as_bytes())
        .map(Some)
        .map_err(|_| RemoteError::Tls("Invalid remote certificate".into()))
}

fn system_verifier(
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<WebPkiServerVerifier>>, RemoteError> {
    let roots = system_roots();
    if roots.store.is_empty() {
        return Ok(None);
    }
    WebPkiServerVerifier::builder_with_provider(roots.store.clone(), provider.clone())
        .build()
        .map(Some)
        .map_err(|e| RemoteError::Tls(e.to_string()))
}

fn build(
    provider: Arc<CryptoProvider>,
    verifier: ImageServerVerifier,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<Arc<ClientConfig>, RemoteError> {
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RemoteError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| RemoteError::Tls(e.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration for one image server (or a push mode target). `pinned_pem` is the
/// server certificate the source named (may be empty); the system roots are trusted too.
pub fn client_config(paths: &Paths, pinned_pem: &str) -> Result<Arc<ClientConfig>, RemoteError> {
    let provider = provider();
    let verifier = ImageServerVerifier {
        webpki: system_verifier(&provider)?,
        pinned: parse_pinned(pinned_pem)?,
        algorithms: provider.signature_verification_algorithms,
    };
    build(provider, verifier, own_certificate(paths))
}

/// A configuration for another server's migration websockets: a certificate given in the
/// request is the only one accepted (LXD makes it the sole root), else the system roots
/// decide. No client certificate: the websocket secret is the credential.
pub fn migration_config(pinned_pem: &str) -> Result<Arc<ClientConfig>, RemoteError> {
    let provider = provider();
    let pinned = parse_pinned(pinned_pem)?;
    let webpki = match pinned {
        Some(_) => None,
        None => system_verifier(&provider)?,
    };
    let verifier = ImageServerVerifier {
        webpki,
        pinned,
        algorithms: provider.signature_verification_algorithms,
    };
    build(provider, verifier, None)
}

/// `server.crt` and `server.key` of `LXD_DIR`, when both are there and readable.
fn own_certificate(
    paths: &Paths,
) -> Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let cert_path = paths.var.join("server.crt");
    let key_path = paths.var.join("server.key");
    if !cert_path.exists() || !key_path.exists() {
        return None;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .ok()?
        .filter_map(Result::ok)
        .collect();
    let key = PrivateKeyDer::from_pem_file(&key_path).ok()?;
    (!chain.is_empty()).then_some((chain, key))
}

/// Accepts the pinned certificate, anything the system roots vouch for, and a certificate that
/// is itself one of the system roots (valid for the name asked).
#[derive(Debug)]
struct ImageServerVerifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    pinned: Option<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ImageServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .as_ref()
            .is_some_and(|p| p.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        let Some(webpki) = &self.webpki else {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Ok(ok) => Ok(ok),
            Err(err) if system_roots().ders.contains(end_entity.as_ref()) => {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name).map_err(|_| err)?;
                Ok(ServerCertVerified::assertion())
            }
            Err(err) => Err(err),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
