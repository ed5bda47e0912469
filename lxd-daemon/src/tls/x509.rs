//! Certificate helpers: SHA-256 fingerprints, PEM armour, and the facts LXD checks before it
//! trusts a certificate (validity period, RSA key size, common name). Pure functions over DER.

use base64::Engine;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// The SHA-256 of a certificate's DER encoding, lower-case hex (LXD's `CertFingerprint`).
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// PEM-encode one DER block as Go's `pem.EncodeToMemory` does (64-column lines).
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER of the first `CERTIFICATE` block of a PEM text (Go's `pem.Decode` then a type check).
pub fn pem_certificate_der(text: &str) -> Option<Vec<u8>> {
    let start = text.find("-----BEGIN CERTIFICATE-----")?;
    let body = &text[start + "-----BEGIN CERTIFICATE-----".len()..];
    let end = body.find("-----END CERTIFICATE-----")?;
    let b64: String = body[..end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Decode standard base64 with Go's error text (`illegal base64 data at input byte N`).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    use base64::DecodeError;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| {
            let at = match e {
                DecodeError::InvalidByte(i, _) | DecodeError::InvalidLastSymbol(i, _) => i,
                DecodeError::InvalidLength(n) => n - n % 4,
                DecodeError::InvalidPadding => text.find('=').unwrap_or(text.len()),
            };
            format!("illegal base64 data at input byte {at}")
        })
}

/// What the trust store needs to know about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    pub common_name: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// Bits of an RSA public key; `None` for other key types.
    pub rsa_bits: Option<usize>,
}

/// Parse a DER certificate (`x509: malformed certificate` when it is not one).
pub fn facts(der: &[u8]) -> Result<CertFacts, String> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|_| "x509: malformed certificate".to_string())?;
    if !rest.is_empty() {
        return Err("x509: trailing data".into());
    }
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_string();
    let rsa_bits = match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(rsa.key_size()),
        _ => None,
    };
    Ok(CertFacts {
        common_name,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        rsa_bits,
    })
}

/// LXD's `certificateValidate`: refuse certificates outside their validity period and RSA
/// keys under 2048 bits.
pub fn validate(facts: &CertFacts, now: i64) -> Result<(), String> {
    if now < facts.not_before {
        return Err("The provided certificate isn't valid yet".into());
    }
    if now > facts.not_after {
        return Err("The provided certificate is expired".into());
    }
    if facts.rsa_bits.is_some_and(|b| b < 2048) {
        return Err("RSA key is too weak (minimum of 2048bit)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_base64_reports_go_offsets() {
        assert_eq!(
            decode_base64("notbase64!!").unwrap_err(),
            "illegal base64 data at input byte 9"
        );
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
    }

    #[test]
    fn pem_round_trip_and_fingerprint() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x01];
        let pem = pem_encode("CERTIFICATE", &der);
        assert_eq!(
            pem,
            "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"
        );
        assert_eq!(pem_certificate_der(&pem).unwrap(), der);
        assert_eq!(fingerprint(b"").len(), 64);
        assert!(facts(&der).is_err());
    }

    #[test]
    fn validate_checks_period_and_rsa_size() {
        let f = CertFacts {
            common_name: "x".into(),
            not_before: 100,
            not_after: 200,
            rsa_bits: Some(1024),
        };
        assert_eq!(
            validate(&f, 50).unwrap_err(),
            "The provided certificate isn't valid yet"
        );
        assert_eq!(
            validate(&f, 300).unwrap_err(),
            "The provided certificate is expired"
        );
        assert_eq!(
            validate(&f, 150).unwrap_err(),
            "RSA key is too weak (minimum of 2048bit)"
        );
        let ec = CertFacts {
            rsa_bits: None,
            ..f
        };
        assert!(validate(&ec, 150).is_ok());
    }
}
