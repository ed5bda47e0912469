//! The HTTPS transport against an in-process TLS server on 127.0.0.1: the client certificate
//! is presented, a pinned server certificate is accepted and any other refused with Go's
//! `x509: certificate signed by unknown authority`, a CA-signed server is accepted through
//! `SSL_CERT_FILE` alone, and the unverified fetch returns the server's certificate.

use std::sync::{Arc, Mutex, OnceLock};

use lxd_client::client_cert::{certificate_fingerprint, generate_client_certificate};
use lxd_client::tls::{client_config, crypto_provider, first_certificate_der, TlsSettings};
use lxd_client::trust::fetch_server_certificate;
use lxd_client::{Client, Connector, HttpsEndpoint};
use rcgen::{CertificateParams, IsCa, Issuer, KeyPair};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A test CA, written to a file that `SSL_CERT_FILE` names for the whole test process (set
/// before any test loads the system store).
struct TestCa {
    cert_pem: String,
    key: KeyPair,
    params: CertificateParams,
}

fn test_ca() -> &'static TestCa {
    static CA: OnceLock<TestCa> = OnceLock::new();
    CA.get_or_init(|| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let path =
            std::env::temp_dir().join(format!("lxd-client-test-ca-{}.pem", std::process::id()));
        std::fs::write(&path, cert.pem()).unwrap();
        // Set once, before any test loads the system store (every TLS test calls this first).
        std::env::set_var("SSL_CERT_FILE", &path);
        std::env::remove_var("SSL_CERT_DIR");
        TestCa {
            cert_pem: cert.pem(),
            key,
            params,
        }
    })
}

/// A server certificate for 127.0.0.1: self-signed, or signed by the test CA.
fn server_identity(ca_signed: bool) -> (String, String) {
    let ca = test_ca();
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = if ca_signed {
        let issuer = Issuer::new(ca.params.clone(), &ca.key);
        params.signed_by(&key, &issuer).unwrap()
    } else {
        params.self_signed(&key).unwrap()
    };
    (cert.pem(), key.serialize_pem())
}

/// Accepts any client certificate and records it.
#[derive(Debug, Default)]
struct RecordingClientVerifier {
    seen: Mutex<Option<Vec<u8>>>,
}

impl ClientCertVerifier for RecordingClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        *self.seen.lock().unwrap() = Some(end_entity.to_vec());
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &crypto_provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &crypto_provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        crypto_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

const SERVER_BODY: &str = r#"{"type":"sync","status":"Success","status_code":200,"operation":"","error_code":0,"error":"","metadata":{"api_extensions":[],"api_status":"stable","api_version":"1.0","auth":"trusted","public":false,"auth_methods":["tls"]}}"#;

/// Serves `GET /1.0` over TLS on 127.0.0.1 for as many connections as come; returns the
/// URL and the client verifier that saw the client's certificate.
async fn serve(cert_pem: &str, key_pem: &str) -> (String, Arc<RecordingClientVerifier>) {
    let verifier = Arc::new(RecordingClientVerifier::default());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier.clone())
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{SERVER_BODY}",
                    SERVER_BODY.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, verifier)
}

fn client(url: &str, settings: &TlsSettings) -> Client {
    let config = client_config(settings).unwrap();
    Client::new(Connector::Https(HttpsEndpoint::new(url, config).unwrap()))
}

fn client_identity() -> TlsSettings {
    let generated = generate_client_certificate("tester@host").unwrap();
    TlsSettings {
        client_cert_pem: Some(generated.cert_pem),
        client_key_pem: Some(generated.key_pem),
        ..TlsSettings::default()
    }
}

#[tokio::test]
async fn https_pinned_server_accepts_and_sees_client_certificate() {
    test_ca();
    let (cert, key) = server_identity(false);
    let (url, seen) = serve(&cert, &key).await;
    let mut settings = client_identity();
    settings.server_cert_pem = Some(cert);
    let (server, _) = client(&url, &settings).get_server_raw().await.unwrap();
    assert_eq!(server["auth"], "trusted");
    let presented = seen
        .seen
        .lock()
        .unwrap()
        .clone()
        .expect("no client certificate");
    let ours = first_certificate_der(settings.client_cert_pem.as_deref().unwrap()).unwrap();
    assert_eq!(
        certificate_fingerprint(&presented),
        certificate_fingerprint(ours.as_ref())
    );
}

#[tokio::test]
async fn https_unpinned_self_signed_server_is_refused_as_go_words_it() {
    test_ca();
    let (cert, key) = server_identity(false);
    let (url, _) = serve(&cert, &key).await;
    let e = client(&url, &client_identity())
        .get_server_raw()
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("Get \"{url}/1.0\": x509: certificate signed by unknown authority")
    );
}

#[tokio::test]
async fn https_other_pinned_certificate_is_refused() {
    test_ca();
    let (cert, key) = server_identity(false);
    let (other, _) = server_identity(false);
    let (url, _) = serve(&cert, &key).await;
    let mut settings = client_identity();
    settings.server_cert_pem = Some(other);
    let e = client(&url, &settings).get_server_raw().await.unwrap_err();
    assert!(
        e.to_string()
            .ends_with("x509: certificate signed by unknown authority"),
        "{e}"
    );
}

#[tokio::test]
async fn https_ca_signed_server_is_trusted_through_ssl_cert_file() {
    let ca = test_ca();
    assert!(ca.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let (cert, key) = server_identity(true);
    let (url, _) = serve(&cert, &key).await;
    let (server, _) = client(&url, &TlsSettings::default())
        .get_server_raw()
        .await
        .unwrap();
    assert_eq!(server["api_version"], "1.0");
}

#[tokio::test]
async fn fetch_server_certificate_returns_the_presented_certificate() {
    test_ca();
    let (cert, key) = server_identity(false);
    let (url, _) = serve(&cert, &key).await;
    let fetched = fetch_server_certificate(&url).await.unwrap();
    assert_eq!(fetched, first_certificate_der(&cert).unwrap());
}

#[tokio::test]
async fn https_closed_port_reads_as_go_dial_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("https://127.0.0.1:{port}");
    let e = client(&url, &TlsSettings::default())
        .get_server_raw()
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("Get \"{url}/1.0\": Unable to connect to: 127.0.0.1:{port} ([dial tcp 127.0.0.1:{port}: connect: connection refused])")
    );
}
