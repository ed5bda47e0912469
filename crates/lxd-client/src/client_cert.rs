//! The client certificate lxc 5.0.2 generates on first use (`shared.GenerateMemCert` with
//! `client = true`): an ECDSA P-384 key, a self-signed certificate for
//! `O=linuxcontainers.org, CN=<user>@<host>` valid ten years, a random 128-bit serial, key
//! usage digitalSignature + keyEncipherment, extended key usage clientAuth, `CA:FALSE`; the
//! key written as a SEC1 `EC PRIVATE KEY` block as Go's `x509.MarshalECPrivateKey` writes it.
//! Also certificate fingerprints and PEM encoding. Pure: no files are read or written here.

use base64::Engine;
use rcgen::string::PrintableString;
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};
use sha2::{Digest, Sha256};

use crate::tls::TlsError;

/// A generated certificate and its key, both PEM.
#[derive(Debug, Clone)]
pub struct GeneratedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Validity of generated certificates: Go's `10 * 365 * 24 * time.Hour`.
const VALIDITY_HOURS: i64 = 10 * 365 * 24;

/// DER of the secp384r1 curve OID (1.3.132.0.34).
const SECP384R1_OID: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// Generates a client certificate for `common_name` (lxc uses `<user>@<hostname>`).
pub fn generate_client_certificate(common_name: &str) -> Result<GeneratedCertificate, TlsError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
        .map_err(|e| TlsError::KeyGeneration(e.to_string()))?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(
        DnType::OrganizationName,
        go_name_value("linuxcontainers.org"),
    );
    name.push(DnType::CommonName, go_name_value(common_name));
    params.distinguished_name = name;
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(|e| TlsError::KeyGeneration(e.to_string()))?;
    params.not_before = now;
    params.not_after = now + time::Duration::hours(VALIDITY_HOURS);
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    // Go writes a critical, empty basicConstraints (CA:FALSE) and no key identifiers; rcgen's
    // ExplicitNoCa would add a subjectKeyIdentifier, so the extension is written by hand.
    params.is_ca = IsCa::NoCa;
    let mut basic_constraints =
        CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
    basic_constraints.set_criticality(true);
    params.custom_extensions = vec![basic_constraints];
    let cert = params
        .self_signed(&key)
        .map_err(|e| TlsError::KeyGeneration(e.to_string()))?;
    let sec1 = pkcs8_p384_to_sec1(&key.serialize_der())
        .ok_or_else(|| TlsError::KeyGeneration("unexpected PKCS#8 layout".into()))?;
    Ok(GeneratedCertificate {
        cert_pem: pem_encode("CERTIFICATE", cert.der()),
        key_pem: pem_encode("EC PRIVATE KEY", &sec1),
    })
}

/// Go's `pkix.Name` marshalling: PrintableString when the text allows it, else UTF8String.
fn go_name_value(text: &str) -> DnValue {
    match PrintableString::try_from(text) {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(text.to_string()),
    }
}

/// A positive random serial below 2^128, minimally encoded (Go's `rand.Int`).
fn random_serial() -> Vec<u8> {
    let bytes: [u8; 16] = rand::random();
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.is_empty() {
        vec![1]
    } else {
        trimmed
    }
}

/// SHA-256 of a certificate's DER, lower-case hex: LXD's certificate fingerprint.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// PEM armour with 64-column base64 lines, as Go's `pem.Encode` writes it.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Reads one DER element: its tag, its content and what follows it.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Appends a DER element with a definite length.
fn der_push(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
}

/// Turns ring's PKCS#8 P-384 key into SEC1 `ECPrivateKey` with the curve parameters and the
/// public key, the layout of Go's `MarshalECPrivateKey`.
fn pkcs8_p384_to_sec1(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (0x30, info, _) = der_element(pkcs8)? else {
        return None;
    };
    let (0x02, _version, rest) = der_element(info)? else {
        return None;
    };
    let (0x30, _algorithm, rest) = der_element(rest)? else {
        return None;
    };
    let (0x04, inner, _) = der_element(rest)? else {
        return None;
    };
    let (0x30, ec_key, _) = der_element(inner)? else {
        return None;
    };
    let (0x02, _ec_version, mut rest) = der_element(ec_key)? else {
        return None;
    };
    let (0x04, private, after) = der_element(rest)? else {
        return None;
    };
    rest = after;
    let mut public = None;
    while !rest.is_empty() {
        let (tag, content, after) = der_element(rest)?;
        if tag == 0xa1 {
            public = Some(content);
        }
        rest = after;
    }
    let public = public?;
    let mut body = Vec::new();
    der_push(&mut body, 0x02, &[1]);
    der_push(&mut body, 0x04, private);
    der_push(&mut body, 0xa0, &SECP384R1_OID);
    der_push(&mut body, 0xa1, public);
    let mut out = Vec::new();
    der_push(&mut out, 0x30, &body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;

    #[test]
    fn generate_client_certificate_writes_sec1_key_rustls_can_load() {
        let generated = generate_client_certificate("root@host").unwrap();
        assert!(generated
            .key_pem
            .starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        let key = PrivateKeyDer::from_pem_slice(generated.key_pem.as_bytes()).unwrap();
        assert!(matches!(key, PrivateKeyDer::Sec1(_)));
        let der = crate::tls::first_certificate_der(&generated.cert_pem).unwrap();
        let settings = crate::tls::TlsSettings {
            client_cert_pem: Some(generated.cert_pem.clone()),
            client_key_pem: Some(generated.key_pem.clone()),
            ..Default::default()
        };
        crate::tls::client_config(&settings).unwrap();
        assert_eq!(certificate_fingerprint(der.as_ref()).len(), 64);
    }

    #[test]
    fn generate_client_certificate_subject_is_go_encoded() {
        let generated = generate_client_certificate("root@host").unwrap();
        let der = crate::tls::first_certificate_der(&generated.cert_pem).unwrap();
        let der = der.as_ref();
        // O as PrintableString (0x13), CN "root@host" as UTF8String (0x0c): '@' is not printable.
        let org = b"\x13\x13linuxcontainers.org";
        let cn = b"\x0c\x09root@host";
        assert!(der.windows(org.len()).any(|w| w == org));
        assert!(der.windows(cn.len()).any(|w| w == cn));
        // basicConstraints critical with an empty sequence, and no subjectKeyIdentifier.
        let bc = [
            0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00,
        ];
        assert!(der.windows(bc.len()).any(|w| w == bc));
        assert!(!der.windows(3).any(|w| w == [0x55, 0x1d, 0x0e]));
    }

    #[test]
    fn pem_encode_wraps_at_64_columns() {
        let pem = pem_encode("X", &[0u8; 60]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN X-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().copied(), Some("-----END X-----"));
    }

    #[test]
    fn certificate_fingerprint_is_sha256_hex() {
        assert_eq!(
            certificate_fingerprint(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
