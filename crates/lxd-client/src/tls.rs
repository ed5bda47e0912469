//! TLS settings of HTTPS remotes, as lxc 5.0.2 sets them up (`shared/network.go`): TLS 1.3
//! only (1.2 allowed when `LXD_INSECURE_TLS` is true), the client certificate presented, and
//! the server accepted when its certificate is the pinned one (`servercerts/NAME.crt`) or
//! chains to the system CA store (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured; `client.ca`
//! replaces the store in PKI mode).
//!
//! Also fetches a server's certificate without verifying it, for the fingerprint prompt of
//! `lxc remote add`. This module reads no files: the caller hands it PEM text.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use thiserror::Error;

/// A TLS setting that cannot be used.
#[derive(Debug, Error)]
pub enum TlsError {
    #[error("Invalid client certificate or key: {0}")]
    ClientIdentity(String),
    #[error("Invalid remote certificate")]
    RemoteCertificate,
    #[error("Invalid CA certificate")]
    CaCertificate,
    #[error("Unsupported TLS setup: {0}")]
    Setup(String),
    #[error("Invalid certificate key: {0}")]
    KeyGeneration(String),
}

/// What to present and whom to trust on an HTTPS connection, as PEM text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// `client.crt`: presented to the server (absent for public and simplestreams remotes).
    pub client_cert_pem: Option<String>,
    /// `client.key`, PEM (`EC PRIVATE KEY`, `RSA PRIVATE KEY` or PKCS#8).
    pub client_key_pem: Option<String>,
    /// `servercerts/NAME.crt`: the server certificate accepted as is.
    pub server_cert_pem: Option<String>,
    /// `client.ca`: the only CA trusted (PKI mode) instead of the system store.
    pub ca_pem: Option<String>,
}

/// The crypto provider every connection uses.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            // Deprecated only for lacking post-quantum key exchange, which LXD 5.0.2's Go TLS
            // stack does not offer either; ring keeps the build free of a C toolchain step.
            #[allow(deprecated)]
            let provider = rustls::crypto::ring::default_provider();
            Arc::new(provider)
        })
        .clone()
}

/// True when `LXD_INSECURE_TLS` allows TLS 1.2 (Go's `IsFalseOrEmpty` negated).
fn insecure_tls_allowed() -> bool {
    let value = std::env::var("LXD_INSECURE_TLS").unwrap_or_default();
    !matches!(
        value.to_lowercase().as_str(),
        "" | "false" | "0" | "no" | "off"
    )
}

static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

fn protocol_versions() -> &'static [&'static rustls::SupportedProtocolVersion] {
    if insecure_tls_allowed() {
        rustls::ALL_VERSIONS
    } else {
        TLS13_ONLY
    }
}

/// The first certificate of a PEM text, DER encoded.
pub fn first_certificate_der(pem: &str) -> Option<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .and_then(|c| c.ok())
}

/// Builds the client configuration for one remote.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, TlsError> {
    let pinned = match &settings.server_cert_pem {
        Some(pem) => Some(first_certificate_der(pem).ok_or(TlsError::RemoteCertificate)?),
        None => None,
    };
    let ca = match &settings.ca_pem {
        Some(pem) => {
            let mut store = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|_| TlsError::CaCertificate)?;
                store.add(cert).map_err(|_| TlsError::CaCertificate)?;
            }
            Some(Arc::new(store))
        }
        None => None,
    };
    let verifier = Arc::new(RemoteVerifier::new(pinned, ca));
    let builder = ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(protocol_versions())
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&settings.client_cert_pem, &settings.client_key_pem) {
        (Some(cert), Some(key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|e| TlsError::ClientIdentity(e.to_string()))?;
            if chain.is_empty() {
                return Err(TlsError::ClientIdentity("no certificate".into()));
            }
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| TlsError::ClientIdentity(e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::ClientIdentity(e.to_string()))?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A configuration that accepts any server certificate and records the one presented
/// (`shared.GetRemoteCertificate`).
pub fn certificate_fetch_config() -> Result<(Arc<ClientConfig>, PeerCertificateSlot), TlsError> {
    let slot = PeerCertificateSlot::default();
    let verifier = Arc::new(RecordingVerifier {
        slot: slot.clone(),
        algorithms: crypto_provider().signature_verification_algorithms,
    });
    let mut config = ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(protocol_versions())
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), slot))
}

