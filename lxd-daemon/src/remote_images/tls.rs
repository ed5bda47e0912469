//! TLS for talking to image servers: the system CA store (honouring `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`), an optional pinned server certificate (the `certificate` of an image
//! source, as LXD adds it to its roots), and the daemon's own `server.crt` presented as client
//! certificate when it has one.
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

/// A client configuration for one image server. `pinned_pem` is the server certificate the
/// source named (may be empty).
pub fn client_config(paths: &Paths, pinned_pem: &str) -> Result<Arc<ClientConfig>, RemoteError> {
    let provider = provider();
    let roots = system_roots();
    let pinned = if pinned_pem.trim().is_empty() {
        None
    } else {
        Some(
            CertificateDer::from_pem_slice(pinned_pem.as_bytes())
                .map_err(|_| RemoteError::Tls("Invalid remote certificate".into()))?,
        )
    };
    let webpki = if roots.store.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(roots.store.clone(), provider.clone())
                .build()
                .map_err(|e| RemoteError::Tls(e.to_string()))?,
        )
    };
    let verifier = Arc::new(ImageServerVerifier {
        webpki,
        pinned,
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RemoteError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match own_certificate(paths) {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| RemoteError::Tls(e.to_string()))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
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
