//! Generating a certificate and key as LXD's `GenerateMemCert` does: ECDSA P-384, subject
//! `O=linuxcontainers.org, CN=<user>@<host>`, ten years of validity, a random 128-bit serial,
//! key usage digital signature + key encipherment, and for a server the host name, 127.0.0.1
//! and ::1 as subject alternative names. The key is written as a SEC1 `EC PRIVATE KEY`.

use std::net::IpAddr;

use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber, PKCS_ECDSA_P384_SHA384,
};

use super::TlsError;

/// A freshly generated certificate and key, PEM-encoded.
pub struct GeneratedPair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// `secp384r1`'s OID, DER-encoded with its tag.
const SECP384R1_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// Generate a self-signed pair; `server` adds the host names and the ServerAuth usage
/// (ClientAuth otherwise), as LXD's server and client certificates differ.
pub fn generate(
    common_name: &str,
    hostname: &str,
    server: bool,
) -> Result<GeneratedPair, TlsError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(TlsError::generate)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "linuxcontainers.org");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now;
    params.not_after = now + time::Duration::hours(10 * 365 * 24);
    let mut serial = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut serial);
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    // Basic constraints CA:FALSE, critical, without the subject key identifier rcgen adds
    // for its own "explicit no CA" mode (Go writes none).
    params.is_ca = IsCa::NoCa;
    let mut basic = CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
    basic.set_criticality(true);
    params.custom_extensions.push(basic);
    if server {
        params.subject_alt_names.push(SanType::DnsName(
            hostname.try_into().map_err(TlsError::generate)?,
        ));
        for ip in ["127.0.0.1", "::1"] {
            let ip: IpAddr = ip.parse().map_err(TlsError::generate)?;
            params.subject_alt_names.push(SanType::IpAddress(ip));
        }
    }
    let cert = params.self_signed(&key).map_err(TlsError::generate)?;
    let sec1 = sec1_from_pkcs8(key.serialized_der(), key.public_key_raw())
        .ok_or_else(|| TlsError::generate("unexpected PKCS#8 layout"))?;
    Ok(GeneratedPair {
        cert_pem: super::x509::pem_encode("CERTIFICATE", cert.der()),
        key_pem: super::x509::pem_encode("EC PRIVATE KEY", &sec1),
    })
}

/// One DER TLV at the start of `data`: (tag, value, rest).
fn read_tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    let first = *data.get(1)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        let bytes = data.get(2..2 + n)?;
        (
            bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize),
            2 + n,
        )
    };
    let value = data.get(header..header + len)?;
    Some((tag, value, &data[header + len..]))
}

fn write_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// Rewrite a PKCS#8 P-384 key as SEC1 `ECPrivateKey` with the named curve and public key,
/// as Go's `x509.MarshalECPrivateKey` writes it.
fn sec1_from_pkcs8(pkcs8: &[u8], public_point: &[u8]) -> Option<Vec<u8>> {
    let (_, outer, _) = read_tlv(pkcs8)?;
    let (_, _version, rest) = read_tlv(outer)?;
    let (_, _algorithm, rest) = read_tlv(rest)?;
    let (tag, inner_octets, _) = read_tlv(rest)?;
    if tag != 0x04 {
        return None;
    }
    let (_, ec_key, _) = read_tlv(inner_octets)?;
    let (_, _ec_version, rest) = read_tlv(ec_key)?;
    let (tag, private, _) = read_tlv(rest)?;
    if tag != 0x04 {
        return None;
    }
    let mut bit_string = vec![0u8];
    bit_string.extend_from_slice(public_point);
    let mut body = write_tlv(0x02, &[1]);
    body.extend(write_tlv(0x04, private));
    body.extend(write_tlv(0xa0, SECP384R1_OID));
    body.extend(write_tlv(0xa1, &write_tlv(0x03, &bit_string)));
    Some(write_tlv(0x30, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;

    #[test]
    fn generate_server_pair_is_lxd_shaped_and_loadable() {
        let pair = generate("root@host", "host", true).unwrap();
        assert!(pair.key_pem.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        let der = super::super::x509::pem_certificate_der(&pair.cert_pem).unwrap();
        let facts = super::super::x509::facts(&der).unwrap();
        assert_eq!(facts.common_name, "root@host");
        let years = (facts.not_after - facts.not_before) / (365 * 24 * 3600);
        assert_eq!(years, 10);
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(pair.key_pem.as_bytes()).unwrap();
        assert!(matches!(key, rustls_pki_types::PrivateKeyDer::Sec1(_)));
        rustls::crypto::ring::sign::any_supported_type(&key).expect("rustls loads the SEC1 key");
    }
}