/// Where [`certificate_fetch_config`] leaves the server's certificate.
#[derive(Debug, Clone, Default)]
pub struct PeerCertificateSlot(Arc<Mutex<Option<CertificateDer<'static>>>>);

impl PeerCertificateSlot {
    /// The certificate the server presented, if the handshake got that far.
    pub fn take(&self) -> Option<CertificateDer<'static>> {
        self.0.lock().ok().and_then(|mut c| c.take())
    }
}

/// The system CA store (absent when empty) and the DER of each certificate in it.
type SystemStore = (Option<Arc<RootCertStore>>, HashSet<Vec<u8>>);

/// The system store, loaded once per process and only when a server is not pinned.
fn system_store() -> &'static SystemStore {
    static ROOTS: OnceLock<SystemStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        let loaded = rustls_native_certs::load_native_certs();
        let ders = loaded.certs.iter().map(|c| c.as_ref().to_vec()).collect();
        let (_added, _ignored) = store.add_parsable_certificates(loaded.certs);
        ((!store.is_empty()).then(|| Arc::new(store)), ders)
    })
}

fn system_roots() -> Option<Arc<RootCertStore>> {
    system_store().0.clone()
}

/// True when `cert` is itself in the system store: Go's verifier accepts such a self-signed
/// certificate (a test server trusted through `SSL_CERT_FILE`), webpki does not.
fn in_system_store(cert: &CertificateDer<'_>) -> bool {
    system_store().1.contains(cert.as_ref())
}

/// Accepts the pinned certificate, else what the CA store (system or `client.ca`) accepts.
#[derive(Debug)]
struct RemoteVerifier {
    pinned: Option<CertificateDer<'static>>,
    ca: Option<Arc<RootCertStore>>,
    chain_verifier: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl RemoteVerifier {
    fn new(pinned: Option<CertificateDer<'static>>, ca: Option<Arc<RootCertStore>>) -> Self {
        Self {
            pinned,
            ca,
            chain_verifier: OnceLock::new(),
            algorithms: crypto_provider().signature_verification_algorithms,
        }
    }

    fn chain_verifier(&self) -> Option<Arc<WebPkiServerVerifier>> {
        self.chain_verifier
            .get_or_init(|| {
                let roots = match &self.ca {
                    Some(ca) => Some(ca.clone()),
                    None => system_roots(),
                }?;
                WebPkiServerVerifier::builder_with_provider(roots, crypto_provider())
                    .build()
                    .ok()
            })
            .clone()
    }
}

impl ServerCertVerifier for RemoteVerifier {
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
        match self.chain_verifier() {
            Some(v) => {
                match v.verify_server_cert(
                    end_entity,
                    intermediates,
                    server_name,
                    ocsp_response,
                    now,
                ) {
                    Err(err) if self.ca.is_none() && in_system_store(end_entity) => {
                        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                        rustls::client::verify_server_name(&parsed, server_name)
                            .map_err(|_| err)?;
                        Ok(ServerCertVerified::assertion())
                    }
                    verified => verified,
                }
            }
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
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

/// Accepts any certificate (the handshake signature is still checked) and records it.
#[derive(Debug)]
struct RecordingVerifier {
    slot: PeerCertificateSlot,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut slot) = self.slot.0.lock() {
            *slot = Some(end_entity.clone().into_owned());
        }
        Ok(ServerCertVerified::assertion())
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

/// Go's wording of a failed TLS handshake (`x509: ...`, `tls: ...`).
pub fn go_tls_error_text(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => match c {
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => {
                "x509: certificate has expired or is not yet valid".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "x509: certificate is not valid for the requested name".into()
            }
            _ => "x509: certificate signed by unknown authority".into(),
        },
        E::AlertReceived(alert) => {
            format!("remote error: tls: {}", format!("{alert:?}").to_lowercase())
        }
        other => format!("tls: {}", lower_first(&other.to_string())),
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_lowercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_config_with_garbage_pinned_certificate_is_refused() {
        let settings = TlsSettings {
            server_cert_pem: Some("not a certificate".into()),
            ..TlsSettings::default()
        };
        assert!(matches!(
            client_config(&settings),
            Err(TlsError::RemoteCertificate)
        ));
    }

    #[test]
    fn go_tls_error_text_unknown_issuer_reads_as_go() {
        let e = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(
            go_tls_error_text(&e),
            "x509: certificate signed by unknown authority"
        );
    }
}
